"""`spse-change baseline import`: the events of a real ansible-runner run, as its artifact folder
and as AWX's job-events pages, store the same baselines the run stored; a cut or edited export
is refused whole.

The run is real (ansible-runner, ansible-playbook, the shipped playbook and role) against the
fake hosts of tests/unit/runner/conftest.py, which answer with a result signed as the module
signs it; the lab test (tests/lab/test_import.py) does the same with the real module.
"""

from __future__ import annotations

import copy
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from spse_change.capture.importer import ImportRequest, import_baselines
from spse_change.errors import SpseChangeError
from spse_change.project import Project
from tests.unit.capture.awx_export import awx_pages, write_pages
from tests.unit.runner.conftest import BIN, FakeHosts

HOSTS = ("app1", "db1")


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> FakeHosts:
    """One real capture of two hosts: its project holds the stored baselines and the artifacts."""
    fake = FakeHosts(tmp_path_factory.mktemp("captured"))
    for host in HOSTS:
        fake.answer(host)
    proc = fake.spse_change("baseline", "capture", "--json")
    _out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    return fake


def artifact(run: FakeHosts) -> Path:
    (folder,) = (run.root / ".spse-change" / "runner" / "artifacts").iterdir()
    return folder


def fresh(tmp_path: Path, run: FakeHosts, name: str = "imported") -> Project:
    """An empty project holding the run's key."""
    project = Project(tmp_path / name)
    (project.state_dir).mkdir(parents=True)
    shutil.copy2(run.root / ".spse-change" / "hmac.key", project.state_dir / "hmac.key")
    return project


def stored(project: Project) -> dict[str, str]:
    """Relative path -> content of every stored baseline."""
    root = project.records_dir / "baselines"
    return {str(p.relative_to(root)): p.read_text() for p in sorted(root.rglob("*.json"))}


def importing(project: Project, source: Path, **kwargs: Any) -> Any:
    return import_baselines(ImportRequest(project=project, source=source, **kwargs))


def test_an_artifact_folder_stores_the_same_files_the_capture_stored(run: FakeHosts, tmp_path: Path) -> None:
    project = fresh(tmp_path, run)
    result = importing(project, artifact(run))
    assert sorted(result.stored) == list(HOSTS) and not result.present and not result.failed
    assert stored(project) == stored(Project(run.root))  # same ids, same bytes
    assert importing(project, artifact(run) / "job_events").present.keys() == set(HOSTS)


@pytest.mark.parametrize("shape", ["pages", "one-array", "arrays", "page-list"])
def test_awx_job_events_store_the_same_files(run: FakeHosts, tmp_path: Path, shape: str) -> None:
    pages = awx_pages(artifact(run))
    export = tmp_path / "events.json"
    if shape == "pages":
        write_pages(pages, export)
    elif shape == "one-array":
        export.write_text(json.dumps([e for p in pages for e in p["results"]]))
    elif shape == "arrays":
        export.write_text("".join(json.dumps(p["results"]) for p in pages))
    else:
        export.write_text(json.dumps(pages))
    project = fresh(tmp_path, run)
    assert sorted(importing(project, export).stored) == list(HOSTS)
    assert stored(project) == stored(Project(run.root))


def test_importing_twice_or_after_the_capture_stores_nothing_new(run: FakeHosts, tmp_path: Path) -> None:
    export = write_pages(awx_pages(artifact(run)), tmp_path / "events.json")
    project = fresh(tmp_path, run)
    importing(project, export)
    again = importing(project, artifact(run))
    assert not again.stored and sorted(again.present) == list(HOSTS)
    assert len(stored(project)) == len(HOSTS)
    assert not importing(Project(run.root), export).stored  # the run's own project has them


def cli(project: Project, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BIN / "spse-change"), "--project", str(project.root), "baseline",
                           "import", *args], capture_output=True, text=True, timeout=60)


def refused(project: Project, source: Path) -> str:
    """The import's one line, after checking it exited 2 and stored nothing."""
    proc = cli(project, str(source))
    assert (proc.returncode, proc.stdout) == (2, ""), proc.stderr
    assert len(proc.stderr.splitlines()) == 1 and "Traceback" not in proc.stderr
    assert not (project.records_dir / "baselines").exists()
    return proc.stderr


