"""A record's fields: what LPSEs keep (request, evaluation, approval, implementation) plus ours.

Evaluation fields an admin leaves out take a default and are listed in the
record's `defaulted`, so a default is never mistaken for a decision.

    new = read_new_record(Path("perubahan.yml"))      # `record new --from FILE`
    new = NewRecord(title="Naikkan work_mem", hosts=("db1",), items=items_of("db1", report))
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from spse_change.diff import DiffReport
from spse_change.errors import SpseChangeError
from spse_change.records.sop import IMPACTS, URGENCIES
from spse_change.yamlfile import Reader, load_yaml

TYPES = ("Aplikasi", "Infrastruktur", "Layanan")
CATEGORIES = ("Normal", "Emergency")
RESOURCES = ("Software", "Hardware", "SDM")
CLASSES = ("minor", "major")

REQUEST_FIELDS = ("date", "requester", "contact", "unit", "description", "purpose", "effective_date")
EVALUATION_DEFAULTS: Mapping[str, Any] = {
    "type": "Infrastruktur", "category": "Normal", "urgency": "Tidak Mendesak", "impact": "Kecil",
    "resources": [], "test_plan": "", "rollback_plan": "", "window": None,
    "risk": "", "schedule": "", "estimated_cost": "",
}
ITEM_FIELDS = ("host", "category", "path", "kind", "old", "new", "summary", "class", "rule",
               "reason", "alasan", "secret")
_NEW_FIELDS = frozenset({"title", "hosts", "request", "evaluation"})
_DETAIL_FIELDS = frozenset({"request", "evaluation"})
_HOST = re.compile(r"[A-Za-z0-9_.:\-]+")


@dataclass(frozen=True)
class NewRecord:
    """What a new record is made of. `items` are classified diff items, each naming its `host`.

    `baselines` maps each host to the baseline the plan was made against;
    `plan` is the planned change document (JSON-able; sealed in the first
    event, so apply reads what was approved); `attachments` maps file names
    to their bytes (the plan file, the check-mode diff), stored with the
    record's first events. `observed_baselines` maps each host to the
    `before` and `after` baselines of a change already made (`record new
    --diff`): such a record is `observed`, nothing is left to apply.
    """

    title: str
    hosts: tuple[str, ...] = ()
    request: Mapping[str, Any] = field(default_factory=dict)
    evaluation: Mapping[str, Any] = field(default_factory=dict)
    items: tuple[Mapping[str, Any], ...] = ()
    baselines: Mapping[str, str] = field(default_factory=dict)
    plan: Mapping[str, Any] | None = None
    attachments: Mapping[str, bytes] = field(default_factory=dict)
    observed_baselines: Mapping[str, Mapping[str, str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        source = "new record"
        reader = Reader(source)
        reader.text(self.title, "title")
        for host in (*self.hosts, *self.baselines, *self.observed_baselines,
                     *(i.get("host") for i in self.items)):
            if not isinstance(host, str) or not _HOST.fullmatch(host) or host in (".", ".."):
                reader.fail("hosts", f"bad host name {host!r}")
        for host, ids in self.observed_baselines.items():
            if set(ids) != {"before", "after"} or not all(isinstance(i, str) for i in ids.values()):
                reader.fail(f"observed_baselines.{host}", "must give the before and after baseline ids")
        check_request(self.request, reader)
        check_evaluation(self.evaluation, reader)
        for index, item in enumerate(self.items):
            check_item(item, reader, f"items[{index}]")
        if self.plan is not None:
            try:
                json.dumps(self.plan, allow_nan=False)
            except (TypeError, ValueError) as exc:
                reader.fail("plan", f"must be JSON data ({exc})")


def items_of(host: str, report: DiffReport) -> tuple[dict[str, Any], ...]:
    """A host's classified diff items (as `diff --json` writes them, secrets masked) for a record."""
    return tuple({"host": host, **item} for item in report.to_json()["items"])


def read_new_record(path: Path) -> NewRecord:
    """`record new --from FILE`: title, hosts, request and evaluation fields; unknown ones refused."""
    reader = Reader(str(path))
    doc = reader.mapping(load_yaml(path), "top level", _NEW_FIELDS)
    hosts = doc.get("hosts", [])
    return _checked(reader, lambda: NewRecord(
        title=reader.text(doc.get("title"), "title"),
        hosts=reader.texts(hosts, "hosts") if hosts else (),
        request=plain(doc.get("request", {})), evaluation=plain(doc.get("evaluation", {}))))


