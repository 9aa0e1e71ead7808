"""docs/consult.md and examples/lpse.yml stay true: the example loads and matches the page."""

from __future__ import annotations

from pathlib import Path

from spse_change.consult.lpse import load_lpse

ROOT = Path(__file__).resolve().parents[3]


def test_example_lpse_loads_and_is_the_documented_one(tmp_path: Path) -> None:
    example = (ROOT / "examples" / "lpse.yml").read_text()
    (tmp_path / "lpse.yml").write_text(example)
    lpse = load_lpse(tmp_path)
    assert (lpse.name, lpse.timezone) == ("LPSE Kota Contoh", "Asia/Jakarta")
    page = (ROOT / "docs" / "consult.md").read_text()
    for line in example.splitlines():
        if not line.startswith("#"):
            assert line.split("#")[0].rstrip() in page, line


def test_every_template_the_page_lists_ships() -> None:
    shipped = {p.name for p in (ROOT / "spse_change" / "consult" / "templates").iterdir()}
    page = (ROOT / "docs" / "consult.md").read_text()
    assert all(f"`{name}`" in page for name in shipped), shipped
