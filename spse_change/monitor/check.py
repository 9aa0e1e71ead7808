"""`monitor check` (SOP activity 1): are the application monitoring and the database log on?

What the daily report needs, host by host:

- PostgreSQL writes a log the report can read (its logging collector, or
  Debian's `pg_ctlcluster` sending stderr to /var/log/postgresql), with
  durations (`log_min_duration_statement` >= 0) and a `log_line_prefix`
  pgBadger reads (a time, `%t` or `%m`, and `%p`);
- each SPSE instance's application log exists and was written recently;
- Apache's access logs exist and their format carries a response time.

The settings and the Apache configuration come from a baseline capture
(the same data `baseline capture` stores); the log files (size, time) from
the read-only `spse_monitor` role. Checks are declared units with an id and
a severity: `fail` is an SOP deviation (exit 1), `warn` a recommendation.
"""

from __future__ import annotations

import posixpath
import re
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from spse_change.capture.baseline import CaptureRequest, capture
from spse_change.errors import SpseChangeError
from spse_change.project import Project
from spse_change.runner.playbook import PlaybookRequest, ProgressHandler, run_playbook
from spse_change.store.baselines import BaselineStore
from spse_change.store.files import write_atomic, writing

SCHEMA = "spse-change/monitor/1"
TASK_APP = "Find SPSE application logs"
TASK_APACHE = "Find Apache logs"
TASK_PG = "Find PostgreSQL logs"
DEBIAN_PG_LOGS = "/var/log/postgresql"
APACHE_LOG_DIR = {"${APACHE_LOG_DIR}": "/var/log/apache2"}
RESPONSE_TIME = re.compile(r"%(?:\{[^}]*\})?[DT]")
APACHE_NICKNAMES = {  # Apache's own defaults, when the configuration does not define them
    "common": '%h %l %u %t "%r" %>s %b',
    "combined": '%h %l %u %t "%r" %>s %b "%{Referer}i" "%{User-agent}i"',
}
# What --propose sets, and why (the report's needs; see docs/monitor.md)
PROPOSED = {
    "logging_collector": "on",
    "log_min_duration_statement": "0",
    "log_line_prefix": "%t [%p]: user=%u,db=%d,app=%a,client=%h ",
    "log_lock_waits": "on",
    "log_temp_files": "0",
}


@dataclass(frozen=True)
class Finding:
    check: str
    severity: str  # ok | warn | fail
    subject: str
    message: str
    setting: str | None = None  # the PostgreSQL setting --propose fixes

    def to_json(self) -> dict[str, Any]:
        return {"check": self.check, "severity": self.severity, "subject": self.subject,
                "message": self.message, "setting": self.setting}


