"""The daily report from the hosts: fetch one day of their logs through Ansible, then analyse.

`playbooks/logs.yml` (role `spse_logs`) cuts the day out of each host's
PostgreSQL, SPSE and Apache logs, scrubs credentials on the host and leaves
the text in a temporary file there; `fetch` copies it into the run's
ansible-runner artifact folder (through an execution node, the worker's, which
ansible-runner streams back at the end of the run), removed once analysed (the
module's result, and so ansible-runner's events, carry only metadata). Each
host becomes a section of one report, analysed as `report daily --pg-log …`
analyses files, with the PostgreSQL prefix and
threshold read from that server's live settings. What could not be read (a
host unreachable, a log missing, a fetched log that is no log of its kind) is
named in its host's section, and the result says the report is incomplete.
"""

from __future__ import annotations

import json
import posixpath
import shutil
from dataclasses import dataclass, field, replace
from datetime import date as Date
from datetime import timedelta
from pathlib import Path
from typing import Any

from spse_change.errors import SpseChangeError
from spse_change.monitor.check import APACHE_LOG_DIR, apache_logs
from spse_change.project import KEY_FILE_ENV, Project
from spse_change.reports import apache
from spse_change.reports.daily import (
    DailyRequest,
    DailyResult,
    assemble,
    build_host,
    check_date,
    unread_section,
    write_report,
)
from spse_change.reports.render import number
from spse_change.runner.playbook import HostResult, PlaybookRequest, ProgressHandler, run_playbook
from spse_change.store.baselines import BaselineStore, valid_host

TASK = "Cut the day out of the logs"
LOGS_FOLDER = "spse-logs"  # in the run's artifact folder, where the role fetches to
DEFAULT_MAX_BYTES = 200 << 20
SIZE_UNITS = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30}


def parse_size(text: str) -> int:
    """`200M`, `1G`, `500000`: a byte count."""
    number, unit = text.strip().upper().rstrip("B") or "0", ""
    if number[-1:] in SIZE_UNITS:
        number, unit = number[:-1], number[-1]
    if not number.isdigit() or int(number) <= 0:
        raise SpseChangeError(f"--max-bytes {text!r}: expected a positive size such as 200M or 1G")
    return int(number) * SIZE_UNITS[unit]


@dataclass(frozen=True)
class FetchRequest:
    project: Project
    inventory: tuple[Path, ...] = ()
    limit: str | None = None
    date: str | None = None  # YYYY-MM-DD; default yesterday (the controller's)
    max_bytes: int = DEFAULT_MAX_BYTES
    apache_format: str | None = None  # default: each host's own (its latest baseline), else combined
    slow_ms: int = apache.SLOW_MS
    out_dir: Path | None = None
    verbosity: int = 0
    vault_password_file: Path | None = None
    become_password: str | None = field(default=None, repr=False)
    via: str | None = None  # an execution node (docs/nodes.md)

    def __post_init__(self) -> None:
        check_date(self.date)
        if self.max_bytes <= 0:
            raise SpseChangeError("--max-bytes must be positive")
        if self.slow_ms <= 0:
            raise SpseChangeError("--slow-ms must be positive")

    @property
    def day(self) -> str:
        return self.date or (Date.today() - timedelta(days=1)).isoformat()


@dataclass(frozen=True)
class FetchResult(DailyResult):
    @property
    def complete(self) -> bool:
        return not self.report["summary"].get("not_read")


