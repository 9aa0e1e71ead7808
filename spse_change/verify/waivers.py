"""Waivers: `waivers.yml` in the project folder lets a check fail on a host, for a reason, until a date.

    waivers:
      - {host: db1, check: pg-hba-no-trust, reason: "migrasi ke md5, tiket 42", expires: 2027-01-31}

`check` is the id exactly as the text output and the JUnit testcase name
show it (`conformance:<path>` included). A waiver applies up to and
including its `expires` day; after it, the check fails again and its
message says the waiver expired.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import yaml

from spse_change.errors import SpseChangeError
from spse_change.verify.registry import Registry

FILE = "waivers.yml"
FIELDS = ("host", "check", "reason", "expires")


@dataclass(frozen=True)
class Waiver:
    host: str
    check: str
    reason: str
    expires: dt.date

    def active(self, today: dt.date) -> bool:
        return today <= self.expires

    def describe(self, today: dt.date) -> str:
        if self.active(today):
            return f"waived until {self.expires.isoformat()}: {self.reason}"
        return f"waiver expired on {self.expires.isoformat()} ({self.reason})"


def load_waivers(project_dir: Path, registry: Registry) -> Mapping[tuple[str, str], Waiver]:
    """(host, check id) → waiver; a malformed file is one error naming the entry and field."""
    path = project_dir / FILE
    if not path.is_file():
        return {}
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise SpseChangeError(f"{path}: not valid YAML ({' '.join(str(exc).split())})") from None
    entries = document.get("waivers") if isinstance(document, dict) else None
    if not isinstance(entries, list):
        raise SpseChangeError(f"{path}: must hold 'waivers:' with a list of entries")
    found: dict[tuple[str, str], Waiver] = {}
    for index, raw in enumerate(entries):
        where = f"{path}: waivers[{index}]"
        if not isinstance(raw, dict):
            raise SpseChangeError(f"{where}: must be a mapping with {', '.join(FIELDS)}")
        missing = [f for f in FIELDS if raw.get(f) in (None, "")]
        unknown = sorted(set(raw) - set(FIELDS))
        if missing or unknown:
            what = f"missing {', '.join(missing)}" if missing else f"unknown {', '.join(unknown)}"
            raise SpseChangeError(f"{where}: {what}")
        expires = raw["expires"]
        if isinstance(expires, str):
            try:
                expires = dt.date.fromisoformat(expires)
            except ValueError:
                expires = None
        if not isinstance(expires, dt.date) or isinstance(expires, dt.datetime):
            raise SpseChangeError(f"{where}.expires: must be a date YYYY-MM-DD")
        check = str(raw["check"])
        try:
            registry.check(check)  # an unknown id is a typo that would silently waive nothing
        except SpseChangeError as exc:
            raise SpseChangeError(f"{where}.check: {exc.message}") from None
        waiver = Waiver(str(raw["host"]), check, str(raw["reason"]), expires)
        found[(waiver.host, waiver.check)] = waiver
    return found
