"""Reading the admin's YAML files: what is not a file is one line, never a hang."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from spse_change.errors import SpseChangeError
from spse_change.yamlfile import TOP, Reader, load_yaml


@pytest.mark.parametrize("make", [os.mkfifo, os.mkdir], ids=["fifo", "folder"])
def test_what_is_not_a_regular_file_is_one_line(tmp_path: Path, make) -> None:
    path = tmp_path / "evaluasi.yml"
    make(path)  # opening a fifo for reading would wait for a writer forever
    with pytest.raises(SpseChangeError, match=r"evaluasi\.yml: cannot read \(not a regular file\)$"):
        load_yaml(path)


def test_a_missing_file_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(SpseChangeError, match=r"nope\.yml: cannot read \(No such file or directory\)$"):
        load_yaml(tmp_path / "nope.yml")


@pytest.mark.parametrize(("text", "message"), [
    ("", r"^lpse\.yml: empty$"),
    ("titel: x\n", r"^lpse\.yml: titel: unknown field \(known: lpse\)$"),  # not 'top level.titel'
    ("lpse: {nama: x}\n", r"^lpse\.yml: lpse\.nama: unknown field"),
])
def test_a_document_mistake_names_the_field_as_written(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "lpse.yml"
    path.write_text(text)
    reader = Reader(path.name)
    with pytest.raises(SpseChangeError, match=message):
        top = reader.mapping(load_yaml(path), TOP, frozenset({"lpse"}))
        reader.mapping(top["lpse"], "lpse", frozenset({"name"}))
