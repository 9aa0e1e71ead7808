"""Baselines on disk: `change_records/baselines/<host>/<id>.json`.

Ids sort by time, so a host's history is its folder listing. References
resolve the ways an admin names a baseline: an id, `HOST@latest`,
`HOST@-N` (N captures back), `HOST@approved`, or a file path.
Everything read back from disk (a baseline, `approved.json`, an id) is
checked before it is used or becomes a path; baselines of schema 1 are
migrated on read (docs/baseline-schema.md).
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from spse_change import __version__
from spse_change.errors import SpseChangeError
from spse_change.store.files import dump_json, locked, private_dir, read_json, write_atomic, writing

SCHEMA = "spse-change/baseline/2"
SCHEMA_1 = "spse-change/baseline/1"
_HOST = r"[A-Za-z0-9_.:\-]+"
HOST_RE = re.compile(rf"^{_HOST}$")
# <host>-<UTC time, microseconds since schema 2>-<6 hex>; schema 1 ids have whole seconds.
ID_RE = re.compile(rf"^(?P<host>{_HOST})-(?P<time>\d{{8}}T\d{{6}})(?:\.(?P<micro>\d{{6}}))?Z"
                   r"-(?P<tag>[0-9a-f]{6})$")


@dataclass(frozen=True)
class BaselineInfo:
    id: str
    host: str
    captured_at: str
    label: str
    path: Path
    approved: bool = False


def new_id(host: str, data: Mapping[str, Any], now: datetime, salt: bytes | None = None) -> str:
    """`db1-20261128T120449.123456Z-3f9a1c`: sortable by time, unique even within one microsecond.

    The tag hashes the data with 8 random bytes, so two captures of the
    same host at the same instant still get different ids; with `salt` (a
    signed result's nonce) the id is the same each time that result is stored.
    """
    salted = json.dumps(data, sort_keys=True).encode() + (salt or secrets.token_bytes(8))
    return f"{_checked_host(host)}-{now:%Y%m%dT%H%M%S.%fZ}-{hashlib.sha256(salted).hexdigest()[:6]}"


def id_order(baseline_id: str) -> tuple[str, str, str]:
    """Sort key of an id: its time (a schema-1 id's at .000000), then its tag."""
    match = ID_RE.match(baseline_id)
    if match is None:
        raise ValueError(f"not a baseline id: {baseline_id!r}")
    return match["time"], match["micro"] or "000000", match["tag"]


def new_baseline(host: str, captured: Mapping[str, Any], label: str = "",
                 now: datetime | None = None, salt: bytes | None = None) -> dict[str, Any]:
    """Wrap one host's captured module JSON in the schema-2 envelope; a bad payload is one line.

    `now` and `salt` (a signed result's time and nonce) make the id and time the same whichever
    way that result arrives (a capture, or an import of its events)."""
    now = now or datetime.now(UTC)
    if not isinstance(captured, Mapping):
        raise SpseChangeError(f"host {host}: the captured result is not a JSON object")
    if not isinstance(captured.get("data"), Mapping):
        raise SpseChangeError(f"host {host}: the captured result has no 'data' mapping")
    baseline = {
        "schema": SCHEMA,
        "id": new_id(host, captured["data"], now, salt),
        "host": host,
        "captured_at": f"{now:%Y-%m-%dT%H:%M:%SZ}",
        "label": label,
        "tool_version": __version__,
        "groups": captured.get("groups", []),
        "incomplete": captured.get("incomplete", {}),
        "measurements": captured.get("measurements", {}),
        "discovery": captured.get("discovery", {}),
        "data": captured["data"],
    }
    return checked_baseline(baseline, f"host {host}")


def _is_str_map(value: Any) -> bool:
    return isinstance(value, dict) and all(isinstance(k, str) and isinstance(v, str)
                                           for k, v in value.items())


def _is_str_list(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(item, str) for item in value)


# field -> (check, what it must be); checked in this order
_FIELDS: tuple[tuple[str, Callable[[Any], bool], str], ...] = (
    ("host", lambda v: valid_host(v), "a host name"),
    ("id", lambda v: isinstance(v, str) and ID_RE.match(v) is not None, "a baseline id"),
    ("captured_at", lambda v: isinstance(v, str), "a string"),
    ("label", lambda v: isinstance(v, str), "a string"),
    ("tool_version", lambda v: isinstance(v, str), "a string"),
    ("groups", _is_str_list, "a list of group names"),
    ("incomplete", _is_str_map, "a mapping of strings to strings"),
    ("measurements", lambda v: isinstance(v, dict), "a mapping"),
    ("discovery", lambda v: isinstance(v, dict), "a mapping"),
    ("data", lambda v: isinstance(v, dict) and all(isinstance(k, str) for k in v),
     "a mapping of categories"),
)


def checked_baseline(document: Any, source: str) -> dict[str, Any]:
    """The document as a schema-2 baseline (schema 1 migrated), or one line naming `source` and field."""
    if not isinstance(document, dict) or document.get("schema") not in (SCHEMA, SCHEMA_1):
        raise SpseChangeError(f"{source}: not a baseline of schema {SCHEMA} (or {SCHEMA_1})")
    if document["schema"] == SCHEMA_1:
        document = {**document, "schema": SCHEMA, "migrated_from": SCHEMA_1,
                    "groups": [], "discovery": {}}
    for name, check, what in _FIELDS:
        if name not in document:
            raise SpseChangeError(f"{source}: field '{name}' is missing")
        if not check(document[name]):
            raise SpseChangeError(f"{source}: field '{name}' must be {what}")
    if ID_RE.match(document["id"])["host"] != document["host"]:  # type: ignore[index]
        raise SpseChangeError(f"{source}: field 'id' names another host than '{document['host']}'")
    return document


class BaselineStore:
    """The baselines folder of one project's change records."""

    def __init__(self, records_dir: Path) -> None:
        self.records = records_dir
        self.root = records_dir / "baselines"

    def save(self, baseline: dict[str, Any]) -> Path:
        """Store a new baseline; an existing file is never replaced."""
        host = _checked_host(baseline["host"])
        path = self.root / host / f"{baseline['id']}.json"
        with writing(path), locked(self.records):
            self._private(host)
            if path.exists():
                raise SpseChangeError(f"{path}: a baseline with this id is already stored")
            write_atomic(path, dump_json(baseline))
        return path

    def _private(self, host: str) -> None:
        """The store's folders are 0700, also when an older version made them 0755."""
        private_dir(self.root, tighten=True)
        private_dir(self.root / host, tighten=True)

    def hosts(self) -> list[str]:
        if not self.root.is_dir():
            return []
        return sorted(p.name for p in self.root.iterdir() if p.is_dir() and valid_host(p.name))

    def ids(self, host: str) -> list[str]:
        """A host's baseline ids, oldest first, from file names alone (references never read files)."""
        if host not in self.hosts():
            raise SpseChangeError(f"no baselines for host '{host}' in {self.root}")
        found = [p.stem for p in (self.root / host).glob("*.json")]
        return sorted((i for i in found if _id_host(i) == host), key=id_order)

    def list(self, host: str | None = None) -> list[BaselineInfo]:
        """Every baseline, oldest first per host (each file checked as it is read)."""
        hosts = [host] if host is not None else self.hosts()
        infos = []
        for h in hosts:
            approved = self.approved_id(h)
            for baseline_id in self.ids(h):
                path = self.root / h / f"{baseline_id}.json"
                head = self._read(path)
                infos.append(BaselineInfo(baseline_id, h, head["captured_at"], head["label"], path,
                                          baseline_id == approved))
        return infos

    def approved_id(self, host: str) -> str | None:
        """The id `approved.json` names, checked before it becomes a path."""
        path = self.root / _checked_host(host) / "approved.json"
        if not path.is_file():
            return None
        record = read_json(path)
        if not isinstance(record, dict):
            raise SpseChangeError(f"{path}: not an approval record (a JSON object)")
        approved = record.get("id")
        if not isinstance(approved, str) or _id_host(approved) != host:
            raise SpseChangeError(f"{path}: field 'id' must be a baseline id of host '{host}'")
        if not isinstance(record.get("history", []), list):
            raise SpseChangeError(f"{path}: field 'history' must be a list")
        return approved

    def approve(self, ref: str, by: str, reason: str, now: datetime | None = None,
                record: str | None = None) -> dict[str, Any]:
        """Mark a host's approved baseline, keeping every earlier approval as history.

        `record`: the change record whose verified change made this the approved state.
        """
        if not reason.strip():
            raise SpseChangeError("--reason must say why this baseline is approved")
        source = self.resolve(ref)
        baseline = self._read(source)
        host = baseline["host"]
        path = self.root / host / "approved.json"
        if source.parent != path.parent.resolve():
            raise SpseChangeError(f"{ref}: only a stored baseline can be approved "
                                  "(this file is outside change_records)")
        stamp = f"{(now or datetime.now(UTC)):%Y-%m-%dT%H:%M:%SZ}"
        with writing(path), locked(self.records):
            self._private(host)
            self.approved_id(host)  # a damaged record is said, not overwritten
            history = read_json(path).get("history", []) if path.is_file() else []
            entry = {"id": baseline["id"], "by": by, "at": stamp, "reason": reason.strip(),
                     **({"record": record} if record else {})}
            record = {**entry, "history": [*history, entry]}
            write_atomic(path, dump_json(record))
        return record

    def resolve(self, ref: str) -> Path:
        """Turn a reference into a baseline file (an absolute path), or say clearly why not."""
        candidate = Path(ref)
        if candidate.suffix == ".json" and candidate.is_file():
            return candidate.resolve()
        if "@" in ref:
            host, _, which = ref.partition("@")
            return self._resolve_host_ref(_checked_host(host), which, ref)
        host = _id_host(ref)
        if host is not None:
            path = self.root / host / f"{ref}.json"
            if path.is_file():
                return path.resolve()
        raise SpseChangeError(
            f"unknown baseline '{ref}': use an id from 'spse-change baseline list', "
            "HOST@latest, HOST@-N, HOST@approved or a .json file")

    def _resolve_host_ref(self, host: str, which: str, ref: str) -> Path:
        ids = self.ids(host)
        if which == "approved":
            approved = self.approved_id(host)
            if approved is None:
                raise SpseChangeError(f"host '{host}' has no approved baseline "
                                      "(spse-change baseline approve REF --reason TEXT)")
            return (self.root / host / f"{approved}.json").resolve()
        if which == "latest":
            back = 0
        elif re.fullmatch(r"-\d+", which):
            back = int(which[1:])
        else:
            raise SpseChangeError(f"bad reference '{ref}': after '@' use latest, -N or approved")
        if not ids or back >= len(ids):
            raise SpseChangeError(f"'{ref}': host '{host}' has only {len(ids)} baseline(s)")
        return (self.root / host / f"{ids[-1 - back]}.json").resolve()

    def load(self, ref: str) -> dict[str, Any]:
        """The baseline a reference names, checked and (schema 1) migrated."""
        return self._read(self.resolve(ref))

    def _read(self, path: Path) -> dict[str, Any]:
        baseline = checked_baseline(read_json(path), str(path))
        stored = self.root.resolve() in path.resolve().parents
        if stored and (path.stem, path.parent.name) != (baseline["id"], baseline["host"]):
            raise SpseChangeError(f"{path}: field 'id' ({baseline['id']}) does not match "
                                  "the file's name and folder")
        return baseline


def _id_host(baseline_id: str) -> str | None:
    """The host an id names, if it is a valid id of a valid host."""
    match = ID_RE.match(baseline_id)
    return match["host"] if match and valid_host(match["host"]) else None


def valid_host(host: Any) -> bool:
    """Host names become folder names: nothing that could escape the store."""
    return isinstance(host, str) and HOST_RE.match(host) is not None and host not in (".", "..")


def _checked_host(host: str) -> str:
    if not valid_host(host):
        raise SpseChangeError(f"bad host name '{host}'")
    return host
