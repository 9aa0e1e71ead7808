"""The one module that talks to ansible-runner.

Build a request, run it, return per-host results: callers pass a progress
handler instead of subclassing, and never parse Ansible's stdout.
"""

from __future__ import annotations

import contextlib
import os
import re
import shlex
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pexpect
from ansible_runner import Runner, RunnerConfig

from spse_change.errors import SpseChangeError
from spse_change.runner.remote import Job, checked_node, run_on_node
from spse_change.store.files import not_a_file

# Per-host outcome of a run, worst wins: a host that failed one task failed.
OUTCOME_RANK = {"ok": 0, "changed": 1, "skipped": 0, "failed": 2, "unreachable": 3}
EVENT_OUTCOME = {
    "runner_on_ok": "ok",
    "runner_on_failed": "failed",
    "runner_on_unreachable": "unreachable",
    "runner_on_skipped": "skipped",
}
HOST_EVENTS = (*EVENT_OUTCOME, "runner_item_on_failed", "runner_on_start")

ProgressHandler = Callable[[str, str, str], None]  # host, outcome, message
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
# What ansible-playbook and ssh need from the admin's shell; nothing else is passed on.
PASSED_ENV = frozenset({"PATH", "HOME", "USER", "LOGNAME", "LANG", "LANGUAGE", "TZ", "TMPDIR",
                        "TERM", "SSH_AUTH_SOCK", "KRB5CCNAME"})
PASSED_ENV_PREFIXES = ("LC_", "ANSIBLE_")


@dataclass(frozen=True)
class PlaybookRequest:
    """What to run; checked before anything starts."""

    playbook: Path
    state_dir: Path
    inventory: Sequence[Path] = ()
    limit: str | None = None
    extravars: Mapping[str, Any] = field(default_factory=dict)
    envvars: Mapping[str, str] = field(default_factory=dict)
    envfiles: Mapping[str, Path] = field(default_factory=dict)  # variables that name a file here
    check: bool = False
    diff: bool = False
    verbosity: int = 0
    vault_password_file: Path | None = None
    become_password: str | None = field(default=None, repr=False)
    ansible_cfg: Path | None = None
    via: str | None = None  # an execution node (SSH destination) that runs the play; docs/nodes.md

    def __post_init__(self) -> None:
        if not self.playbook.is_file():
            raise SpseChangeError(f"playbook not found: {self.playbook}")
        if self.via is not None:
            checked_node(self.via)
            if not self.inventory:
                raise SpseChangeError("--via needs the inventory named with -i: it travels to the node")
        for inv in self.inventory:
            if not inv.exists():
                raise SpseChangeError(f"inventory not found: {inv}")
        if self.vault_password_file:
            not_a_file(self.vault_password_file)  # a folder or fifo is said so, not "not found"
        if self.vault_password_file and not self.vault_password_file.is_file():
            raise SpseChangeError(f"vault password file not found: {self.vault_password_file}")


@dataclass
class HostResult:
    """Everything one host reported, keyed by task name."""

    host: str
    outcome: str = "ok"
    message: str = ""
    results: dict[str, dict[str, Any]] = field(default_factory=dict)
    running: set[str] = field(default_factory=set)  # tasks started and not yet ended
    ended: int = 0

    @property
    def finished(self) -> bool:
        """Some task ended on this host and none is still running."""
        return self.ended > 0 and not self.running

    def start(self, task_uuid: str) -> None:
        self.running.add(task_uuid)

    def end(self, task_uuid: str) -> None:
        self.running.discard(task_uuid)
        self.ended += 1

    def lose(self, reason: str) -> None:
        """The run ended under this host before its tasks did (the execution node went away)."""
        self.running.clear()
        self.outcome, self.message = "failed", reason

    def record(self, outcome: str, task: str, res: dict[str, Any]) -> None:
        if outcome in ("ok", "changed"):
            self.results[task] = res
        if OUTCOME_RANK[outcome] >= OUTCOME_RANK[self.outcome]:
            if outcome in ("failed", "unreachable") and self.outcome not in ("failed", "unreachable"):
                self.message = _reason(res)
            self.outcome = outcome


@dataclass
class PlaybookResult:
    rc: int
    status: str
    hosts: dict[str, HostResult]
    artifact_dir: Path  # ansible-runner's artifact folder of the run (a node's: streamed back into it)
    interrupted: signal.Signals | None = None  # the signal that stopped the run
    unfinished: tuple[str, ...] = ()  # targeted hosts that had not finished when it stopped

    @property
    def failed(self) -> list[HostResult]:
        return [h for h in self.hosts.values() if h.outcome in ("failed", "unreachable")]