def edited(run: FakeHosts, tmp_path: Path, change: Any) -> Path:
    """The run's AWX export with `change(events)` applied to its events."""
    events = [e for p in awx_pages(artifact(run)) for e in p["results"]]
    change(events)
    path = tmp_path / "edited.json"
    path.write_text(json.dumps(events))
    return path


def capture_event(events: list[dict[str, Any]], host: str) -> dict[str, Any]:
    return next(e for e in events if e["event"] == "runner_on_ok" and e["host_name"] == host)


def flip_one_byte(events: list[dict[str, Any]]) -> None:
    res = capture_event(events, "db1")["event_data"]["res"]
    res["spse_baseline_json"] = res["spse_baseline_json"].replace("6.1", "6.2")


def test_one_changed_byte_is_refused(run: FakeHosts, tmp_path: Path) -> None:
    err = refused(fresh(tmp_path, run), edited(run, tmp_path, flip_one_byte))
    assert "host db1: the result's signature does not match" in err


def test_a_byte_flipped_in_an_artifact_file_is_refused(run: FakeHosts, tmp_path: Path) -> None:
    copied = shutil.copytree(artifact(run), tmp_path / "artifact")
    (path,) = [p for p in (copied / "job_events").glob("*.json")
               if json.loads(p.read_text())["event"] == "runner_on_ok"
               and json.loads(p.read_text())["event_data"]["host"] == "app1"]
    text = path.read_text()
    at = text.index("kernel")
    path.write_text(text[:at] + "K" + text[at + 1:])
    assert "host app1: the result's signature does not match" in refused(fresh(tmp_path, run), copied)


def test_a_result_replayed_under_another_host_name_is_refused(run: FakeHosts, tmp_path: Path) -> None:
    def swap(events: list[dict[str, Any]]) -> None:
        app, db = capture_event(events, "app1"), capture_event(events, "db1")
        app["event_data"]["res"], db["event_data"]["res"] = (db["event_data"]["res"],
                                                             app["event_data"]["res"])
    err = refused(fresh(tmp_path, run), edited(run, tmp_path, swap))
    assert "host app1: the result was signed for host 'db1', not 'app1'" in err


def test_a_result_without_signature_is_refused(run: FakeHosts, tmp_path: Path) -> None:
    def strip(events: list[dict[str, Any]]) -> None:
        del capture_event(events, "app1")["event_data"]["res"]["spse_baseline_signature"]
    assert "host app1: the result is not signed" in refused(fresh(tmp_path, run),
                                                             edited(run, tmp_path, strip))


def test_another_key_is_refused_and_key_file_gives_the_right_one(run: FakeHosts, tmp_path: Path) -> None:
    project = fresh(tmp_path, run)
    (project.state_dir / "hmac.key").write_text("f" * 64)
    assert "signed with another key than this project's" in refused(project, artifact(run))
    key = tmp_path / "job.key"
    shutil.copy2(run.root / ".spse-change" / "hmac.key", key)
    proc = cli(project, str(artifact(run)), "--key-file", str(key), "--json")
    assert proc.returncode == 0, proc.stderr
    assert sorted(json.loads(proc.stdout)["stored"]) == list(HOSTS)


def test_a_project_without_key_says_where_to_put_it(run: FakeHosts, tmp_path: Path) -> None:
    project = Project(tmp_path)
    assert "hmac.key does not exist: put the key the job signed with there" in refused(
        project, artifact(run))
    assert not project.state_dir.exists()


@pytest.mark.parametrize(("cut", "said"), [
    (lambda pages: pages[:-1], "is cut: its pages say 10 events, it holds 8"),
    (lambda pages: pages[:1] + pages[2:], "is cut: 2 of 10 events missing (counter 3 first)"),
    (lambda pages: [e for p in pages for e in p["results"]][:-1],
     "is cut: it does not end with the run's playbook_on_stats event"),
])
def test_missing_events_are_refused(run: FakeHosts, tmp_path: Path, cut: Any, said: str) -> None:
    export = tmp_path / "cut.json"
    export.write_text(json.dumps(cut(awx_pages(artifact(run)))))
    assert said in refused(fresh(tmp_path, run), export)


