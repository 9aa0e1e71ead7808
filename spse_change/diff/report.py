"""A classified diff, as the text an admin reads and the JSON other tools read.

The JSON document is a contract (`spse-change/diff/1`, docs/diff-json.md).
A secret's marker is never written out: its old/new are null in JSON and
the text says only `secret changed`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from itertools import groupby
from typing import Any, Literal

from spse_change.diff.classify import Classified
from spse_change.diff.values import display

SCHEMA = "spse-change/diff/1"
Verdict = Literal["none", "minor", "major"]
VERDICT_TEXT = {"minor": "MINOR: LPSE handles it internally", "major": "MAJOR: consult ITO LKPP"}
_COLORS = {"major": "\033[1;31m", "minor": "\033[33m"}
_RESET = "\033[0m"


@dataclass(frozen=True, slots=True)
class BaselineRef:
    """Which baseline a side of the diff is."""

    id: str
    host: str
    captured_at: str

    @classmethod
    def of(cls, baseline: Mapping[str, Any]) -> BaselineRef:
        return cls(baseline.get("id", ""), baseline.get("host", ""),
                   baseline.get("captured_at", ""))


@dataclass(frozen=True, slots=True)
class DiffReport:
    old: BaselineRef
    new: BaselineRef
    items: tuple[Classified, ...]  # sorted by category, then path; ignored ones left out
    ignored: int
    not_compared: Mapping[str, str]  # path -> why one side could not be read
    categories: tuple[str, ...] | None  # the filter asked for, None for all

    @property
    def verdict(self) -> Verdict:
        """Major when any item is major (SOP activity 5)."""
        classes = {item.cls for item in self.items}
        return "major" if "major" in classes else "minor" if classes else "none"

    def counts(self) -> dict[str, int]:
        return {"total": len(self.items),
                "minor": sum(item.cls == "minor" for item in self.items),
                "major": sum(item.cls == "major" for item in self.items),
                "ignored": self.ignored}

    def summary_line(self) -> str:
        """E.g. `5 changes: 4 minor, 1 major → MAJOR: consult ITO LKPP`."""
        counts = self.counts()
        ignored = f" ({self.ignored} ignored)" if self.ignored else ""
        if not self.items:
            return f"no changes{ignored}"
        total = counts["total"]
        parts = ", ".join(f"{counts[cls]} {cls}" for cls in ("minor", "major") if counts[cls])
        plural = "" if total == 1 else "s"
        return f"{total} change{plural}: {parts}{ignored} → {VERDICT_TEXT[self.verdict]}"

    def to_json(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA,
            "old": _ref_json(self.old),
            "new": _ref_json(self.new),
            "categories": list(self.categories) if self.categories is not None else None,
            "items": [_item_json(item) for item in self.items],
            "not_compared": dict(self.not_compared),
            "counts": self.counts(),
            "verdict": self.verdict,
        }


def _ref_json(ref: BaselineRef) -> dict[str, str]:
    return {"id": ref.id, "host": ref.host, "captured_at": ref.captured_at}


def _item_json(item: Classified) -> dict[str, Any]:
    change = item.change
    secret = change.secret
    return {
        "category": change.category, "path": change.path, "kind": change.kind,
        "old": None if secret else change.old, "new": None if secret else change.new,
        "class": item.cls, "rule": item.rule_id, "reason": item.reason, "secret": secret,
    }


def _describe(item: Classified) -> str:
    """`changed: a → b`, `added: …`, `removed: …`, or for a secret only `secret changed`."""
    change = item.change
    if change.secret:
        return f"secret {change.kind}"
    if change.kind == "changed":
        return f"changed: {display(change.old)} → {display(change.new)}"
    return f"{change.kind}: {display(change.new if change.kind == 'added' else change.old)}"


def render_text(report: DiffReport, color: bool = False) -> str:
    """Items grouped by category, each with its class, rule and reason; one summary line last."""
    def paint(cls: str, text: str) -> str:
        return f"{_COLORS[cls]}{text}{_RESET}" if color and cls in _COLORS else text

    lines = [f"{report.old.id} → {report.new.id}"]
    for category, group in groupby(report.items, key=lambda item: item.change.category):
        lines.append("")
        lines.append(f"{category}:")
        for item in group:
            lines.append(f"  {paint(item.cls, f'{item.cls:<5}')}  {item.change.path} {_describe(item)}")
            lines.append(f"         {item.rule_id}: {item.reason}")
    if report.not_compared:
        lines.append("")
        lines += [f"not compared: {path} ({why})" for path, why in report.not_compared.items()]
    lines.append("")
    lines.append(paint(report.verdict, report.summary_line()))
    return "\n".join(lines)
