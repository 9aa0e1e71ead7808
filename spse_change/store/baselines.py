"""Baselines on disk: `change_records/baselines/<host>/<id>.json`.

Ids sort by time, so a host's history is its folder listing. References
resolve the ways an admin names a baseline: an id, `HOST@latest`,
`HOST@-N` (N captures back), `HOST@approved`, or a file path.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from spse_change import __version__
from spse_change.errors import SpseChangeError
from spse_change.store.files import dump_json, locked, read_json, write_atomic

SCHEMA = "spse-change/baseline/1"
ID_RE = re.compile(r"^(?P<host>.+)-(?P<time>\d{8}T\d{6}Z)-(?P<hash>[0-9a-f]{6})$")
HOST_RE = re.compile(r"^[A-Za-z0-9_.:\-]+$")


@dataclass(frozen=True)
class BaselineInfo:
    id: str
    host: str
    captured_at: str
    label: str
    path: Path
    approved: bool = False


def new_baseline(host: str, captured: dict[str, Any], label: str = "",
                 now: datetime | None = None) -> dict[str, Any]:
    """Wrap one host's captured data in the baseline envelope."""
    now = now or datetime.now(UTC)
    digest = hashlib.sha256(json.dumps(captured["data"], sort_keys=True).encode()).hexdigest()
    return {
        "schema": SCHEMA,
        "id": f"{host}-{now:%Y%m%dT%H%M%SZ}-{digest[:6]}",
        "host": host,
        "captured_at": f"{now:%Y-%m-%dT%H:%M:%SZ}",
        "label": label,
        "tool_version": __version__,
        "incomplete": captured.get("incomplete", {}),
        "measurements": captured.get("measurements", {}),
        "data": captured["data"],
    }


class BaselineStore:
    """The baselines folder of one project's change records."""

    def __init__(self, records_dir: Path) -> None:
        self.records = records_dir
        self.root = records_dir / "baselines"

    def save(self, baseline: dict[str, Any]) -> Path:
        host = _checked_host(baseline["host"])
        path = self.root / host / f"{baseline['id']}.json"
        try:
            with locked(self.records):
                write_atomic(path, dump_json(baseline))
        except OSError as exc:
            raise SpseChangeError(f"{exc.filename or path}: cannot write ({exc.strerror})") from None
        return path

    def hosts(self) -> list[str]:
        return sorted(p.name for p in self.root.iterdir() if p.is_dir()) if self.root.is_dir() else []

    def ids(self, host: str) -> list[str]:
        """A host's baseline ids, oldest first, from file names alone (references never read files)."""
        if host not in self.hosts():
            raise SpseChangeError(f"no baselines for host '{host}' in {self.root}")
        return sorted(p.stem for p in (self.root / host).glob("*.json") if ID_RE.match(p.stem))

    def list(self, host: str | None = None) -> list[BaselineInfo]:
        """Every baseline, oldest first per host, without loading their data."""
        if host is not None and host not in self.hosts():
            raise SpseChangeError(f"no baselines for host '{host}' in {self.root}")
        approved = {h: self.approved_id(h) for h in ([host] if host else self.hosts())}
        infos = []
        for h in approved:
            for path in sorted((self.root / h).glob("*.json")):
                match = ID_RE.match(path.stem)
                if not match:
                    continue
                head = read_json(path)
                infos.append(BaselineInfo(path.stem, h, head.get("captured_at", ""),
                                          head.get("label", ""), path, path.stem == approved[h]))
        return infos

    def approved_id(self, host: str) -> str | None:
        path = self.root / host / "approved.json"
        return read_json(path)["id"] if path.is_file() else None

    def approve(self, ref: str, by: str, reason: str, now: datetime | None = None) -> dict[str, Any]:
        """Mark a host's approved baseline, keeping every earlier approval as history."""
        if not reason.strip():
            raise SpseChangeError("--reason must say why this baseline is approved")
        baseline = self.load(ref)
        host = _checked_host(baseline["host"])
        path = self.root / host / "approved.json"
        if self.resolve(ref).parent != path.parent:
            raise SpseChangeError(f"{ref}: only a stored baseline can be approved "
                                  "(this file is outside change_records)")
        stamp = f"{(now or datetime.now(UTC)):%Y-%m-%dT%H:%M:%SZ}"
        with locked(self.records):
            history = read_json(path).get("history", []) if path.is_file() else []
            entry = {"id": baseline["id"], "by": by, "at": stamp, "reason": reason.strip()}
            record = {**entry, "history": [*history, entry]}
            write_atomic(path, dump_json(record))
        return record

    def resolve(self, ref: str) -> Path:
        """Turn a reference into a baseline file, or say clearly why not."""
        candidate = Path(ref)
        if candidate.suffix == ".json" and candidate.is_file():
            return candidate
        if "@" in ref:
            host, _, which = ref.partition("@")
            return self._resolve_host_ref(_checked_host(host), which, ref)
        match = ID_RE.match(ref)
        if match:
            path = self.root / match["host"] / f"{ref}.json"
            if path.is_file():
                return path
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
            return self.root / host / f"{approved}.json"
        if which == "latest":
            back = 0
        elif re.fullmatch(r"-\d+", which):
            back = int(which[1:])
        else:
            raise SpseChangeError(f"bad reference '{ref}': after '@' use latest, -N or approved")
        if not ids or back >= len(ids):
            raise SpseChangeError(f"'{ref}': host '{host}' has only {len(ids)} baseline(s)")
        return self.root / host / f"{ids[-1 - back]}.json"

    def load(self, ref: str) -> dict[str, Any]:
        path = self.resolve(ref)
        baseline = read_json(path)
        if not isinstance(baseline, dict) or baseline.get("schema") != SCHEMA:
            raise SpseChangeError(f"{path}: not a baseline of schema {SCHEMA}")
        return baseline


def _checked_host(host: str) -> str:
    """Host names become folder names: refuse anything that could escape the store."""
    if not HOST_RE.match(host) or host in (".", ".."):
        raise SpseChangeError(f"bad host name '{host}'")
    return host
