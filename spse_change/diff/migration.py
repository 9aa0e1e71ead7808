"""Diffing across baseline schemas: what only the newer schema records is not a change.

A host approved under schema 1 and captured again under schema 2 must not
report drift just because schema 2 records more (every JDK, a second
PostgreSQL cluster, a device-mapper name), hashes more files with the key,
or redacts secrets schema 1 kept in clear. Such differences match the
rules below, tried before the policy's, and are ignored; everything else
is compared as usual. The schema-1 side's value is withheld wherever the
schema-2 side holds a secret marker, since schema 1 may have kept that
secret in clear.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from spse_change.diff.compare import Change
from spse_change.diff.policy import Match, Policy, Rule
from spse_change.diff.values import MASK, is_secret

SCHEMA_1 = "spse-change/baseline/1"
ORIGIN = "schema 1 → 2"

# Paths schema 2 records and schema 1 never did (baseline-schema.md, "Schema 2").
SCHEMA2_ONLY = ("database_*", "spse.jdks", "spse.jdks.**", "spse.instances.*.java_home",
                "config.*.parse_error", "hardware.block_devices.*.dm_name")

NEW_IN_SCHEMA2 = Rule("SCHEMA2-NEW", "Recorded only since baseline schema 2",
                      Match(paths=SCHEMA2_ONLY, kinds=("added", "removed")), "ignore",
                      "{path} is recorded only since baseline schema 2", ORIGIN)
RULES = (
    NEW_IN_SCHEMA2,
    Rule("SCHEMA2-HMAC", "A file that may hold secrets is hashed with the key since schema 2",
         Match(paths=("config.*.sha256", "config.*.hmac"), kinds=("added", "removed")), "ignore",
         "{path}: schema 2 hashes this file with the key; the digests cannot be compared",
         ORIGIN),
    Rule("SCHEMA2-REDACT", "A secret schema 1 kept in clear is redacted since schema 2",
         Match(paths=("**",), kinds=("changed",), condition="only_redaction_differs"), "ignore",
         "{path}: schema 2 redacts a secret here", ORIGIN),
)


@dataclass(frozen=True, slots=True)
class SchemaBridge:
    """One side of a diff was migrated on read from schema 1, the other was not."""

    old_is_v1: bool

    def lacks_by_schema(self, lacking: Mapping[str, Any], category: str) -> bool:
        """A top-level category (`database_5433`) schema 1 could not have recorded."""
        return _migrated(lacking) and NEW_IN_SCHEMA2.match.matches(
            Change(category, "added", None, {}, category))

    def policy(self, policy: Policy) -> Policy:
        return Policy((*RULES, *policy.rules))

    def withhold(self, change: Change) -> Change:
        """Hide the schema-1 value where the schema-2 value holds a secret marker."""
        v1, v2 = (change.old, change.new) if self.old_is_v1 else (change.new, change.old)
        if v1 is None or not is_secret(v2) or is_secret(v1):
            return change
        return replace(change, **{"old" if self.old_is_v1 else "new": MASK})


def schema_bridge(old: Mapping[str, Any], new: Mapping[str, Any]) -> SchemaBridge | None:
    """A bridge when exactly one side was read from a schema-1 file, else None."""
    if _migrated(old) == _migrated(new):
        return None
    return SchemaBridge(old_is_v1=_migrated(old))


def _migrated(baseline: Mapping[str, Any]) -> bool:
    return baseline.get("migrated_from") == SCHEMA_1
