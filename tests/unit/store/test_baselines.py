"""The baseline store: ids, references, schema 1 read as schema 2, shapes checked, clear errors."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from spse_change.errors import SpseChangeError
from spse_change.store.baselines import (
    ID_RE,
    SCHEMA,
    BaselineStore,
    checked_baseline,
    id_order,
    new_baseline,
)
from spse_change.store.files import write_atomic

T0 = datetime(2026, 11, 28, 6, 0, 0, tzinfo=UTC)


def captured(port: str = "9009", **extra: Any) -> dict[str, Any]:
    return {"data": {"config": {"/a.conf": {"parsed": {"http.port": port}}}},
            "incomplete": {}, "measurements": {}, **extra}


@pytest.fixture
def store(tmp_path: Path) -> BaselineStore:
    store = BaselineStore(tmp_path / "change_records")
    for n, port in enumerate(["9009", "9010", "9011"]):
        store.save(new_baseline("app1", captured(port), now=T0 + timedelta(minutes=n)))
    return store


def v1_baseline(host: str, stamp: str, tag: str = "abcdef") -> dict[str, Any]:
    """A baseline as version 0.1 stored it (schema 1, id in whole seconds)."""
    return {"schema": "spse-change/baseline/1", "id": f"{host}-{stamp}-{tag}", "host": host,
            "captured_at": "2026-11-28T06:00:30Z", "label": "", "tool_version": "0.1.0",
            "incomplete": {}, "measurements": {}, "data": captured()["data"]}


def put(store: BaselineStore, baseline: dict[str, Any]) -> Path:
    path = store.root / baseline["host"] / f"{baseline['id']}.json"
    write_atomic(path, json.dumps(baseline))
    return path


def test_id_names_host_time_to_the_microsecond_and_a_tag() -> None:
    baseline = new_baseline("db1", captured(), now=T0.replace(microsecond=123456))
    match = ID_RE.match(baseline["id"])
    assert match is not None
    assert (match["host"], match["time"], match["micro"]) == ("db1", "20261128T060000", "123456")
    assert baseline["schema"] == SCHEMA == "spse-change/baseline/2"


def test_same_instant_same_data_gives_two_ids_and_two_files(tmp_path: Path) -> None:
    store = BaselineStore(tmp_path)
    first, second = (new_baseline("db1", captured(), now=T0) for _ in range(2))
    assert first["id"] != second["id"]
    paths = {store.save(first), store.save(second)}
    assert len(paths) == 2 and all(p.is_file() for p in paths)
    assert len(store.ids("db1")) == 2


def test_a_stored_baseline_is_never_overwritten(tmp_path: Path) -> None:
    store = BaselineStore(tmp_path)
    baseline = new_baseline("db1", captured(), now=T0)
    path = store.save(baseline)
    with pytest.raises(SpseChangeError, match="already stored"):
        store.save({**baseline, "label": "other"})
    assert json.loads(path.read_text())["label"] == ""


def test_envelope_carries_groups_and_discovery() -> None:
    discovery = {"postgresql": {"5432": {"found_by": "running server"}}}
    baseline = new_baseline("db1", captured(groups=["spse_db"], discovery=discovery), now=T0)
    assert (baseline["groups"], baseline["discovery"]) == (["spse_db"], discovery)
    plain = new_baseline("db1", captured(), now=T0)
    assert (plain["groups"], plain["discovery"]) == ([], {})


@pytest.mark.parametrize(("payload", "words"), [
    ([1, 2], "not a JSON object"),
    ({"incomplete": {}}, "no 'data' mapping"),
    ({"data": {}, "groups": "spse_db"}, "field 'groups' must be a list"),
    ({"data": {}, "incomplete": {"database": 3}}, "field 'incomplete' must be a mapping of strings"),
])
def test_bad_capture_payload_is_one_line(payload: Any, words: str) -> None:
    with pytest.raises(SpseChangeError, match=words):
        new_baseline("db1", payload, now=T0)


def test_references(store: BaselineStore) -> None:
    ids = [i.id for i in store.list("app1")]
    assert len(ids) == 3
    assert store.resolve("app1@latest").stem == ids[2]
    assert store.resolve("app1@-2").stem == ids[0]
    assert store.resolve(ids[1]).stem == ids[1]
    path = store.resolve(ids[1])
    assert store.resolve(str(path)) == path


def test_relative_and_absolute_paths_name_the_same_baseline(
        store: BaselineStore, monkeypatch: pytest.MonkeyPatch) -> None:
    absolute = store.resolve("app1@-1")
    monkeypatch.chdir(store.records)
    relative = str(absolute.relative_to(store.records))
    assert store.resolve(relative) == absolute
    assert store.resolve(f"./baselines/../{relative}") == absolute
    record = store.approve(relative, by="admin", reason="after tuning", now=T0)
    assert record["id"] == absolute.stem
    assert store.resolve("app1@approved") == absolute


def test_old_and_new_ids_sort_by_time_together(store: BaselineStore) -> None:
    """Schema-1 ids have whole seconds; within one second they count as .000000."""
    before = put(store, v1_baseline("app1", "20261128T055959Z"))
    between = put(store, v1_baseline("app1", "20261128T060030Z"))  # after T0, before T0 + 1 min
    after = put(store, v1_baseline("app1", "20261128T070000Z"))
    half = store.save(new_baseline("app1", captured(), now=datetime(
        2026, 11, 28, 6, 0, 30, 500000, tzinfo=UTC)))  # same second as `between`, later
    ids = store.ids("app1")
    assert len(ids) == 7
    assert (ids[0], ids[2], ids[3], ids[6]) == (before.stem, between.stem, half.stem, after.stem)
    assert store.resolve("app1@latest") == after.resolve()
    assert store.resolve("app1@-4") == between.resolve()
    assert store.resolve("app1@-6") == before.resolve()
    assert id_order("h-20261128T060000Z-abcdef") < id_order("h-20261128T060000.000001Z-000000")
    assert id_order("h-20261128T060000.999999Z-ffffff") < id_order("h-20261128T060001Z-000000")


def test_schema_1_baseline_loads_migrated(store: BaselineStore) -> None:
    put(store, v1_baseline("app1", "20261128T070000Z"))
    baseline = store.load("app1@latest")
    assert baseline["schema"] == SCHEMA
    assert baseline["migrated_from"] == "spse-change/baseline/1"
    assert (baseline["groups"], baseline["discovery"]) == ([], {})
    assert [info.id for info in store.list("app1")][-1] == "app1-20261128T070000Z-abcdef"


def good() -> dict[str, Any]:
    return new_baseline("db1", captured(groups=["spse_db"]), now=T0)


@pytest.mark.parametrize(("edit", "words"), [
    (lambda b: b.update(data=[1]), "field 'data' must be a mapping of categories"),
    (lambda b: b.update(id="app1-20261128T060000Z-abcdef"), "field 'id' names another host"),
    (lambda b: b.update(id="../x"), "field 'id' must be a baseline id"),
    (lambda b: b.update(incomplete={"database": ["psql"]}),
     "field 'incomplete' must be a mapping of strings to strings"),
    (lambda b: b.update(incomplete="psql failed"), "field 'incomplete' must be a mapping"),
    (lambda b: b.update(groups=[1]), "field 'groups' must be a list of group names"),
    (lambda b: b.update(host="../etc"), "field 'host' must be a host name"),
    (lambda b: b.pop("captured_at"), "field 'captured_at' is missing"),
    (lambda b: b.update(measurements=None), "field 'measurements' must be a mapping"),
    (lambda b: b.update(schema="spse-change/baseline/9"), "not a baseline of schema"),
])
def test_wrong_shape_names_file_and_field(tmp_path: Path, edit: Any, words: str) -> None:
    baseline = copy.deepcopy(good())
    edit(baseline)
    path = tmp_path / "b.json"
    path.write_text(json.dumps(baseline))
    with pytest.raises(SpseChangeError) as caught:
        BaselineStore(tmp_path / "records").load(str(path))
    assert caught.value.message.startswith(f"{path}: ")
    assert words in caught.value.message and "\n" not in caught.value.message


def test_checked_baseline_accepts_what_new_baseline_makes() -> None:
    baseline = good()
    assert checked_baseline(baseline, "x") == baseline


def test_stored_file_must_carry_its_own_id(store: BaselineStore) -> None:
    other = store.load("app1@-1")
    path = store.root / "app1" / "app1-20261128T070000.000000Z-abcdef.json"
    write_atomic(path, json.dumps(other))
    with pytest.raises(SpseChangeError, match="does not match the file's name"):
        store.load("app1@latest")


@pytest.mark.parametrize(("record", "words"), [
    ({"id": "../../../../etc/passwd"}, "field 'id' must be a baseline id of host 'app1'"),
    ({"id": "db1-20261128T060000Z-abcdef"}, "field 'id' must be a baseline id of host 'app1'"),
    ({"id": 5}, "field 'id' must be"),
    ({"id": "app1-20261128T060000Z-abcdef", "history": {}}, "field 'history' must be a list"),
    ([1], "not an approval record"),
])
def test_approved_json_is_checked_before_use(store: BaselineStore, record: Any,
                                             words: str) -> None:
    path = store.root / "app1" / "approved.json"
    write_atomic(path, json.dumps(record))
    for call in (lambda: store.resolve("app1@approved"), lambda: store.list("app1"),
                 lambda: store.approve("app1@latest", by="a", reason="r")):
        with pytest.raises(SpseChangeError, match=words):
            call()
    assert json.loads(path.read_text()) == record  # a damaged record is never overwritten


@pytest.mark.parametrize("ref, words", [
    ("app1@-3", "only 3 baseline"),
    ("app1@yesterday", "after '@'"),
    ("nohost@latest", "no baselines for host 'nohost'"),
    ("app1@approved", "no approved baseline"),
    ("garbage", "unknown baseline 'garbage'"),
    ("../etc@latest", "bad host name"),
    ("..-20261128T060000Z-abcdef", "unknown baseline"),
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


@pytest.mark.parametrize("depth", [150, 10_000])
def test_deeply_nested_file_is_one_line(tmp_path: Path, depth: int) -> None:
    deep = tmp_path / "deep.json"
    deep.write_text('{"schema": "spse-change/baseline/2", "data": ' + "[" * depth + "]" * depth + "}")
    with pytest.raises(SpseChangeError, match=r"deep\.json: nested deeper than 100 levels"):
        BaselineStore(tmp_path).load(str(deep))


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


def test_approve_refuses_a_file_outside_the_store(store: BaselineStore, tmp_path: Path) -> None:
    outside = tmp_path / "copy.json"
    outside.write_text(store.resolve("app1@latest").read_text())
    with pytest.raises(SpseChangeError, match="only a stored baseline can be approved"):
        store.approve(str(outside), by="admin", reason="r")


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
