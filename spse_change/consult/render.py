"""HTML and PDF of the consultation documents, from Jinja2 templates an LPSE can override.

A template in the project's `templates/consult/` wins over the one of the
same name shipped in `spse_change/consult/templates/` (an LPSE puts its
letterhead there). Autoescaped; an unknown variable is an error, not a
blank. The PDF is WeasyPrint's rendering of the same HTML; its metadata
dates come from the document (`dcterms.created`), never the clock, so the
same record renders to the same bytes.

    docs = Documents(project.root)
    html = docs.html("formulir-konsultasi.html.j2", **context)
    pdf = docs.pdf(html)
"""

from __future__ import annotations

import logging
import re
from datetime import date, datetime
from pathlib import Path
from typing import Any

import jinja2
import markupsafe

from spse_change.errors import SpseChangeError

TEMPLATES = Path(__file__).with_name("templates")
OVERRIDES = Path("templates") / "consult"  # under the project folder
BULAN = ("Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus", "September",
         "Oktober", "November", "Desember")


def tanggal(value: date | datetime) -> str:
    """An Indonesian date: 28 November 2026."""
    return f"{value.day} {BULAN[value.month - 1]} {value.year}"


def breakable(value: object) -> markupsafe.Markup:
    """A long path or value that may wrap after `.`, `/`, `[`, `]`, `,` or `;` instead of mid-word."""
    text = str(markupsafe.escape(value))
    return markupsafe.Markup(re.sub(r"([./\[\],;_=])", r"\1<wbr>", text))


class Documents:
    def __init__(self, project_root: Path) -> None:
        self.override = project_root / OVERRIDES
        loader = jinja2.ChoiceLoader([jinja2.FileSystemLoader(self.override),
                                      jinja2.FileSystemLoader(TEMPLATES)])
        self.env = jinja2.Environment(loader=loader, autoescape=True, undefined=jinja2.StrictUndefined,
                                      trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
        self.env.filters["tanggal"] = tanggal
        self.env.filters["pecah"] = breakable

    def html(self, template: str, **context: Any) -> str:
        try:
            return self.env.get_template(template).render(**context)
        except jinja2.TemplateError as exc:
            where = f"{exc.filename}:{exc.lineno}" if isinstance(exc, jinja2.TemplateSyntaxError) \
                else f"{template} (or its override in {self.override})"
            raise SpseChangeError(f"{where}: {exc.message or exc}") from None

    @staticmethod
    def pdf(html: str) -> bytes:
        """A4 PDF of `html`; WeasyPrint is imported here so other commands never load it."""
        logging.getLogger("weasyprint").setLevel(logging.ERROR)  # font-config notes are not ours to show
        logging.getLogger("fontTools").setLevel(logging.ERROR)
        import weasyprint

        return weasyprint.HTML(string=html).write_pdf()