def fetch_daily_report(request: FetchRequest, progress: ProgressHandler | None = None) -> FetchResult:
    """Fetch, analyse each host, write the one report of the day; hosts never stop each other.

    The files are fetched into the run's artifact folder (`spse-logs/`; through a node, the
    worker's, which ansible-runner streams back into this machine's) and removed once analysed.
    """
    proj = request.project
    day = request.day
    run = run_playbook(PlaybookRequest(
        proj.playbook("logs.yml"), proj.state_dir, request.inventory, request.limit,
        extravars={"spse_logs_date": day, "spse_logs_max_bytes": request.max_bytes},
        envfiles={KEY_FILE_ENV: proj.hmac_key_file()}, verbosity=request.verbosity,
        vault_password_file=request.vault_password_file, become_password=request.become_password,
        ansible_cfg=proj.ansible_cfg, via=request.via), progress)
    dest = run.artifact_dir / LOGS_FOLDER
    try:
        if run.interrupted:
            raise SpseChangeError(f"stopped by {run.interrupted.name}; nothing written",
                                  128 + run.interrupted.value)
        if not run.hosts:
            what = f"limit '{request.limit}'" if request.limit else "the inventory"
            raise SpseChangeError(f"{what} matches no host in groups spse_app or spse_db")
        store = BaselineStore(proj.records_dir)
        sections = []
        for host, outcome in sorted(run.hosts.items()):
            formats = {} if request.apache_format else access_formats(_latest_config(store, host))
            sections += host_sections(request, day, host, outcome, dest, formats)
    finally:  # the artifacts are kept; the copies of the logs are not
        shutil.rmtree(dest, ignore_errors=True)
    report = assemble(proj, sections, day, "--date" if request.date else "kemarin (bawaan)")
    written = write_report(proj, report, request.out_dir)
    return FetchResult(written.report, written.json_path, written.html_path)


def host_sections(request: FetchRequest, day: str, host: str, outcome: HostResult, dest: Path,
                  formats: dict[str, str] | None = None) -> list[dict[str, Any]]:
    """A host's sections: one per PostgreSQL cluster beyond the first, the rest in the first."""
    if not valid_host(host):
        return [unread_section(host, [_unread("host", host, "bad host name")])]
    payload = (outcome.results.get(TASK) or {}).get("spse_logs_json")
    if outcome.outcome in ("failed", "unreachable") or payload is None:
        why = outcome.message or f"{outcome.outcome}, no logs returned"
        return [unread_section(host, [_unread("host", host, f"{outcome.outcome}: {why}")])]
    meta = json.loads(payload)
    not_read = list(meta["not_read"])
    logs = [log for log in meta["logs"] if (dest / host / f"{log['id']}.gz").is_file()]
    not_read += [_unread(log["kind"], log["name"], "not fetched") for log in meta["logs"] if log not in logs]
    pg = [log for log in logs if log["kind"] == "postgresql"]
    rest = [log for log in logs if log["kind"] != "postgresql"]
    groups = [(pg[:1] + rest, host)] + [([log], f"{host} ({log['name']})") for log in pg[1:]]
    sections = []
    for n, (group, name) in enumerate(groups):
        section = _section(request, day, host, name, group, dest / host, not_read if n == 0 else [],
                           formats or {})
        if section is not None:
            sections.append(section)
    return sections or [unread_section(host, not_read)]


