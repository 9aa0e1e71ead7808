"""The *analisa* of the daily report: settings worth a change, each as a planned change.

Rules are data (`analysis_rules.yml`, or the project's `report_rules.yml`);
each names one of the checks declared here, which reads the report and
returns the numbers the rule's text shows (or None: nothing to flag). A rule
naming an unknown check, or missing a field, is refused when loaded: a rule
that cannot run must not look like "no finding".
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from spse_change.errors import SpseChangeError

RULES_FILE = Path(__file__).with_name("analysis_rules.yml")
PROJECT_RULES = "report_rules.yml"
REQUIRED = ("id", "check", "threshold", "target", "setting", "title", "finding", "advice", "impact",
            "rollback")
MB = 1024 * 1024

Check = Callable[[dict[str, Any], dict[str, Any]], dict[str, Any] | None]


def _temp_files(report: dict[str, Any], rule: dict[str, Any]) -> dict[str, Any] | None:
    temp = (report.get("database") or {}).get("temp_files") or {}
    count = temp.get("count", 0)
    if count < rule["threshold"]:
        return None
    avg = temp["bytes"] / count
    size_mb = 8
    while size_mb < avg / MB and size_mb < 256:
        size_mb *= 2
    return {"count": count, "size_mb": round(temp["bytes"] / MB, 1), "avg_mb": round(avg / MB, 1),
            "value": f"{size_mb}MB"}


def _checkpoints(report: dict[str, Any], rule: dict[str, Any]) -> dict[str, Any] | None:
    cp = (report.get("database") or {}).get("checkpoints") or {}
    frequent = cp.get("warnings", 0) >= rule["threshold"] or cp.get("by_wal", 0) > cp.get("by_time", 0)
    return dict(cp) if frequent and (cp.get("warnings") or cp.get("by_wal")) else None


def _lock_problems(report: dict[str, Any], rule: dict[str, Any]) -> dict[str, Any] | None:
    failed = (report.get("database") or {}).get("failed") or {}
    numbers = {"deadlocks": failed.get("deadlocks", 0), "lock_timeouts": failed.get("lock_timeouts", 0)}
    return numbers if sum(numbers.values()) >= rule["threshold"] else None


def _database_error(report: dict[str, Any], rule: dict[str, Any]) -> dict[str, Any] | None:
    errors = (report.get("database") or {}).get("top_errors") or []
    count = sum(e["count"] for e in errors if rule["match"] in e["message"])
    return {"count": count} if count >= rule["threshold"] else None


def _app_exception(report: dict[str, Any], rule: dict[str, Any]) -> dict[str, Any] | None:
    app = report.get("application") or {}
    seen = {**app.get("exceptions", {}), **app.get("root_causes", {})}
    count = max((n for name, n in seen.items() if rule["match"] in name), default=0)
    return {"count": count} if count >= rule["threshold"] else None


CHECKS: dict[str, Check] = {
    "temp_files": _temp_files,
    "checkpoints": _checkpoints,
    "lock_problems": _lock_problems,
    "database_error": _database_error,
    "app_exception": _app_exception,
}
DEFAULT_HOSTS = {"postgresql": "spse_db", "application_conf": "spse_app"}


def load_rules(project_root: Path | None = None) -> list[dict[str, Any]]:
    path = RULES_FILE
    if project_root and (project_root / PROJECT_RULES).is_file():
        path = project_root / PROJECT_RULES
    try:
        rules = (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("rules")
    except (OSError, yaml.YAMLError, AttributeError) as exc:
        raise SpseChangeError(f"{path}: not a rules file ({exc})") from None
    if not isinstance(rules, list):
        raise SpseChangeError(f"{path}: 'rules' must be a list")
    for n, rule in enumerate(rules, 1):
        missing = [k for k in REQUIRED if not isinstance(rule, dict) or k not in rule]
        if missing:
            raise SpseChangeError(f"{path}: rule {n}: missing {', '.join(missing)}")
        if rule["check"] not in CHECKS:
            raise SpseChangeError(f"{path}: rule {rule['id']}: unknown check {rule['check']!r} "
                                  f"(known: {', '.join(CHECKS)})")
        if rule["target"] not in DEFAULT_HOSTS:
            raise SpseChangeError(f"{path}: rule {rule['id']}: unknown target {rule['target']!r}")
    return rules


@dataclass(frozen=True)
class Finding:
    rule: str
    title: str
    finding: str
    advice: str
    planned_change: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        return {"rule": self.rule, "title": self.title, "finding": self.finding, "advice": self.advice,
                "planned_change": self.planned_change,
                "planned_change_yaml": yaml.safe_dump(self.planned_change, allow_unicode=True,
                                                      sort_keys=False, width=100)}


def analyse(report: dict[str, Any], rules: list[dict[str, Any]], date: str,
            hosts: str | None = None) -> list[Finding]:
    findings = []
    for rule in rules:
        numbers = CHECKS[rule["check"]](report, rule)
        if numbers is None:
            continue
        value = str(numbers.get("value", rule.get("value", "")))
        text = rule["finding"].format(**numbers)
        change = {
            "title": rule["title"],
            "reason": f"Laporan Monitoring Kinerja {date}: {text}",
            "hosts": hosts or DEFAULT_HOSTS[rule["target"]],
            "settings": {rule["target"]: {rule["setting"]: value}},
            "evaluation": {"category": "Normal", "urgency": "Tidak Mendesak", "impact": rule["impact"],
                           "rollback_plan": rule["rollback"]},
        }
        findings.append(Finding(rule["id"], rule["title"], text, rule["advice"], change))
    return findings
