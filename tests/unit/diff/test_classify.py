"""classify(): the first matching rule decides; nothing matching is major; reasons never leak."""

from __future__ import annotations

from spse_change.diff import Change, Match, Policy, Rule, classify

MARK = "secret:hmac-sha256:" + "9" * 32


def rule(rule_id: str, path: str, cls: str, reason: str = "{path}: {old} → {new}") -> Rule:
    return Rule(rule_id, rule_id, Match(paths=(path,)), cls, reason, "test")  # type: ignore[arg-type]


POLICY = Policy((rule("FIRST", "os.kernel", "minor"), rule("SECOND", "os.**", "major"),
                 rule("QUIET", "ports.**", "ignore")))


def change(path: str, old: object = "a", new: object = "b") -> Change:
    return Change(path, "changed", old, new, path.split(".")[0])


def test_first_matching_rule_wins() -> None:
    assert (classify(change("os.kernel"), POLICY).rule_id,
            classify(change("os.hostname"), POLICY).rule_id) == ("FIRST", "SECOND")


def test_no_rule_is_major_and_says_it_is_consulted() -> None:
    result = classify(change("hardware.cpu.model"), POLICY)
    assert (result.cls, result.rule_id) == ("major", "UNMATCHED")
    assert result.reason == "no rule matched; unknown changes are consulted"


def test_ignore_is_a_class_like_the_others() -> None:
    assert classify(change("ports[tcp/0.0.0.0:22].process"), POLICY).cls == "ignore"


def test_reason_fills_values_with_markers_masked() -> None:
    result = classify(change("os.kernel", "x", f"u:{MARK}@h"), POLICY)
    assert result.reason == "os.kernel: x → u:***@h"


def test_shown_change_is_reported_while_the_real_one_is_matched() -> None:
    real, shown = change("os.kernel", "clear", MARK), change("os.kernel", "***", MARK)
    result = classify(real, POLICY, shown)
    assert (result.rule_id, result.change, result.reason) == ("FIRST", shown, "os.kernel: *** → ***")
