"""Running a playbook on an execution node: ansible-runner's streaming interface over SSH.

The job is packed with ``transmit`` (playbooks, roles, ansible.cfg, the
inventories, the extra variables), piped over SSH into
``ansible-runner worker`` on the node, and the node's event stream is
unpacked with ``process`` into the same event handler and artifact folder a
local run uses. Nothing here is a job system of ours: it is the protocol AWX
carries over Receptor, with SSH as the carrier.

What travels and where it stays (docs/nodes.md): the extra variables in the
job's ``env/extravars``, the files the run's environment names (the HMAC key)
and a vault password file under ``secrets/`` (mode 0600), inside the worker's
private data folder, which ``worker --delete`` removes when the worker ends; a
become password only in the job's first line, kept in the worker's memory. On
the control machine the job is packed in a private (0700) temporary folder,
removed before the stream leaves; a command killed with SIGKILL can leave it
in $TMPDIR.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import secrets
import shlex
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from ansible_runner import interface

from spse_change.errors import SpseChangeError

# No prompt can be answered (BatchMode); a node that stops answering is noticed within a minute.
SSH_OPTIONS = ("-T", "-o", "BatchMode=yes", "-o", "ServerAliveInterval=15", "-o", "ServerAliveCountMax=4")
NODE_NAME = re.compile(r"^(?:[A-Za-z0-9_][A-Za-z0-9_.-]*@)?[A-Za-z0-9_][A-Za-z0-9_.:-]*$")
JOB_PREFIX = "/tmp/spse-change-job-"  # + 16 random hex digits: the worker's private data folder
SSH_CONFIG_ENV = "SPSE_CHANGE_SSH_CONFIG"  # an ssh_config for the nodes instead of ~/.ssh/config
STOP_GRACE = 30.0  # seconds a stopped worker has to report before the connection is cut


def checked_node(node: str) -> str:
    """An SSH destination: a ~/.ssh/config alias, a host name or `user@host`, never an option."""
    if not NODE_NAME.match(node):
        raise SpseChangeError(f"execution node '{node}' is not a host name, ~/.ssh/config alias "
                              "or user@host")
    return node


def ssh_argv(node: str, *remote: str) -> list[str]:
    """`ssh [options] NODE COMMAND...`: the remote words are ours, quoted for the node's shell."""
    config = ["-F", os.environ[SSH_CONFIG_ENV]] if os.environ.get(SSH_CONFIG_ENV) else []
    return ["ssh", *config, *SSH_OPTIONS, checked_node(node), *(shlex.quote(word) for word in remote)]


@dataclass(frozen=True)
class Job:
    """One playbook run as the worker gets it; paths are on the control machine."""

    playbook: Path
    ansible_cfg: Path
    inventory: tuple[Path, ...]
    limit: str | None
    extravars: dict[str, Any]
    envvars: dict[str, str]
    envfiles: dict[str, Path]  # variable -> file on this machine; on the node it names the copy
    cmdline: tuple[str, ...]
    verbosity: int
    vault_password_file: Path | None = None
    passwords: dict[str, str] = field(default_factory=dict, repr=False)


@dataclass
class Outcome:
    """How the stream ended: the worker's last status, and why the stream broke if it did."""

    status: str = "unstarted"
    explanation: str = ""
    started: bool = False  # the worker said it started ansible-playbook
    lost: str | None = None  # the stream ended before the worker finished: the reason