def read_record_details(path: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """`record new --diff … --from FILE`: request and evaluation fields (the title comes from
    --title, the hosts from the diff); an unknown field or value names the file and field."""
    reader = Reader(str(path))
    doc = reader.mapping(load_yaml(path), "top level", _DETAIL_FIELDS)
    request, evaluation = plain(doc.get("request", {})), plain(doc.get("evaluation", {}))
    check_request(request, reader)
    check_evaluation(evaluation, reader)
    return request, evaluation


def _checked(reader: Reader, build: Any) -> NewRecord:
    """Errors found while building name the file, not "new record"."""
    try:
        return build()
    except SpseChangeError as exc:
        raise SpseChangeError(exc.message.replace("new record:", f"{reader.source}:", 1)) from None


def plain(value: Any) -> Any:
    """YAML dates become ISO strings: records hold JSON."""
    if isinstance(value, Mapping):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [plain(item) for item in value]
    return value.isoformat() if isinstance(value, date | datetime) else value


def check_request(request: Any, reader: Reader) -> None:
    request = reader.mapping(request, "request", frozenset(REQUEST_FIELDS))
    for name, value in request.items():
        if name in ("date", "effective_date"):
            _iso_date(value, reader, f"request.{name}")
        else:
            reader.text(value, f"request.{name}", empty=True)


def check_evaluation(evaluation: Any, reader: Reader) -> None:
    evaluation = reader.mapping(evaluation, "evaluation", frozenset(EVALUATION_DEFAULTS))
    choices = {"type": TYPES, "category": CATEGORIES, "urgency": URGENCIES, "impact": IMPACTS}
    for name, value in evaluation.items():
        where = f"evaluation.{name}"
        if name in choices:
            reader.text(value, where, choices[name])
        elif name == "resources":
            reader.texts(value, where, RESOURCES)
        elif name == "window":
            if value is not None:
                parse_window(reader.text(value, where), reader, where)
        else:
            reader.text(value, where, empty=True)


def check_item(item: Any, reader: Reader, where: str) -> None:
    item = reader.mapping(item, where, frozenset(ITEM_FIELDS))
    for name in ("host", "path", "rule", "reason"):
        reader.text(item.get(name), f"{where}.{name}")
    reader.text(item.get("class"), f"{where}.class", CLASSES)
    if "alasan" in item:
        reader.text(item["alasan"], f"{where}.alasan")


def evaluation_with_defaults(given: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """The evaluation with every missing field defaulted, and the names of those defaulted."""
    defaulted = [name for name in EVALUATION_DEFAULTS if name not in given]
    values = {**EVALUATION_DEFAULTS, **given}
    if isinstance(values["resources"], str):
        values["resources"] = [values["resources"]]
    return values, [f"evaluation.{name}" for name in defaulted]


def parse_window(text: str, reader: Reader | None = None,
                 where: str = "window") -> tuple[datetime, datetime]:
    """`2026-12-01T22:00/2026-12-01T23:00` (ISO 8601; no offset = this machine's time zone)."""
    reader = reader or Reader("maintenance window")
    start_text, sep, end_text = text.partition("/")
    try:
        if not sep:
            raise ValueError
        start, end = (_aware(datetime.fromisoformat(part.strip())) for part in (start_text, end_text))
    except ValueError:
        reader.fail(where, f"{text!r} is not START/END (e.g. 2026-12-01T22:00/2026-12-01T23:00)")
    if end <= start:
        reader.fail(where, f"{text!r} ends before it starts")
    return start, end


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.astimezone()


def _iso_date(value: Any, reader: Reader, where: str) -> None:
    try:
        date.fromisoformat(reader.text(value, where))
    except ValueError:
        reader.fail(where, f"{value!r} is not a date (YYYY-MM-DD)")


def hosts_of(new: NewRecord) -> list[str]:
    """Every host the record names: given, in its items, or in its baselines."""
    named: Sequence[str] = (*new.hosts, *(i["host"] for i in new.items), *new.baselines,
                            *new.observed_baselines)
    return sorted(set(named))
