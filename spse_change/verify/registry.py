"""The standard checks and their settings, as data (`default_verify.yml` + the project's `verify.yml`).

    registry = load_registry(project.root)
    registry.check("pg-hba-no-trust").en       # what it means
    registry.settings["cert_min_days"]          # a threshold

Check ids are fixed: waivers, the text output and the JUnit testcase names use them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from spse_change.errors import SpseChangeError

DEFAULTS = Path(__file__).with_name("default_verify.yml")
PROJECT_FILE = "verify.yml"
CONFORMANCE = "conformance"


@dataclass(frozen=True)
class Check:
    id: str
    groups: tuple[str, ...]
    en: str
    id_ID: str  # the Indonesian description

    def applies_to(self, groups: tuple[str, ...]) -> bool:
        return any(g in self.groups for g in groups)


@dataclass(frozen=True)
class Registry:
    checks: Mapping[str, Check]
    settings: Mapping[str, Any]

    def check(self, check_id: str) -> Check:
        """The check an id names; `conformance:<path>` ids belong to `conformance`."""
        base = CONFORMANCE if check_id.startswith(CONFORMANCE + ":") else check_id
        try:
            return self.checks[base]
        except KeyError:
            raise SpseChangeError(f"unknown check id '{check_id}' "
                                  f"(known: {', '.join(self.checks)}, conformance:<path>)") from None


def load_registry(project_dir: Path | None) -> Registry:
    defaults = _read(DEFAULTS)
    checks = {raw["id"]: Check(raw["id"], tuple(raw["groups"]), raw["en"], raw["id_ID"])
              for raw in defaults["checks"]}
    settings = dict(defaults["settings"])
    own = project_dir / PROJECT_FILE if project_dir else None
    if own and own.is_file():
        document = _read(own)
        unknown = set(document) - {"settings"}
        if unknown:
            raise SpseChangeError(f"{own}: unknown key(s) {', '.join(sorted(unknown))} (only 'settings')")
        for key, value in (document.get("settings") or {}).items():
            if key not in settings:
                raise SpseChangeError(f"{own}: settings.{key}: unknown setting "
                                      f"(known: {', '.join(settings)})")
            if type(value) is not type(settings[key]):
                raise SpseChangeError(f"{own}: settings.{key}: must be a {type(settings[key]).__name__}")
            settings[key] = value
    return Registry(checks, settings)


def _read(path: Path) -> dict[str, Any]:
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise SpseChangeError(f"{path}: not valid YAML ({' '.join(str(exc).split())})") from None
    if not isinstance(document, dict):
        raise SpseChangeError(f"{path}: must be a mapping")
    return document