def run_playbook(request: PlaybookRequest, progress: ProgressHandler | None = None,
                 on_host: Callable[[HostResult], None] | None = None) -> PlaybookResult:
    """Run one playbook through ansible-runner and collect per-host results from its events.

    SIGINT/SIGTERM stop the run (the whole ansible-playbook process group is
    killed); the result then says which signal and which targeted hosts
    had not finished. ``on_host`` is called with a host's results each time
    one of its tasks ends, while the other hosts still run; it runs inside
    ansible-runner's event loop and must not raise.

    With ``request.via`` the play runs on that execution node (runner/remote.py) and its events
    come back into the same handler. A node lost before the play started is an error; lost
    mid-run, every host not finished fails with the reason.
    """
    hosts: dict[str, HostResult] = {}

    def on_event(event: dict[str, Any]) -> bool:
        kind = event.get("event", "")
        data = event.get("event_data", {})
        if request.verbosity >= 2 and event.get("stdout"):
            print(event["stdout"], file=sys.stderr, flush=True)
        if kind not in HOST_EVENTS:
            return True
        host = data.get("host", "?")
        entry = hosts.setdefault(host, HostResult(host))
        if kind == "runner_on_start":
            entry.start(data.get("task_uuid", ""))
            return True
        res = data.get("res", {}) or {}
        outcome = EVENT_OUTCOME.get(kind, "failed")
        if outcome == "ok" and res.get("changed"):
            outcome = "changed"
        if outcome == "failed" and data.get("ignore_errors"):
            outcome = "ok"
        entry.record(outcome, data.get("task", ""), res)
        if kind in EVENT_OUTCOME:
            entry.end(data.get("task_uuid", ""))
        if on_host and kind in EVENT_OUTCOME:
            on_host(entry)
        if progress:
            progress(host, outcome, _reason(res) if outcome in ("failed", "unreachable") else "")
        return True

    _use_our_ansible()
    (request.state_dir / "runner").mkdir(parents=True, exist_ok=True, mode=0o700)
    config = _config(request)
    with _stop_on_signals() as received, _no_wait_after_close():
        def stopped() -> bool:
            return received[0] is not None

        if request.via:
            outcome = run_on_node(request.via, _job(request, config), Path(config.artifact_dir),
                                  on_event, stopped)
            status, rc, lost = outcome.status, _artifact_rc(config), outcome.lost
            if lost and not outcome.started:  # the node, SSH or the worker failed first
                raise SpseChangeError(f"{lost}; check the node: spse-change node check {request.via}")
        else:
            runner = Runner(config, event_handler=on_event, cancel_callback=stopped)
            runner.run()
            status, rc, lost = runner.status, runner.rc, None

    def unfinished() -> tuple[str, ...]:
        targeted = _targeted_hosts(config) or sorted(hosts)
        return tuple(h for h in targeted if h not in hosts or not hosts[h].finished)

    artifacts = Path(config.artifact_dir)
    if received[0] is not None:
        return PlaybookResult(rc, status, hosts, artifacts, received[0], unfinished())
    if lost is not None:
        for host in unfinished():
            hosts.setdefault(host, HostResult(host)).lose(lost)
        return PlaybookResult(1, "failed", hosts, artifacts)
    if status == "failed" and not any(h.finished for h in hosts.values()):
        raise SpseChangeError(_startup_error(_read(artifacts), request))
    return PlaybookResult(rc, status, hosts, artifacts)


@contextlib.contextmanager
def _stop_on_signals() -> Iterator[list[signal.Signals | None]]:
    """While the run lasts, SIGINT/SIGTERM only note themselves; ansible-runner polls the note
    (about once a second) and kills the run's process group."""
    received: list[signal.Signals | None] = [None]

    def note(signum: int, _frame: Any) -> None:
        received[0] = received[0] or signal.Signals(signum)

    previous = {sig: signal.signal(sig, note) for sig in STOP_SIGNALS}
    try:
        yield received
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


class _Spawn(pexpect.spawn):
    """pexpect's spawn without ptyprocess's 0.1 s sleep in close() ("give the kernel time to
    update the process status"): ansible-runner closes the pty only after ``isalive()`` has
    reaped ansible-playbook, so the sleep was pure delay (measured: 0.10 s of every run, 5 % of
    a 6-host capture). A child still alive at close() is terminated as before."""

    def _spawnpty(self, args: list[str], **kwargs: Any) -> Any:
        pty = super()._spawnpty(args, **kwargs)
        pty.delayafterclose = 0
        return pty