def pack(job: Job, jobdir: str) -> bytes:
    """The job as ``ansible-runner transmit`` streams it for a worker in `jobdir`, built in a
    private temporary folder that is removed before anything leaves the machine."""
    code = job.playbook.parent.parent
    with tempfile.TemporaryDirectory(prefix="spse-change-job-") as tmp:
        private = Path(tmp)
        project = private / "project"
        shutil.copytree(code / "playbooks", project / "playbooks")
        shutil.copytree(code / "roles", project / "roles",
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        shutil.copy(job.ansible_cfg, project / "ansible.cfg")  # found in the worker's cwd
        cmdline = list(job.cmdline)
        for index, source in enumerate(job.inventory):
            copy = _copy_inventory(source, private / "inventories" / str(index))
            _make_private(private / "inventories")  # host_vars may hold what others must not read
            cmdline += ["-i", f"../{copy.relative_to(private)}"]  # from the worker's cwd, project/
        envvars = dict(job.envvars)
        for name, source in job.envfiles.items():
            _copy_private(source, private / "secrets" / name)
            envvars[name] = f"{jobdir}/secrets/{name}"
        if job.vault_password_file:
            _copy_private(job.vault_password_file, private / "secrets" / "vault-password")
            cmdline += ["--vault-password-file", f"{jobdir}/secrets/vault-password"]
        if job.extravars:  # a file, not the worker's command line (which `ps` shows)
            _write_private(private / "env" / "extravars", json.dumps(job.extravars).encode())
        out = _Buffer()
        interface.run(
            streamer="transmit", _output=out, private_data_dir=str(private),
            playbook=str(project / "playbooks" / job.playbook.name), limit=job.limit,
            envvars=envvars, cmdline=shlex.join(cmdline) or None,
            verbosity=job.verbosity or None, passwords=job.passwords, quiet=True,
            suppress_env_files=True, ignore_logging=True, cancel_callback=_never)
        return out.getvalue()


def _never() -> bool:
    """A cancel callback given only so that ansible-runner installs no SIGINT/SIGTERM handlers
    of its own over run_playbook's."""
    return False


class _Buffer(io.BytesIO):
    name = "<job>"  # ansible-runner's stream_dir asks its output for a name


def _copy_inventory(source: Path, target: Path) -> Path:
    """A copy of one -i source (a folder whole, a file with the group_vars/host_vars beside it)."""
    if source.is_dir():
        shutil.copytree(source, target)
        return target
    target.mkdir(parents=True)
    shutil.copy(source, target / source.name)
    for beside in ("group_vars", "host_vars"):
        if (source.parent / beside).is_dir():
            shutil.copytree(source.parent / beside, target / beside)
    return target / source.name


def _make_private(folder: Path) -> None:
    """Owner-only modes on a copied tree (the modes travel with it to the node)."""
    folder.chmod(0o700)
    for path in folder.rglob("*"):
        path.chmod(0o700 if path.is_dir() else 0o600)


def _write_private(path: Path, data: bytes) -> None:
    """A file only its owner reads (the mode travels with it to the node)."""
    path.parent.mkdir(mode=0o700, exist_ok=True)
    with path.open("xb") as fh:
        path.chmod(0o600)
        fh.write(data)


def _copy_private(source: Path, target: Path) -> None:
    _write_private(target, source.read_bytes())
    if source.stat().st_mode & 0o100:  # a vault password script stays runnable
        target.chmod(0o700)


def run_on_node(node: str, job: Job, artifact_dir: Path, on_event: Callable[[dict[str, Any]], bool],
                stopped: Callable[[], bool]) -> Outcome:
    """Run `job` on `node` and feed its events to `on_event`, as a local run would.

    A stop (``stopped()`` turning true) sends SIGTERM to the worker (ansible-runner then kills its
    ansible-playbook and reports "canceled"); a worker silent for STOP_GRACE seconds after that
    is cut off. The stream ending early (the node or the worker died, SSH broke) is not an
    exception: the outcome says why, so the caller can fail the hosts left running.
    """
    jobdir = f"{JOB_PREFIX}{secrets.token_hex(8)}"
    stream = pack(job, jobdir)
    # umask 077: the job folder the worker makes, and all it unpacks there, only its owner reads
    argv = ssh_argv(node, "sh", "-c", 'umask 077 && exec "$@"', "sh",
                    "ansible-runner", "worker", "--private-data-dir", jobdir, "--delete")
    outcome = Outcome()
    proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, start_new_session=True)  # the terminal's ^C is ours
    stderr: list[bytes] = []
    threads = [threading.Thread(target=_feed, args=(proc.stdin, stream), daemon=True),
               threading.Thread(target=lambda: stderr.append(proc.stderr.read()), daemon=True),
               threading.Thread(target=_stop_when, args=(stopped, node, jobdir, proc), daemon=True)]
    for thread in threads:
        thread.start()

    def on_status(data: dict[str, Any], runner_config: Any = None) -> None:
        outcome.status = data.get("status", outcome.status)
        outcome.started = outcome.started or outcome.status in ("starting", "running")
        outcome.explanation = data.get("job_explanation", "") or outcome.explanation

    try:
        interface.run(streamer="process", _input=proc.stdout, private_data_dir=str(artifact_dir.parent),
                      artifact_dir=str(artifact_dir), settings={}, quiet=True, ignore_logging=True,
                      event_handler=on_event, status_handler=on_status, cancel_callback=stopped)
    finally:
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=10)
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        threads[1].join(timeout=5)
    if outcome.status == "error":
        said = b"".join(stderr).decode("utf-8", "replace").strip().splitlines()
        if said:  # ssh's or the node shell's own words
            why = said[-1]
        elif proc.returncode:  # 137: the worker was killed
            why = f"the connection ended with exit status {proc.returncode}"
        else:  # the worker reported the error itself
            why = outcome.explanation or "no reason given"
        outcome.lost = f"execution node {node}: the run's stream ended early ({why})"
    return outcome


def _feed(pipe: IO[bytes], stream: bytes) -> None:
    with contextlib.suppress(OSError), pipe:
        pipe.write(stream)


def _stop_when(stopped: Callable[[], bool], node: str, jobdir: str, proc: subprocess.Popen) -> None:
    """Once the run is stopped, SIGTERM its worker (found by its own job folder) over a second
    connection; cut the stream if the worker does not end within STOP_GRACE seconds."""
    while proc.poll() is None and not stopped():
        time.sleep(0.2)
    if proc.poll() is not None:
        return
    pattern = f"ansible-runner worker --private-data-dir {jobdir}"
    with contextlib.suppress(OSError, subprocess.TimeoutExpired):
        subprocess.run(ssh_argv(node, "pkill", "-TERM", "-f", pattern), stdin=subprocess.DEVNULL,
                       capture_output=True, timeout=STOP_GRACE)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=STOP_GRACE)
        return
    proc.kill()