def test_cut_json_is_refused(run: FakeHosts, tmp_path: Path) -> None:
    whole = write_pages(awx_pages(artifact(run)), tmp_path / "events.json").read_text()
    cut = tmp_path / "cut.json"
    cut.write_text(whole[: len(whole) * 2 // 3])
    assert "is cut or damaged: not JSON" in refused(fresh(tmp_path, run), cut)


def test_a_cut_artifact_file_is_refused(run: FakeHosts, tmp_path: Path) -> None:
    copied = shutil.copytree(artifact(run), tmp_path / "artifact")
    last = max((copied / "job_events").glob("*.json"), key=lambda p: int(p.name.split("-")[0]))
    last.write_text(last.read_text()[:40])
    assert "is cut or damaged: not JSON" in refused(fresh(tmp_path, run), copied)


def test_a_host_the_stats_name_without_its_result_is_refused(run: FakeHosts, tmp_path: Path) -> None:
    """The host's events dropped and the counters renumbered: only the stats still name it."""
    def drop_db1(events: list[dict[str, Any]]) -> None:
        events[:] = [e for e in events if e["host_name"] != "db1"]
        for number, event in enumerate(events, 1):
            event["counter"] = number
    err = refused(fresh(tmp_path, run), edited(run, tmp_path, drop_db1))
    assert "is cut: no capture result for host(s) db1, which the run's stats name" in err


def test_awx_size_limit_marker_is_refused(run: FakeHosts, tmp_path: Path) -> None:
    """Above MAX_EVENT_RES_DATA, ansible-runner's callback (in AWX) replaces res with {}."""
    def dropped(events: list[dict[str, Any]]) -> None:
        capture_event(events, "db1")["event_data"]["res"] = {}
    err = refused(fresh(tmp_path, run), edited(run, tmp_path, dropped))
    assert "host db1: its result was dropped for size" in err and "MAX_EVENT_RES_DATA" in err


def test_events_of_two_runs_mixed_are_refused(run: FakeHosts, tmp_path: Path) -> None:
    pages = awx_pages(artifact(run))
    other = copy.deepcopy(pages[0])
    for event in other["results"]:
        event["uuid"] = "0" * 8 + event["uuid"][8:]
    export = write_pages([*pages, other], tmp_path / "mixed.json")
    assert "two events with counter 1 (the events of two runs mixed?)" in refused(
        fresh(tmp_path, run), export)


def test_a_host_that_failed_in_the_run_is_named_the_others_stored(run: FakeHosts, tmp_path: Path) -> None:
    def fail_db1(events: list[dict[str, Any]]) -> None:
        event = capture_event(events, "db1")
        event["event"] = "runner_on_failed"
        event["event_data"]["res"] = {"msg": "Timeout waiting for privilege escalation prompt"}
    project = fresh(tmp_path, run)
    proc = cli(project, str(edited(run, tmp_path, fail_db1)))
    assert proc.returncode == 1, proc.stderr
    assert proc.stdout.splitlines()[-2:] == [
        "db1: FAILED in that run: Timeout waiting for privilege escalation prompt",
        "1 stored, 0 already stored, 1 failed"]
    assert list(stored(project)) == [k for k in stored(Project(run.root)) if k.startswith("app1/")]


def test_not_a_capture_run_is_refused(run: FakeHosts, tmp_path: Path) -> None:
    def rename(events: list[dict[str, Any]]) -> None:
        for event in events:
            event["event_data"]["task"] = "Something else"
    err = refused(fresh(tmp_path, run), edited(run, tmp_path, rename))
    assert "no result of the task 'Capture the SPSE baseline' in these events" in err


def test_neither_file_nor_artifact_folder(run: FakeHosts, tmp_path: Path) -> None:
    project = fresh(tmp_path, run)
    with pytest.raises(SpseChangeError, match="not an ansible-runner artifact folder"):
        importing(project, tmp_path)
    with pytest.raises(SpseChangeError, match="no such file or folder"):
        importing(project, tmp_path / "nothing.json")
    (tmp_path / "x.json").write_text(json.dumps([{"event": "x"}]))
    with pytest.raises(SpseChangeError, match="not a job event"):
        importing(project, tmp_path / "x.json")