@contextlib.contextmanager
def _no_wait_after_close() -> Iterator[None]:
    """ansible-runner spawns through ``pexpect.spawn``: ours while the run lasts."""
    original = pexpect.spawn
    pexpect.spawn = _Spawn  # type: ignore[misc]
    try:
        yield
    finally:
        pexpect.spawn = original  # type: ignore[misc]


def _config(request: PlaybookRequest) -> RunnerConfig:
    """ansible-runner's settings for the run, with only the environment ansible-playbook needs.

    ansible-runner seeds the child's environment with this process's whole
    environment and writes it to `artifacts/<id>/command` before the run
    starts, so a shell's PGPASSWORD or token would stay on disk, even when
    the run is killed. Only the variables in :data:`PASSED_ENV` (and ours)
    pass; anything else in the shell never reaches Ansible or the disk.
    """
    config = RunnerConfig(**_runner_kwargs(request))
    config.prepare()
    ours = set(config.envvars or ())
    config.env = {k: v for k, v in config.env.items()
                  if k in ours or _passes(k) or k not in os.environ}
    if "ANSIBLE_HOST_KEY_CHECKING" not in ours and "ANSIBLE_HOST_KEY_CHECKING" not in os.environ:
        config.env.pop("ANSIBLE_HOST_KEY_CHECKING", None)  # runner's default is off; ansible.cfg decides
    config.pexpect_timeout = 1  # how often the stop signal is checked
    return config


def _job(request: PlaybookRequest, config: RunnerConfig) -> Job:
    """The run for an execution node: our settings, not this machine's paths or environment.

    The node's own environment runs ansible-playbook; of ours only the variables we set travel
    (no ANSIBLE_CONFIG or local temp path: the job's ansible.cfg is found in its cwd).
    """
    env = {k: v for k, v in _envvars(request).items()
           if k not in ("ANSIBLE_CONFIG", "ANSIBLE_LOCAL_TEMP", *request.envfiles)}
    return Job(playbook=request.playbook,
               ansible_cfg=request.ansible_cfg or request.playbook.parent.parent / "ansible.cfg",
               inventory=tuple(request.inventory), limit=request.limit,
               extravars=dict(request.extravars), envvars=env, envfiles=dict(request.envfiles),
               cmdline=tuple(_cmdline(request)),
               verbosity=request.verbosity, vault_password_file=request.vault_password_file,
               passwords=dict(config.passwords or {}))


def _artifact_rc(config: RunnerConfig) -> int:
    """The worker's exit code, from the `rc` artifact it streamed back (1 when it sent none)."""
    try:
        return int((Path(config.artifact_dir) / "rc").read_text(encoding="utf-8").strip())
    except (OSError, ValueError):
        return 1


def _passes(name: str) -> bool:
    return name in PASSED_ENV or name.startswith(PASSED_ENV_PREFIXES)


