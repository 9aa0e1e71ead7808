"""A classified diff, as the text an admin reads and the JSON other tools read.

The JSON document is a contract (`spse-change/diff/2`, docs/diff-json.md).
A secret marker is never written out: text and JSON show each one as `***`,
and a change of nothing but the secret reads `secret changed`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from itertools import groupby
from typing import Any, Literal

from spse_change.diff.classify import Classified
from spse_change.diff.policy import UNMATCHED
from spse_change.diff.values import display, masked

SCHEMA = "spse-change/diff/2"
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
    def complete(self) -> bool:
        """Everything asked for was compared: only then can "no changes" mean clean."""
        return not self.not_compared

    @property
    def clean(self) -> bool:
        """Compared everything and found nothing to list (exit 0 of `diff` and `drift`)."""
        return self.complete and not self.items

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
        missing = f"; not compared: {', '.join(self.not_compared)}" if self.not_compared else ""
        if not self.items:
            return f"no changes{ignored}{missing}"
        total = counts["total"]
        parts = ", ".join(f"{counts[cls]} {cls}" for cls in ("minor", "major") if counts[cls])
        plural = "" if total == 1 else "s"
        return f"{total} change{plural}: {parts}{ignored}{missing} → {VERDICT_TEXT[self.verdict]}"

    def to_json(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA,
            "old": _ref_json(self.old),
            "new": _ref_json(self.new),
            "categories": list(self.categories) if self.categories is not None else None,
            "items": [_item_json(item) for item in self.items],
            "not_compared": dict(self.not_compared),
            "complete": self.complete,
            "counts": self.counts(),
            "verdict": self.verdict,
        }


def _ref_json(ref: BaselineRef) -> dict[str, str]:
    return {"id": ref.id, "host": ref.host, "captured_at": ref.captured_at}


def _item_json(item: Classified) -> dict[str, Any]:
    change = item.change
    shown = {
        "category": change.category, "path": masked(change.path), "kind": change.kind,
        "old": masked(change.old), "new": masked(change.new), "summary": describe(item),
        "class": item.cls, "rule": item.rule_id, "reason": item.reason, "secret": change.secret,
    }
    if item.alasan is not None:
        shown["alasan"] = item.alasan
    return shown


def describe(item: Classified) -> str:
    """What happened, after the path: `changed: a → b`, `content changed`, `secret changed`, …

    A file's digest says only that its content changed; a value whose only
    difference is inside its secret markers says `secret changed`.
    """
    change = item.change
    if change.kind != "changed":
        shown = display(change.new if change.kind == "added" else change.old)
        return f"{change.kind}: {shown}"
    if change.digest:
        return "content changed"
    old, new = masked(change.old), masked(change.new)
    if change.secret and old == new:
        return "secret changed"
    return f"changed: {display(old)} → {display(new)}"


def says_more(item: Classified) -> bool:
    """Whether the reason earns a line of its own under the item line.

    The item line already gives the path, the values and the rule id; a
    minor item is a setting the LPSE handles, which its class says. A major
    or unmatched item is what the admin must justify to ITO LKPP, so its
    reason is printed.
    """
    return item.cls == "major" or item.rule_id == UNMATCHED


def render_text(report: DiffReport, color: bool = False) -> str:
    """Items grouped by category, each with class, path, what changed and rule; one summary last."""
    def paint(cls: str, text: str) -> str:
        return f"{_COLORS[cls]}{text}{_RESET}" if color and cls in _COLORS else text

    lines = [f"{report.old.id} → {report.new.id}"]
    for category, group in groupby(report.items, key=lambda item: item.change.category):
        lines.append("")
        lines.append(f"{category}:")
        for item in group:
            lines.append(f"  {paint(item.cls, f'{item.cls:<5}')}  {masked(item.change.path)} "
                         f"{describe(item)}   ({item.rule_id})")
            if says_more(item):
                lines.append(f"         {item.reason}")
    if report.not_compared:
        lines.append("")
        lines += [f"not compared: {path} ({why})" for path, why in report.not_compared.items()]
    lines.append("")
    lines.append(paint(report.verdict, report.summary_line()))
    return "\n".join(lines)
