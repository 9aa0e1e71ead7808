"""Hourly charts of the daily report, drawn by matplotlib (Agg) as inline SVG text."""

from __future__ import annotations

import io
from collections.abc import Mapping

HOURS = [f"{h:02d}" for h in range(24)]


def hourly_bars(title: str, series: Mapping[str, Mapping[str, int]], ylabel: str) -> str:
    """One bar group per hour 00 to 23; `series` maps a label to counts by hour ("HH")."""
    # Imported here, not at the top: matplotlib takes ~0.4 s to import, which every other command
    # (capture from cron among them) would pay. A bare Figure needs no pyplot and no display.
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    fig = Figure(figsize=(9, 2.6), dpi=96)
    ax = fig.subplots()
    width = 0.8 / max(1, len(series))
    colours = ("#1f5f9e", "#c0392b", "#e08e0b", "#6c757d")
    for n, (label, counts) in enumerate(series.items()):
        xs = [h + n * width - 0.4 + width / 2 for h in range(24)]
        ax.bar(xs, [counts.get(h, 0) for h in HOURS], width=width, label=label,
               color=colours[n % len(colours)])
    ax.set_title(title, fontsize=10, loc="left")
    ax.set_xticks(range(24), HOURS, fontsize=7)
    ax.set_xlim(-0.6, 23.6)
    ax.set_xlabel("jam", fontsize=8)
    ax.set_ylabel(ylabel, fontsize=8)
    ax.tick_params(axis="y", labelsize=7)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.spines[["top", "right"]].set_visible(False)
    if len(series) > 1:
        ax.legend(fontsize=7, frameon=False, loc="upper left")
    fig.tight_layout()
    out = io.StringIO()
    fig.savefig(out, format="svg", metadata={"Date": None})  # no timestamp: same data, same file
    svg = out.getvalue()
    return svg[svg.index("<svg"):]  # drop the XML prolog and DOCTYPE for inlining