@dataclass(frozen=True)
class HostFacts:
    """One host as the checks see it."""

    host: str
    groups: tuple[str, ...]
    data: dict[str, Any]
    incomplete: dict[str, str]
    files: dict[str, list[dict[str, Any]]]  # task name → found files (path, mtime, size)
    now: float
    max_age_hours: float

    @property
    def settings(self) -> dict[str, str]:
        raw = (self.data.get("database") or {}).get("settings") or {}
        return {k: str((v or {}).get("setting", "")) for k, v in raw.items()}

    def age_hours(self, item: dict[str, Any]) -> float:
        return (self.now - float(item.get("mtime") or 0)) / 3600

    def recent(self, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [f for f in items if self.age_hours(f) <= self.max_age_hours and f.get("size", 0) > 0]


Check = Callable[[HostFacts], Iterator[Finding]]


@dataclass(frozen=True)
class CheckUnit:
    id: str
    group: str  # spse_db | spse_app: which hosts it applies to
    description: str
    run: Check


def _pg_log_written(h: HostFacts) -> Iterator[Finding]:
    s = h.settings
    destinations = {d.strip() for d in s.get("log_destination", "stderr").split(",")}
    if not destinations & {"stderr", "csvlog", "jsonlog"}:
        yield Finding("PG-LOG", "fail", "log_destination",
                      f"log_destination = '{s.get('log_destination')}': no stderr, csvlog or jsonlog "
                      "file for the report", "log_destination")
        return
    found = h.files.get(TASK_PG, [])
    if s.get("logging_collector") == "on":
        folder = s.get("log_directory", "log")
        if not folder.startswith("/"):
            folder = posixpath.join(s.get("data_directory", ""), folder)
        where, mine = folder, [f for f in found if posixpath.dirname(f["path"]) == folder]
        how = "logging collector"
    else:
        where, mine = DEBIAN_PG_LOGS, [f for f in found if f["path"].startswith(DEBIAN_PG_LOGS + "/")]
        how = "pg_ctlcluster, logging_collector = off"
    if not mine:
        yield Finding("PG-LOG", "fail", "logging_collector",
                      f"no PostgreSQL log file in {where} ({how}): the database log is not on",
                      "logging_collector")
    elif not h.recent(mine):
        newest = min(h.age_hours(f) for f in mine)
        yield Finding("PG-LOG", "fail", where, f"PostgreSQL log in {where} not written for {newest:.0f} h "
                      f"({how})", "logging_collector")
    else:
        yield Finding("PG-LOG", "ok", where, f"PostgreSQL writes its log in {where} ({how})")


def _pg_durations(h: HostFacts) -> Iterator[Finding]:
    value = h.settings.get("log_min_duration_statement", "-1")
    try:
        ms = int(value)
    except ValueError:
        ms = -1
    if ms < 0:
        yield Finding("PG-DURATION", "fail", "log_min_duration_statement",
                      f"log_min_duration_statement = {value}: no query durations are logged",
                      "log_min_duration_statement")
    else:
        scope = "every query" if ms == 0 else f"only queries of {ms} ms or longer"
        yield Finding("PG-DURATION", "ok", "log_min_duration_statement",
                      f"log_min_duration_statement = {ms} ms: the report shows {scope}")


def _pg_prefix(h: HostFacts) -> Iterator[Finding]:
    s = h.settings
    if "stderr" not in s.get("log_destination", "stderr"):
        return
    prefix = s.get("log_line_prefix", "")
    missing = [e for e, ok in (("%t", "%t" in prefix or "%m" in prefix), ("%p", "%p" in prefix)) if not ok]
    if missing:
        yield Finding("PG-PREFIX", "fail", "log_line_prefix",
                      f"log_line_prefix = '{prefix}' lacks {' and '.join(missing)}: pgBadger cannot read "
                      "times and sessions", "log_line_prefix")
    elif "%a" not in prefix:
        yield Finding("PG-PREFIX", "warn", "log_line_prefix",
                      f"log_line_prefix = '{prefix}' lacks %a: the toolkit's own queries cannot be left "
                      "out of the report", "log_line_prefix")
    else:
        yield Finding("PG-PREFIX", "ok", "log_line_prefix", f"log_line_prefix = '{prefix}'")


def _pg_recommended(h: HostFacts) -> Iterator[Finding]:
    s = h.settings
    if s.get("log_lock_waits") != "on":
        yield Finding("PG-LOCK-WAITS", "warn", "log_lock_waits",
                      "log_lock_waits = off: lock waits (the cause of lock timeouts) are not logged",
                      "log_lock_waits")
    try:
        temp = int(s.get("log_temp_files", "-1"))
    except ValueError:
        temp = -1
    if temp < 0:
        yield Finding("PG-TEMP-FILES", "warn", "log_temp_files",
                      "log_temp_files = -1: temporary files (a sign work_mem is short) are not logged",
                      "log_temp_files")


def _pg_readable(h: HostFacts) -> Iterator[Finding]:
    if "database" not in h.data:
        reason = h.incomplete.get("database", "no PostgreSQL cluster found")
        yield Finding("PG-SETTINGS", "fail", "database", f"PostgreSQL settings not read: {reason}")


def _app_logs(h: HostFacts) -> Iterator[Finding]:
    instances = ((h.data.get("spse") or {}).get("instances")) or {}
    if not instances:
        yield Finding("APP-LOG", "fail", "spse", "no SPSE instance found under the application root")
    found = h.files.get(TASK_APP, [])
    for name, inst in sorted(instances.items()):
        folder = posixpath.join(inst.get("path", ""), "webapp", "logs")
        mine = [f for f in found if posixpath.dirname(f["path"]) == folder]
        if not mine:
            yield Finding("APP-LOG", "fail", name, f"no application log in {folder}")
        elif not h.recent(mine):
            newest = min(h.age_hours(f) for f in mine)
            yield Finding("APP-LOG", "fail", name,
                          f"application log in {folder} not written for {newest:.0f} h "
                          f"(limit {h.max_age_hours:g} h)")
        else:
            yield Finding("APP-LOG", "ok", name, f"application log {mine[0]['path']} written recently")


def _apache_directives(tree: Any, name: str) -> Iterator[list[str]]:
    """Every `name` directive's arguments, at any depth of a parsed Apache file."""
    if not isinstance(tree, dict):
        return
    for key, value in tree.items():
        if key.lower() == name.lower() and isinstance(value, list):
            yield from ([_unquote(a) for a in re.findall(r'"(?:[^"\\]|\\.)*"|\S+', v)]
                        for v in value if isinstance(v, str))
        elif isinstance(value, dict):
            yield from _apache_directives(value, name)


def _unquote(arg: str) -> str:
    """An Apache argument as httpd reads it: `"a \\"b\\""` is `a "b"` (strip('"') lost the last quote)."""
    if len(arg) >= 2 and arg[0] == arg[-1] == '"':
        return re.sub(r'\\(["\\])', r"\1", arg[1:-1])
    return arg


def apache_logs(config: dict[str, Any]) -> tuple[dict[str, str], list[tuple[str, str]]]:
    """LogFormat nicknames and CustomLog (file, format) pairs of a host's Apache configuration."""
    formats = dict(APACHE_NICKNAMES)
    custom: list[tuple[str, str]] = []
    for entry in config.values():
        if not isinstance(entry, dict) or entry.get("kind") != "apache_conf":
            continue
        for args in _apache_directives(entry.get("parsed"), "LogFormat"):
            if len(args) >= 2:
                formats[args[1]] = args[0]
        for args in _apache_directives(entry.get("parsed"), "CustomLog"):
            if len(args) >= 2:
                custom.append((args[0], args[1]))
    return formats, custom


def _apache(h: HostFacts) -> Iterator[Finding]:
    formats, custom = apache_logs(h.data.get("config") or {})
    if not custom:
        yield Finding("APACHE-LOG", "fail", "CustomLog", "no Apache access log (CustomLog) configured")
        return
    found = h.files.get(TASK_APACHE, [])
    for target, fmt in custom:
        if target.startswith("|"):
            yield Finding("APACHE-LOG", "warn", target, "access log piped to a program: not checked")
            continue
        path = target
        for var, value in APACHE_LOG_DIR.items():
            path = path.replace(var, value)
        if path.startswith("/"):
            mine = [f for f in found if f["path"] == path]
        else:  # relative to ServerRoot: EL's logs/ is a link to /var/log/httpd
            mine = [f for f in found if posixpath.basename(f["path"]) == posixpath.basename(path)]
        if not mine:
            yield Finding("APACHE-LOG", "fail", target, f"access log {target} not found")
        else:
            yield Finding("APACHE-LOG", "ok", target, f"access log {mine[0]['path']} exists")
        text = formats.get(fmt, fmt)
        if RESPONSE_TIME.search(text):
            yield Finding("APACHE-FORMAT", "ok", target, f"{target}: format '{fmt}' logs the response time")
        else:
            yield Finding("APACHE-FORMAT", "fail", target,
                          f"{target}: format '{fmt}' has no %D or %T: slow requests cannot be reported")


CHECKS: tuple[CheckUnit, ...] = (
    CheckUnit("PG-SETTINGS", "spse_db", "PostgreSQL settings could be read", _pg_readable),
    CheckUnit("PG-LOG", "spse_db", "PostgreSQL writes a log file the report can read", _pg_log_written),
    CheckUnit("PG-DURATION", "spse_db", "log_min_duration_statement >= 0 (query durations logged)",
              _pg_durations),
    CheckUnit("PG-PREFIX", "spse_db", "log_line_prefix carries %t (or %m) and %p; %a recommended",
              _pg_prefix),
    CheckUnit("PG-RECOMMENDED", "spse_db", "log_lock_waits on, log_temp_files >= 0 (warnings)",
              _pg_recommended),
    CheckUnit("APP-LOG", "spse_app", "each SPSE instance's log exists and was written recently", _app_logs),
    CheckUnit("APACHE", "spse_app", "Apache access logs exist and log the response time (%D or %T)",
              _apache),
)


def evaluate(h: HostFacts) -> list[Finding]:
    findings = []
    for unit in CHECKS:
        if unit.group not in h.groups:
            continue
        if unit.group == "spse_db" and unit.id != "PG-SETTINGS" and "database" not in h.data:
            continue
        findings.extend(unit.run(h))
    return findings


@dataclass(frozen=True)
class MonitorRequest:
    project: Project
    inventory: Sequence[Path] = ()
    limit: str | None = None
    capture: bool = True
    max_age_hours: float = 24.0
    propose: Path | None = None
    verbosity: int = 0
    vault_password_file: Path | None = None
    become_password: str | None = field(default=None, repr=False)
    via: str | None = None  # an execution node that runs the playbook (docs/nodes.md)

    def __post_init__(self) -> None:
        if self.max_age_hours <= 0:
            raise SpseChangeError("--max-age-hours must be positive")


@dataclass
class MonitorResult:
    hosts: dict[str, list[Finding]] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)  # host → why it could not be checked
    proposal: dict[str, Any] | None = None

    @property
    def deviations(self) -> int:
        return sum(1 for fs in self.hosts.values() for f in fs if f.severity == "fail") + len(self.failed)

    def to_json(self) -> dict[str, Any]:
        return {"schema": SCHEMA, "deviations": self.deviations, "failed": self.failed,
                "hosts": {h: [f.to_json() for f in fs] for h, fs in self.hosts.items()},
                "proposal": self.proposal}


