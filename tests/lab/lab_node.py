"""SPSE test lab, execution node: ansible-runner inside a lab host, and the control machine cut off.

The lab has no network to PyPI, so the node is prepared the way docs/nodes.md
tells an LPSE to do it offline: the control machine downloads the wheels of
its own ansible-core and ansible-runner (``pip download``, cached in
``WHEELS``), they are copied into the host and installed into a venv there
(``python3 -m venv --without-pip``, then pip run from its wheel), and the
commands are linked into /usr/local/bin, on the PATH of SSH commands.

The node reaches the other hosts the way the lab inventory says (its key,
known_hosts and ControlPath folder, at the same paths as on the control
machine: "configured once on it").
"""

from __future__ import annotations

import contextlib
import io
import subprocess
import sys
import tarfile
from collections.abc import Iterator
from importlib.metadata import version
from pathlib import Path

from lab_base import run

WHEELS = Path("/var/tmp/spse-lab-wheels")
VENV = "/opt/spse-runner"
COMMANDS = ("ansible-runner", "ansible", "ansible-playbook", "ansible-config", "ansible-inventory")


def requirements() -> list[str]:
    """The control machine's own versions: the node must run the same series."""
    return [f"ansible-core=={version('ansible-core')}", f"ansible-runner=={version('ansible-runner')}"]


def wheels() -> Path:
    """The wheels for the node (downloaded once per version pair, then reused)."""
    folder = WHEELS / "-".join(r.partition("==")[2] for r in requirements())
    if not (folder / ".complete").exists():
        folder.mkdir(parents=True, exist_ok=True)
        run([sys.executable, "-m", "pip", "download", "-q", "--only-binary=:all:", "--dest", str(folder),
             *requirements(), "pip"])
        (folder / ".complete").touch()
    return folder


def make_node(lab, name: str) -> None:
    """Install ansible-runner and ansible-core into lab host `name`, and give it the lab's SSH access."""
    if lab.exec(name, ["test", "-x", "/usr/local/bin/ansible-runner"], check=False).returncode == 0:
        return
    folder = wheels()
    archive = io.BytesIO()
    with tarfile.open(fileobj=archive, mode="w") as tar:
        tar.add(folder, arcname="wheels")
        for path in (lab.key, lab.known_hosts):
            tar.add(path, arcname=f"ssh/{path.name}")
    subprocess.run(lab.exec_argv(name, ["tar", "-x", "-C", "/var/tmp"]), input=archive.getvalue(),
                   check=True, capture_output=True)
    pip = next((folder).glob("pip-*.whl")).name
    lab.exec(name, ["python3", "-m", "venv", "--without-pip", VENV])
    lab.exec(name, [f"{VENV}/bin/python", f"/var/tmp/wheels/{pip}/pip", "install", "-q", "--no-index",
                    "--find-links", "/var/tmp/wheels", *requirements()])
    lab.exec(name, ["ln", "-sf", *(f"{VENV}/bin/{cmd}" for cmd in COMMANDS), "/usr/local/bin/"])
    lab.exec(name, ["mkdir", "-p", f"{lab.dir}/cp"])
    lab.exec(name, ["cp", f"/var/tmp/ssh/{lab.key.name}", f"/var/tmp/ssh/{lab.known_hosts.name}",
                    str(lab.dir)])
    lab.exec(name, ["chown", "-R", "ansible:", str(lab.dir)])
    lab.exec(name, ["chmod", "700", str(lab.dir)])
    lab.exec(name, ["rm", "-rf", "/var/tmp/wheels", "/var/tmp/ssh"])


def ssh_config(lab, names: list[str], path: Path) -> Path:
    """An ssh_config for the control machine naming lab hosts by their names (node aliases)."""
    path.write_text("".join(f"""Host {name}
    HostName {lab.hosts[name].ip}
    User ansible
    IdentityFile {lab.key}
    IdentitiesOnly yes
    UserKnownHostsFile {lab.known_hosts}
    StrictHostKeyChecking yes
    ControlMaster auto
    ControlPath {lab.dir}/cp/node-%C
    ControlPersist 60s
""" for name in names), encoding="utf-8")
    return path


@contextlib.contextmanager
def cut_off(lab, names: list[str]) -> Iterator[None]:
    """The control machine has no route to these hosts while the block runs (restored after)."""
    addresses = [f"{lab.hosts[n].ip}/32" for n in names]
    try:
        for address in addresses:
            run(["ip", "route", "add", "prohibit", address])
        yield
    finally:
        for address in addresses:
            run(["ip", "route", "del", "prohibit", address], check=False)
