"""Diff two baselines and classify each change as minor or major (SOP "Pengertian").

    policy = load_policy(project_dir)
    report = diff_baselines(old_baseline, new_baseline, policy)
    print(render_text(report))      # the CLI does the printing
"""

from spse_change.diff.baselines import CATEGORIES, diff_baselines
from spse_change.diff.classify import Classified, classify
from spse_change.diff.compare import Change
from spse_change.diff.policy import Match, Policy, Rule, load_policy
from spse_change.diff.report import DiffReport, render_text

__all__ = ["CATEGORIES", "Change", "Classified", "DiffReport", "Match", "Policy", "Rule",
           "classify", "diff_baselines", "load_policy", "render_text"]