def _section(request: FetchRequest, day: str, host: str, name: str, logs: list[dict[str, Any]],
             folder: Path, not_read: list[dict[str, str]], formats: dict[str, str]) -> dict[str, Any] | None:
    access_format, format_source, logs, not_read = _access_format(request, logs, not_read, formats)
    if not logs:
        return unread_section(name, not_read) if not_read else None
    files = {kind: tuple(folder / f"{log['id']}.gz" for log in logs if log["kind"] == kind)
             for kind in ("postgresql", "application", "apache")}
    pg = next((log for log in logs if log["kind"] == "postgresql"), None)
    daily = DailyRequest(request.project, files["postgresql"], files["application"], files["apache"],
                         apache_format=access_format, date=day, host=name,
                         slow_ms=request.slow_ms)
    if pg:
        daily = replace(daily, pg_prefix=pg["prefix"], pg_min_duration_ms=_int(pg["min_duration_ms"]))
    try:
        section, _day, _source = build_host(daily)
    except SpseChangeError as exc:  # a fetched file that is no log of its kind: this host only
        return unread_section(name, [*not_read, _unread("host", name, exc.message)])
    labels = {str(folder / f"{log['id']}.gz"): _label(host, log) for log in logs}
    for part in ("database", "application", "web"):
        for entry in (section[part] or {}).get("files", []):
            entry["file"] = labels.get(entry["file"], entry["file"])
    section.update(inventory_host=host, not_read=not_read, logs=[_log_json(host, log) for log in logs])
    if pg and section["database"]:
        section["database"]["timezone"] = pg["timezone"]
    if section["web"]:
        section["web"]["format_source"] = format_source
    day_sources = [log["day_source"] for log in logs if log["kind"] == "application"]
    if section["application"] and day_sources:
        section["application"]["day_source"] = "; ".join(dict.fromkeys(day_sources))
    section["notes"] += [f"{log['name']}: dipotong setelah {number(log['bytes'])} byte (--max-bytes); entri "
                         "sesudahnya tidak terbaca." for log in logs if log["cut"]]
    return section


def _latest_config(store: BaselineStore, host: str) -> dict[str, Any]:
    """The Apache (and other) configuration of the host's latest baseline; {} without one."""
    if not valid_host(host) or host not in store.hosts():
        return {}
    return store.load(f"{host}@latest")["data"].get("config") or {}


def access_formats(config: dict[str, Any]) -> dict[str, str]:
    """{access log path (or file name, when relative to ServerRoot): LogFormat string} of a host's
    Apache configuration, as `monitor check` reads it."""
    nicknames, custom = apache_logs(config)
    found = {}
    for target, fmt in custom:
        if target.startswith("|"):
            continue
        for var, value in APACHE_LOG_DIR.items():
            target = target.replace(var, value)
        found[target if target.startswith("/") else posixpath.basename(target)] = nicknames.get(fmt, fmt)
    return found


def _access_format(request: FetchRequest, logs: list[dict[str, Any]], not_read: list[dict[str, str]],
                   formats: dict[str, str]) -> tuple[str, str, list[dict[str, Any]], list[dict[str, str]]]:
    """The one format the host's access logs are read with, where it came from, the logs read and
    the logs not read: `--apache-format` if given, else the host's configured one (its latest
    baseline), else `combined`. An access log configured with another format is not read."""
    if request.apache_format:
        return request.apache_format, "--apache-format", logs, not_read
    known = {log["name"]: formats.get(log["name"]) or formats.get(posixpath.basename(log["name"]))
             for log in logs if log["kind"] == "apache"}
    chosen = next((f for f in known.values() if f), None)
    if chosen is None:
        return "combined", "bawaan combined: CustomLog log ini tidak ada di baseline", logs, not_read
    other = [log for log in logs if known.get(log["name"]) not in (None, chosen)]
    why = "its LogFormat '{}' differs from '{}': report it with --apache-log and --apache-format"
    skipped = [_unread("apache", log["name"], why.format(known[log["name"]], chosen)) for log in other]
    read = [log for log in logs if log not in other]
    return chosen, "konfigurasi Apache server (baseline terakhir)", read, not_read + skipped


def _log_json(host: str, log: dict[str, Any]) -> dict[str, Any]:
    return {"kind": log["kind"], "name": log["name"],
            "sources": [f"{host}:{s['path']}" for s in log["sources"]],
            "bytes": log["bytes"], "lines": log["lines"], "cut": log["cut"], "max_bytes": log["max_bytes"],
            "day_source": log["day_source"],
            "truncated": {s["path"]: s["truncated"] for s in log["sources"] if s.get("truncated")}}


def _label(host: str, log: dict[str, Any]) -> str:
    return f"{host}:" + ", ".join(s["path"] for s in log["sources"])


def _unread(kind: str, name: str, reason: str) -> dict[str, str]:
    return {"kind": kind, "name": name, "reason": reason}


def _int(value: str) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
