"""CLI contract: user errors are one line and exit 2; read commands speak JSON."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from spse_change.cli.main import main
from spse_change.store.baselines import BaselineStore, new_baseline

BIN = Path(sys.executable).parent


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    try:
        rc = main(list(args))
    except SystemExit as exc:  # argparse
        rc = int(exc.code or 0)
    out, err = capsys.readouterr()
    return rc, out, err


def test_bad_reference_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, err = run(capsys, "--project", str(tmp_path), "baseline", "show", "db1@latest")
    assert rc == 2 and out == ""
    assert err.strip().splitlines() == [
        f"spse-change: no baselines for host 'db1' in {tmp_path}/change_records/baselines"]


def test_unknown_option_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    rc, _, err = run(capsys, "baseline", "capture", "--bogus")
    assert rc == 2 and "unrecognized arguments: --bogus" in err


def test_empty_store_lists_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, _ = run(capsys, "--project", str(tmp_path), "baseline", "list", "--json")
    assert rc == 0 and json.loads(out) == []


def test_missing_project_folder(capsys: pytest.CaptureFixture[str]) -> None:
    rc, _, err = run(capsys, "--project", "/no/such/dir", "baseline", "list")
    assert rc == 2 and "project folder not found: /no/such/dir" in err


def spse_change(*args: str, **kwargs: Any) -> subprocess.Popen[str]:
    return subprocess.Popen([str(BIN / "spse-change"), *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, **kwargs)


def test_a_reader_that_goes_away_ends_us_quietly(tmp_path: Path) -> None:
    """`spse-change baseline list | head -1` once head has exited: the pipe has no reader."""
    BaselineStore(tmp_path / "change_records").save(new_baseline("db1", {"data": {}}))
    read, write = os.pipe()
    os.close(read)
    with open(write, "w") as gone:
        proc = subprocess.run([str(BIN / "spse-change"), "--project", str(tmp_path), "baseline", "list"],
                              stdout=gone, stderr=subprocess.PIPE, text=True, timeout=60)
    assert (proc.returncode, proc.stderr) == (141, "")


@pytest.mark.parametrize("sig, words", [(signal.SIGINT, "interrupted"),
                                        (signal.SIGTERM, "terminated")])
def test_a_signal_at_a_prompt_is_one_line(tmp_path: Path, sig: signal.Signals, words: str) -> None:
    proc = spse_change("--project", str(tmp_path), "baseline", "capture", "-K", stdin=subprocess.PIPE)
    time.sleep(2)  # at the BECOME password prompt, reading stdin
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 128 + sig.value and out == ""
    assert err.strip().splitlines()[-1] == f"spse-change: {words}"
    assert "Traceback" not in err


def test_read_only_project_folder_is_one_line(tmp_path: Path) -> None:
    argv = [str(BIN / "spse-change"), "--project", str(tmp_path), "baseline", "capture"]
    if os.geteuid() == 0:  # root writes anywhere a mount allows: make it a read-only mount
        argv = ["unshare", "-m", "sh", "-c", 'mount --bind -o ro "$1" "$1" && shift && exec "$@"',
                "-", str(tmp_path), *argv]
        why = "Read-only file system"
    else:
        tmp_path.chmod(0o555)
        why = "Permission denied"
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2, proc.stderr
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith(f"spse-change: {tmp_path}/.spse-change") and why in last, proc.stderr


def test_show_names_the_hosts_groups(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store = BaselineStore(tmp_path / "change_records")
    store.save({**new_baseline("db1", {"data": {}}), "groups": ["spse_app", "spse_db"]})
    store.save(new_baseline("db2", {"data": {}}))  # captured before groups were recorded
    rc, out, _ = run(capsys, "--project", str(tmp_path), "baseline", "show", "db1@latest")
    assert rc == 0 and "\ngroups    spse_app, spse_db\n" in out
    rc, out, _ = run(capsys, "--project", str(tmp_path), "baseline", "show", "db2@latest")
    assert rc == 0 and "\ngroups    (not recorded)\n" in out
