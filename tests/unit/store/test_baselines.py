"""The baseline store: ids, references, atomic writes, clear errors."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from spse_change.errors import SpseChangeError
from spse_change.store.baselines import BaselineStore, new_baseline
from spse_change.store.files import write_atomic

T0 = datetime(2026, 11, 28, 6, 0, 0, tzinfo=UTC)


def captured(port: str = "9009") -> dict:
    return {"data": {"config": {"/a.conf": {"parsed": {"http.port": port}}}},
            "incomplete": {}, "measurements": {}}


@pytest.fixture
def store(tmp_path: Path) -> BaselineStore:
    store = BaselineStore(tmp_path / "change_records")
    for n, port in enumerate(["9009", "9010", "9011"]):
        store.save(new_baseline("app1", captured(port), now=T0 + timedelta(minutes=n)))
    return store


def test_id_names_host_time_and_content() -> None:
    baseline = new_baseline("db1", captured(), now=T0)
    assert baseline["id"].startswith("db1-20261128T060000Z-")
    assert new_baseline("db1", captured(), now=T0)["id"] == baseline["id"]
    assert new_baseline("db1", captured("1"), now=T0)["id"] != baseline["id"]


def test_references(store: BaselineStore) -> None:
    ids = [i.id for i in store.list("app1")]
    assert len(ids) == 3
    assert store.resolve("app1@latest").stem == ids[2]
    assert store.resolve("app1@-2").stem == ids[0]
    assert store.resolve(ids[1]).stem == ids[1]
    path = store.resolve(ids[1])
    assert store.resolve(str(path)) == path


@pytest.mark.parametrize("ref, words", [
    ("app1@-3", "only 3 baseline"),
    ("app1@yesterday", "after '@'"),
    ("nohost@latest", "no baselines for host 'nohost'"),
    ("app1@approved", "no approved baseline"),
    ("garbage", "unknown baseline 'garbage'"),
    ("../etc@latest", "bad host name"),
])
def test_bad_references_say_why(store: BaselineStore, ref: str, words: str) -> None:
    with pytest.raises(SpseChangeError, match=words):
        store.resolve(ref)


def test_damaged_file_is_named(store: BaselineStore, tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(SpseChangeError, match=r"bad\.json: not valid JSON"):
        store.load(str(bad))
    other = tmp_path / "other.json"
    other.write_text(json.dumps({"schema": "x"}))
    with pytest.raises(SpseChangeError, match="not a baseline"):
        store.load(str(other))


def test_failed_write_leaves_old_file_and_no_temp(tmp_path: Path) -> None:
    target = tmp_path / "f.json"
    write_atomic(target, "old\n")

    with pytest.raises(TypeError):
        write_atomic(target, 42)  # type: ignore[arg-type]
    assert target.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["f.json"]


def test_approve_records_who_when_why_and_keeps_history(store: BaselineStore) -> None:
    first = store.approve("app1@-1", by="admin1", reason="after tuning", now=T0)
    assert store.resolve("app1@approved").stem == first["id"]
    second = store.approve("app1@latest", by="admin2", reason="new JVM memory")
    assert second["by"] == "admin2" and second["reason"] == "new JVM memory"
    assert [h["id"] for h in second["history"]] == [first["id"], second["id"]]
    assert [i.approved for i in store.list("app1")] == [False, False, True]


def test_approve_needs_a_reason(store: BaselineStore) -> None:
    with pytest.raises(SpseChangeError, match="--reason"):
        store.approve("app1@latest", by="admin", reason="  ")


def test_killed_writer_leaves_every_baseline_whole(tmp_path: Path) -> None:
    """SIGKILL a process in the middle of saving large baselines: what is there must load."""
    import signal
    import subprocess
    import sys
    import time

    script = f"""
import itertools
from datetime import UTC, datetime, timedelta
from pathlib import Path
from spse_change.store.baselines import BaselineStore, new_baseline
store = BaselineStore(Path({str(tmp_path)!r}))
big = {{"data": {{"packages": {{f"pkg{{i}}": "1.0" for i in range(20000)}}}}}}
for n in itertools.count():
    big["data"]["packages"]["pkg0"] = str(n)
    store.save(new_baseline("db1", big, now=datetime(2026, 1, 1, tzinfo=UTC) + timedelta(seconds=n)))
"""
    proc = subprocess.Popen([sys.executable, "-c", script])
    time.sleep(1.5)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    store = BaselineStore(tmp_path)
    infos = store.list("db1")
    assert infos, "the writer saved nothing before it was killed"
    for info in infos:
        assert store.load(str(info.path))["host"] == "db1"