def check_monitoring(request: MonitorRequest, progress: ProgressHandler | None = None) -> MonitorResult:
    result = MonitorResult()
    proj = request.project
    if request.capture:
        captured = capture(CaptureRequest(proj, request.inventory, request.limit, "monitor check",
                                          request.verbosity, request.vault_password_file,
                                          request.become_password, via=request.via), progress)
        result.failed.update(captured.failed)
    run = run_playbook(PlaybookRequest(
        proj.playbook("monitor.yml"), proj.state_dir, request.inventory, request.limit,
        verbosity=request.verbosity, vault_password_file=request.vault_password_file,
        become_password=request.become_password, ansible_cfg=proj.ansible_cfg, via=request.via),
        progress)
    if run.interrupted:
        raise SpseChangeError(f"stopped by {run.interrupted.name}", 128 + run.interrupted.value)
    store = BaselineStore(proj.records_dir)
    now = time.time()
    for host, res in sorted(run.hosts.items()):
        if host in result.failed:
            continue
        if res.outcome in ("failed", "unreachable"):
            result.failed[host] = res.message or res.outcome
            continue
        if host not in store.hosts():
            result.failed[host] = "no baseline (run without --no-capture)"
            continue
        baseline = store.load(f"{host}@latest")
        files = {task: list((res.results.get(task) or {}).get("files") or [])
                 for task in (TASK_APP, TASK_APACHE, TASK_PG)}
        # the role runs each find only for its group: what ran tells the host's role
        groups = tuple(g for g, task in (("spse_app", TASK_APP), ("spse_db", TASK_PG)) if task in res.results)
        facts = HostFacts(host, groups, baseline["data"],
                          dict(baseline.get("incomplete") or {}), files, now, request.max_age_hours)
        result.hosts[host] = evaluate(facts)
    result.proposal = proposal(result)
    if request.propose:
        if result.proposal is None:
            raise SpseChangeError("--propose: the PostgreSQL logging settings need no change")
        with writing(request.propose):
            write_atomic(request.propose, yaml.safe_dump(result.proposal, allow_unicode=True,
                                                         sort_keys=False, width=100), mode=0o644)
    return result


def proposal(result: MonitorResult) -> dict[str, Any] | None:
    """A planned change (the records' format) setting what the failed and warned checks name."""
    settings: dict[str, str] = {}
    hosts = []
    for host, findings in result.hosts.items():
        named = [f.setting for f in findings if f.severity != "ok" and f.setting in PROPOSED]
        if named:
            hosts.append(host)
            settings.update({s: PROPOSED[s] for s in named if s})
    if not settings:
        return None
    return {
        "title": "Aktifkan log PostgreSQL untuk Laporan Monitoring Kinerja",
        "reason": "spse-change monitor check (SOP aktivitas 1): " + ", ".join(sorted(settings)),
        "hosts": ":".join(hosts),
        "settings": {"postgresql": dict(sorted(settings.items()))},
        "evaluation": {"category": "Normal", "urgency": "Tidak Mendesak", "impact": "Kecil",
                       "rollback_plan": "ALTER SYSTEM RESET untuk setiap pengaturan di atas, lalu "
                                        "SELECT pg_reload_conf() (logging_collector: restart PostgreSQL)."},
    }