def _targeted_hosts(config: RunnerConfig) -> list[str]:
    """The hosts the play targets, from `ansible-playbook --list-hosts` with the run's own arguments."""
    argv = [arg for arg in config.command if arg != "--ask-become-pass"]
    try:
        proc = subprocess.run([*argv, "--list-hosts"], env=config.env, cwd=config.cwd,
                              stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return []
    lines = proc.stdout.splitlines()
    starts = [i for i, ln in enumerate(lines) if re.match(r"\s+hosts \(\d+\):$", ln)]
    hosts: list[str] = []
    for start in starts:
        indent = len(lines[start]) - len(lines[start].lstrip()) + 2
        for line in lines[start + 1:]:
            if len(line) - len(line.lstrip()) < indent or not line.strip():
                break
            hosts.append(line.strip())
    return sorted(set(hosts)) if proc.returncode == 0 else []


def _read(artifact_dir: Path) -> str:
    """Ansible's output of the run, as ansible-runner kept it (locally or streamed back)."""
    with contextlib.suppress(OSError):
        return (artifact_dir / "stdout").read_text(encoding="utf-8", errors="replace")
    return ""


def _use_our_ansible() -> None:
    """Run the Ansible installed beside us (`.venv/bin/spse-change` works with the venv off PATH).

    ansible-runner spawns `ansible-playbook` through this process's PATH.
    """
    bindir = str(Path(sys.executable).parent)
    path = os.environ.get("PATH", "")
    if bindir not in path.split(os.pathsep):
        os.environ["PATH"] = os.pathsep.join([bindir, path])


def _cmdline(request: PlaybookRequest) -> list[str]:
    """ansible-playbook's options but the vault password file (its path is per machine)."""
    cmdline = []
    if request.check:
        cmdline.append("--check")
    if request.diff:
        cmdline.append("--diff")
    if request.become_password is not None:  # answered at Ansible's prompt, never written down
        cmdline.append("--ask-become-pass")
    return cmdline


def _envvars(request: PlaybookRequest) -> dict[str, str]:
    env = {"ANSIBLE_FORCE_COLOR": "0", "ANSIBLE_NOCOLOR": "1", **request.envvars,
           **{name: str(path) for name, path in request.envfiles.items()}}
    # An inventory that does not parse is an error to name, not an empty inventory.
    env.setdefault("ANSIBLE_INVENTORY_ANY_UNPARSED_IS_FAILED", "True")
    if request.ansible_cfg and "ANSIBLE_CONFIG" not in os.environ:
        env["ANSIBLE_CONFIG"] = str(request.ansible_cfg)
    env.setdefault("ANSIBLE_LOCAL_TEMP", str(request.state_dir / "tmp"))
    return env


def _runner_kwargs(request: PlaybookRequest) -> dict[str, Any]:
    cmdline = _cmdline(request)
    if request.vault_password_file:
        cmdline += ["--vault-password-file", str(request.vault_password_file)]
    passwords = {}
    if request.become_password is not None:
        passwords[r"^BECOME password.*:\s*?$"] = request.become_password
    env = _envvars(request)
    return {
        "private_data_dir": str(request.state_dir / "runner"),
        "project_dir": str(request.playbook.parent.parent),
        "playbook": str(request.playbook),
        "inventory": [str(p) for p in request.inventory] or None,
        "limit": request.limit,
        "extravars": dict(request.extravars),
        "envvars": env,
        "cmdline": shlex.join(cmdline) or None,
        "verbosity": request.verbosity or None,
        "quiet": True,  # Ansible's own output goes to stderr, from the events (see run_playbook)
        "passwords": passwords,
        "suppress_env_files": True,
        "rotate_artifacts": 20,
    }


def _reason(res: dict[str, Any]) -> str:
    msg = res.get("msg") or res.get("stderr") or res.get("module_stderr") or ""
    return " ".join(str(msg).split())[:300]


def _startup_error(text: str, request: PlaybookRequest) -> str:
    """Ansible failed before any host ran: bad inventory, limit, vault. Say it in one line, naming
    the file and line where Ansible found the problem."""
    blocks = _messages(text)
    errors = [b for b in blocks if b.startswith(ERROR_PREFIXES)]
    if any("no hosts to target" in b for b in errors):
        inventory = ", ".join(str(p) for p in request.inventory) or "the default inventory"
        what = f"limit '{request.limit}'" if request.limit else "the play's groups"
        return f"{what} matches no host in {inventory}"
    message = (errors or blocks or ["ansible-playbook failed before any host ran"])[-1]
    for prefix in ERROR_PREFIXES:
        message = message.removeprefix(prefix).strip()
    message = message.partition(" The error appears to be in")[0]
    where = next(filter(None, map(_location, errors + blocks)), None)
    if where is None:
        return message
    path, why = where
    file = path.partition(":")[0]
    if file in message:
        return f"{message.replace(file, path, 1)}: {why}"
    return f"{message} ({path}: {why})"


ERROR_PREFIXES = ("ERROR!", "[ERROR]:")
LOCATIONS = (  # (file, line, column, why) as Ansible 2.16 words them
    re.compile(r"(?:Syntax Error while loading YAML\.|YAML parsing failed:?)\s*(?P<why>.*?)\s*"
               r"The error appears to be in '(?P<file>[^']+)': line (?P<line>\d+), column (?P<col>\d+)"),
    re.compile(r"The error appears to be in '(?P<file>[^']+)': line (?P<line>\d+), column (?P<col>\d+)"),
    re.compile(r"with \w+ plugin: (?P<file>/[^:]+):(?P<line>\d+): (?P<why>.*)"),
)


def _location(message: str) -> tuple[str, str] | None:
    """`("FILE:LINE[:COL]", why)` from one of Ansible's messages, if it names a place."""
    for pattern in LOCATIONS:
        match = pattern.search(message)
        if match:
            parts = match.groupdict()
            col = f":{parts['col']}" if parts.get("col") else ""
            why = (parts.get("why") or "syntax error").strip().rstrip(".")
            return f"{parts['file']}:{parts['line']}{col}", why
    return None


def _messages(text: str) -> list[str]:
    """Ansible's output as whole messages: it wraps warnings at the terminal width."""
    messages: list[str] = []
    for line in text.splitlines():
        if not line.strip():
            continue
        if re.match(r"(\[[A-Z]+\]|ERROR!|[A-Z ]+\[)", line) or not messages:
            messages.append(line.strip())
        else:
            messages[-1] += " " + line.strip()
    return [" ".join(m.split()) for m in messages]
