"""`spse-change baseline import` against the lab: a real capture's events, as its ansible-runner
artifact folder, as AWX's job-events pages, and from a run made the way AWX runs the project
(ansible-runner on a copy of the checkout, the key as an extra variable, AWX's environment),
store the same baselines; an edited or cut export is refused.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import sys
import zlib
from pathlib import Path
from typing import Any

import pytest

from tests.unit.capture.awx_export import awx_pages, runner_events, write_pages

pytestmark = pytest.mark.lab

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
CLI = [sys.executable, "-m", "spse_change.cli.main"]
CAPTURE_TASK = "Capture the SPSE baseline"
AWX_MAX_EVENT_RES = 700000  # AWX's MAX_EVENT_RES_DATA default (awx/settings/defaults.py)
# What AWX puts in ANSIBLE_ROLES_PATH: its requirements folder, the project's ansible.cfg
# roles_path, Ansible's defaults (awx/main/tasks/jobs.py, RunJob.build_env).
AWX_ROLES_PATH = "/runner/requirements_roles:roles:~/.ansible/roles:/usr/share/ansible/roles"


def spse_change(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, "--project", str(project), *args], capture_output=True, text=True,
                          timeout=300, env={**os.environ, "ANSIBLE_NOCOLOR": "1"})


def stored(project: Path) -> dict[str, str]:
    root = project / "change_records" / "baselines"
    return {str(p.relative_to(root)): p.read_text() for p in sorted(root.rglob("*.json"))}


def with_key(project: Path, key: Path) -> Path:
    (project / ".spse-change").mkdir(parents=True)
    shutil.copy2(key, project / ".spse-change" / "hmac.key")
    return project


@pytest.fixture(scope="module")
def direct(lab: Any, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Every lab host captured directly: (project, the run's artifact folder)."""
    project = tmp_path_factory.mktemp("direct")
    proc = spse_change(project, "baseline", "capture", "-i", str(lab.inventory), "--json")
    assert proc.returncode == 0, proc.stderr
    assert sorted(json.loads(proc.stdout)["stored"]) == sorted(lab.hosts)
    (artifact,) = (project / ".spse-change" / "runner" / "artifacts").iterdir()
    return project, artifact


def key_of(project: Path) -> Path:
    return project / ".spse-change" / "hmac.key"


def test_results_stay_far_below_awx_event_size_limit(direct: tuple[Path, Path]) -> None:
    """ansible-runner's callback (AWX's too) empties an event's res when len(str(res)) passes
    MAX_EVENT_RES; the lab's results, legacy host included, are measured against it."""
    _project, artifact = direct
    results = {e["event_data"]["host"]: e["event_data"]["res"] for e in runner_events(artifact)
               if e["event"] == "runner_on_ok" and e["event_data"]["task"] == CAPTURE_TASK}
    sizes = {host: len(str(res)) for host, res in results.items()}
    packed = {host: len(base64.b64encode(zlib.compress(res["spse_baseline_json"].encode())))
              for host, res in results.items()}
    # shown with pytest -s: the numbers docs/awx.md quotes
    print(f"capture result sizes, len(str(res)): {sizes}; zlib+base64 of the JSON: {packed}")
    assert max(sizes.values()) < AWX_MAX_EVENT_RES // 4


def test_artifact_folder_and_awx_pages_store_the_captured_files(
        direct: tuple[Path, Path], tmp_path: Path) -> None:
    project, artifact = direct
    from_folder = with_key(tmp_path / "folder", key_of(project))
    proc = spse_change(from_folder, "baseline", "import", str(artifact), "--json")
    assert proc.returncode == 0, proc.stderr
    assert stored(from_folder) == stored(project)  # same ids, same bytes

    export = write_pages(awx_pages(artifact, page_size=3), tmp_path / "events.json")
    from_awx = with_key(tmp_path / "awx", key_of(project))
    assert spse_change(from_awx, "baseline", "import", str(export)).returncode == 0
    assert stored(from_awx) == stored(project)

    again = spse_change(from_awx, "baseline", "import", str(artifact), "--json")
    assert again.returncode == 0 and json.loads(again.stdout)["stored"] == {}
    assert stored(from_awx) == stored(project)


