"""Records and the key are private to their owner, made once, and a failed write is one line."""

from __future__ import annotations

import errno
import os
import stat
import tempfile
import threading
import time
from pathlib import Path

import pytest

from spse_change import project as project_module
from spse_change.errors import SpseChangeError
from spse_change.project import Project
from spse_change.store.baselines import BaselineStore, new_baseline
from spse_change.store.files import locked, write_atomic


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def open_umask() -> object:
    old = os.umask(0o022)
    yield
    os.umask(old)


def test_stored_baselines_and_folders_are_private(tmp_path: Path, open_umask: object) -> None:
    store = BaselineStore(tmp_path / "change_records")
    path = store.save(new_baseline("db1", {"data": {}}))
    store.approve("db1@latest", by="admin", reason="first")
    assert mode(path) == 0o600
    assert mode(path.parent / "approved.json") == 0o600
    assert mode(store.records / ".lock") == 0o600
    assert (mode(store.root), mode(path.parent)) == (0o700, 0o700)


def test_a_store_written_by_an_older_version_is_tightened(tmp_path: Path,
                                                          open_umask: object) -> None:
    store = BaselineStore(tmp_path / "change_records")
    (store.root / "db1").mkdir(parents=True, mode=0o755)
    store.save(new_baseline("db1", {"data": {}}))
    assert (mode(store.root), mode(store.root / "db1")) == (0o700, 0o700)


def test_key_and_state_folder_are_private(tmp_path: Path, open_umask: object) -> None:
    key = Project(tmp_path).hmac_key_file()
    assert (mode(key), mode(key.parent)) == (0o600, 0o700)
    assert len(key.read_text()) == 64
    assert Project(tmp_path).hmac_key_file().read_text() == key.read_text()


def test_key_readable_by_others_is_refused(tmp_path: Path) -> None:
    key = Project(tmp_path).hmac_key_file()
    key.chmod(0o644)
    with pytest.raises(SpseChangeError, match="must not be readable by others"):
        Project(tmp_path).hmac_key_file()


def test_two_processes_creating_the_key_at_once_end_with_one(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each thread opens the lock itself, as a process would; a slow key maker widens the race."""
    made = iter(range(100))

    def slow_token(_: int) -> str:
        time.sleep(0.05)
        return f"{next(made):064x}"

    monkeypatch.setattr(project_module.secrets, "token_hex", slow_token)
    start = threading.Barrier(6)
    seen: list[str] = []

    def create() -> None:
        start.wait()
        seen.append(Project(tmp_path).hmac_key_file().read_text())

    threads = [threading.Thread(target=create) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(seen) == 6 and len(set(seen)) == 1


@pytest.mark.parametrize("call", ["save", "approve", "key"])
def test_read_only_project_is_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                       call: str) -> None:
    store = BaselineStore(tmp_path / "change_records")
    store.save(new_baseline("db1", {"data": {}}))

    def read_only(*args: object, **kwargs: object) -> None:
        raise OSError(errno.EROFS, "Read-only file system", str(kwargs.get("dir", "?")))

    monkeypatch.setattr(tempfile, "mkstemp", read_only)
    action = {"save": lambda: store.save(new_baseline("db1", {"data": {}})),
              "approve": lambda: store.approve("db1@latest", by="a", reason="r"),
              "key": lambda: Project(tmp_path).hmac_key_file()}[call]
    with pytest.raises(SpseChangeError) as caught:
        action()
    assert "cannot write (Read-only file system)" in caught.value.message
    assert "\n" not in caught.value.message


def test_unwritable_store_folder_is_one_line(tmp_path: Path) -> None:
    records = tmp_path / "change_records"
    records.mkdir()
    (records / "baselines").write_text("a file where the folder should be")
    with pytest.raises(SpseChangeError, match="cannot write"):
        BaselineStore(records).save(new_baseline("db1", {"data": {}}))


def test_lock_excludes_a_second_writer(tmp_path: Path) -> None:
    order: list[str] = []

    def second() -> None:
        with locked(tmp_path):
            order.append("2")

    with locked(tmp_path):
        other = threading.Thread(target=second)
        other.start()
        time.sleep(0.1)
        order.append("1")
    other.join()
    assert order == ["1", "2"]


def test_failed_write_leaves_old_file_and_no_temp(tmp_path: Path) -> None:
    target = tmp_path / "f.json"
    write_atomic(target, "old\n")
    with pytest.raises(TypeError):
        write_atomic(target, 42)  # type: ignore[arg-type]
    assert target.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["f.json"]
