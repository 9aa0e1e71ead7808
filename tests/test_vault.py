"""A vaulted `spse_change_hmac_key` in the inventory is used, with `--vault-password-file`.

A real capture of this machine over the local connection (sudo as root).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

BIN = Path(sys.executable).parent
KEY = "a" * 64


@pytest.mark.skipif(os.geteuid() != 0, reason="captures this machine with sudo: run as root")
def test_vaulted_key_hashes_the_secrets(tmp_path: Path) -> None:
    (tmp_path / "pw").write_text("vault-pass\n")
    vaulted = subprocess.run(
        [str(BIN / "ansible-vault"), "encrypt_string", "--vault-password-file", str(tmp_path / "pw"),
         KEY, "--name", "spse_change_hmac_key"], capture_output=True, text=True, check=True).stdout
    conf = tmp_path / "appserv" / "spse" / "webapp" / "conf" / "application.conf"
    conf.parent.mkdir(parents=True)
    conf.write_text("http.port=9009\ndb.pass=Vault-Test-S3cret\n")
    host_vars = "\n".join("      " + line for line in vaulted.splitlines())
    (tmp_path / "inventory.yml").write_text(f"""all:
  hosts:
    localhost:
      ansible_connection: local
      ansible_python_interpreter: "{{{{ ansible_playbook_python }}}}"
      spse_baseline_appserv_root: {tmp_path / "appserv"}
{host_vars}
  children:
    spse_app:
      hosts:
        localhost:
""")
    base = [str(BIN / "spse-change"), "--project", str(tmp_path)]
    proc = subprocess.run([*base, "baseline", "capture", "-i", str(tmp_path / "inventory.yml"),
                           "--vault-password-file", str(tmp_path / "pw"), "--json"],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    baseline = json.loads(Path(json.loads(proc.stdout)["stored"]["localhost"]).read_text())
    marker = baseline["data"]["config"][str(conf)]["parsed"]["db.pass"]
    expected = hmac.new(KEY.encode(), b"Vault-Test-S3cret", hashlib.sha256).hexdigest()[:32]
    assert marker == f"secret:hmac-sha256:{expected}"
    assert not (tmp_path / ".spse-change" / "hmac.key").exists() or KEY not in (
        tmp_path / ".spse-change" / "hmac.key").read_text()
    wrong = subprocess.run([*base, "baseline", "capture", "-i", str(tmp_path / "inventory.yml")],
                           capture_output=True, text=True, timeout=300)
    assert wrong.returncode == 1, wrong.stderr  # the host fails, named, with the reason
    assert "localhost: failed" in wrong.stderr and "no vault secrets" in wrong.stderr