def refused(project: Path, source: Path) -> str:
    proc = spse_change(project, "baseline", "import", str(source))
    assert (proc.returncode, proc.stdout, len(proc.stderr.splitlines())) == (2, "", 1), proc.stderr
    assert stored(project) == {}
    return proc.stderr


def test_an_edited_or_cut_export_is_refused(direct: tuple[Path, Path], tmp_path: Path) -> None:
    project, artifact = direct
    target = with_key(tmp_path / "target", key_of(project))
    events = [e for page in awx_pages(artifact) for e in page["results"]]
    text = json.dumps(events)
    at = text.index("shared_buffers")
    flipped = tmp_path / "flipped.json"
    flipped.write_text(text[:at] + chr(ord(text[at]) ^ 1) + text[at + 1:])  # one byte
    assert "signature does not match" in refused(target, flipped)

    cut = tmp_path / "cut.json"
    cut.write_text(text[: len(text) // 2])
    assert "is cut or damaged: not JSON" in refused(target, cut)

    gone = next(e["host_name"] for e in events if e["event"] == "runner_on_ok")
    kept = [e for e in events if e["host_name"] != gone]
    for number, event in enumerate(kept, 1):
        event["counter"] = number
    missing = tmp_path / "missing.json"
    missing.write_text(json.dumps(kept))
    assert f"no capture result for host(s) {gone}" in refused(target, missing)


def awx_like_run(lab: Any, work: Path, key: Path, max_event_res: int) -> Path:
    """baseline.yml run as AWX runs a job: ansible-runner in a private data folder whose
    project/ is a copy of the checkout (AWX copies the project's tracked files), cwd there, the
    key as an extra variable (AWX's credential), no spse-change environment. Its artifact folder."""
    files = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, text=True,
                           check=True).stdout.split("\0")
    for name in filter(None, files):
        if (ROOT / name).is_file():
            (work / "project" / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, work / "project" / name)
    (work / "env").mkdir()
    (work / "env" / "extravars").write_text(json.dumps(
        {"spse_change_hmac_key": key.read_text().strip()}))
    (work / "env" / "envvars").write_text(json.dumps(
        {"ANSIBLE_ROLES_PATH": AWX_ROLES_PATH, "MAX_EVENT_RES": str(max_event_res)}))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ANSIBLE_", "SPSE_CHANGE_"))}
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    env["ANSIBLE_HOME"] = str(work / "ansible-home")
    proc = subprocess.run([str(BIN / "ansible-runner"), "run", str(work), "-p",
                           "playbooks/baseline.yml", "--inventory", str(lab.inventory)],
                          capture_output=True, text=True, timeout=600, env=env, check=False)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    (artifact,) = (work / "artifacts").iterdir()
    return artifact


def test_a_run_made_as_awx_runs_the_project_imports_and_equals_the_direct_capture(
        lab: Any, direct: tuple[Path, Path], tmp_path: Path) -> None:
    project, _artifact = direct
    artifact = awx_like_run(lab, tmp_path / "awx", key_of(project), AWX_MAX_EVENT_RES)
    key = key_of(project).read_text().strip()
    leaks = subprocess.run(["grep", "-rlF", key, str(artifact)], capture_output=True, text=True)
    assert leaks.stdout == ""  # the key, an extra variable, is in no event (no_log argument)
    export = write_pages(awx_pages(artifact), tmp_path / "events.json")
    proc = spse_change(project, "baseline", "import", str(export), "--label", "awx", "--json")
    assert proc.returncode == 0, proc.stderr
    imported = json.loads(proc.stdout)["stored"]
    assert sorted(imported) == sorted(lab.hosts)
    for host, path in imported.items():
        assert json.loads(Path(path).read_text())["label"] == "awx"
        same = spse_change(project, "diff", f"{host}@-1", f"{host}@latest", "--json")
        assert same.returncode == 0, (host, same.stdout[-2000:], same.stderr)


def test_awx_dropping_a_result_over_its_size_limit_is_refused(
        lab: Any, direct: tuple[Path, Path], tmp_path: Path) -> None:
    """MAX_EVENT_RES set below the results' size: ansible-runner's callback replaces res by {}."""
    project, _artifact = direct
    artifact = awx_like_run(lab, tmp_path / "awx", key_of(project), 1000)
    err = refused(with_key(tmp_path / "target", key_of(project)), artifact)
    assert "its result was dropped for size" in err and "MAX_EVENT_RES_DATA" in err
