"""HTML of the SOP's reports: Jinja2 templates shipped in the package, autoescaped."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jinja2

from spse_change.reports.charts import hourly_bars

TEMPLATES = Path(__file__).with_name("templates")
_env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True,
                          undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)


def number(value: float | None) -> str:
    """Indonesian style: 12.345 and 1,25; a missing value is a dash."""
    if value is None:
        return "\u2013"  # en dash
    text = f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"
    return text.replace(",", "_").replace(".", ",").replace("_", ".")


_env.filters["num"] = number


def render(template: str, **context: Any) -> str:
    return _env.get_template(template).render(**context)


def _charts(section: dict[str, Any]) -> list[str]:
    """Queries and requests in one chart, errors in the other: their scales differ."""
    hourly = section["hourly"]
    volume = {k: v for k, v in hourly.items() if k in ("kueri PostgreSQL", "permintaan HTTP")}
    errors = {k: v for k, v in hourly.items() if k not in volume}
    charts = []
    if volume:
        charts.append(hourly_bars("Kueri dan permintaan per jam", volume, "jumlah"))
    if errors:
        charts.append(hourly_bars("Error per jam", errors, "jumlah"))
    return charts


def render_daily(report: dict[str, Any]) -> str:
    charts = {s["host"]: _charts(s) for s in report["hosts"]}
    return render("daily.html.j2", report=report, charts=charts)
