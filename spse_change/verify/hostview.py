"""A snapshot answering in testinfra's vocabulary: `host.service()`, `host.socket()`, `host.file()`.

The checks read a host the way testinfra tests do, but every answer comes
from the snapshot taken by one playbook run (`snapshot.py`), so a check
costs no round trip:

    def test_sshd_runs(host):
        assert host.service("ssh").is_running
        assert host.socket("tcp://0.0.0.0:22").is_listening
        assert host.file("/etc/ssh/sshd_config").mode == "0644"

A question the snapshot cannot answer raises instead of guessing.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from spse_change.verify.snapshot import Snapshot


class NotInSnapshot(Exception):
    """The snapshot holds nothing to answer this (a category not captured, say)."""


@dataclass(frozen=True)
class Service:
    name: str
    entry: Mapping[str, Any] | None

    @property
    def exists(self) -> bool:
        return self.entry is not None

    @property
    def is_running(self) -> bool:
        return bool(self.entry) and self.entry.get("state") == "running"

    @property
    def is_enabled(self) -> bool:
        return bool(self.entry) and bool(self.entry.get("enabled"))


@dataclass(frozen=True)
class Listener:
    proto: str
    address: str  # without brackets: 0.0.0.0, ::, 127.0.0.1, ::1
    port: int
    process: str


@dataclass(frozen=True)
class Socket:
    """testinfra's `host.socket("tcp://[ADDRESS:]PORT")`."""

    spec: str
    listeners: tuple[Listener, ...]

    @property
    def is_listening(self) -> bool:
        proto, _sep, rest = self.spec.partition("://")
        address, _colon, port = rest.rpartition(":")
        address = address.strip("[]")
        return any(s.proto == proto and s.port == int(port) and (not address or s.address == address)
                   for s in self.listeners)


@dataclass(frozen=True)
class File:
    path: str
    entry: Mapping[str, Any] | None

    @property
    def exists(self) -> bool:
        return self.entry is not None

    @property
    def user(self) -> str | None:
        return self.entry.get("owner") if self.entry else None

    @property
    def group(self) -> str | None:
        return self.entry.get("group") if self.entry else None

    @property
    def mode(self) -> str | None:
        return self.entry.get("mode") if self.entry else None

    @property
    def kind(self) -> str | None:
        return self.entry.get("kind") if self.entry else None

    @property
    def parsed(self) -> Mapping[str, Any]:
        """The parser's output (docs/baseline-schema.md); raises when the file did not parse."""
        if not self.entry or not isinstance(self.entry.get("parsed"), Mapping):
            why = (self.entry or {}).get("parse_error") or "not captured"
            raise NotInSnapshot(f"{self.path}: no parsed content ({why})")
        return self.entry["parsed"]


class SnapshotHost:
    """One host's snapshot: `name`, `groups`, `data` (baseline data), `facts` (verify facts)."""

    def __init__(self, snapshot: Snapshot) -> None:
        self.snapshot = snapshot
        self.name = snapshot.host
        self.groups = snapshot.groups
        self.data: Mapping[str, Any] = snapshot.baseline["data"]
        self.incomplete: Mapping[str, str] = snapshot.baseline.get("incomplete") or {}
        self.facts = snapshot.facts

    def __repr__(self) -> str:
        return f"<host {self.name}>"

    def category(self, name: str) -> Mapping[str, Any]:
        """A baseline category; raises when the capture could not read it."""
        if name in self.incomplete:
            raise NotInSnapshot(f"{name} not captured: {self.incomplete[name]}")
        return self.data.get(name) or {}

    def service(self, name: str) -> Service:
        return Service(name, self.category("services").get(name))

    def listeners(self) -> tuple[Listener, ...]:
        found = []
        for spec, entry in self.category("ports").items():
            proto, _slash, rest = spec.partition("/")
            address, _colon, port = rest.rpartition(":")
            found.append(Listener(proto, address.strip("[]"), int(port), entry.get("process") or ""))
        return tuple(found)

    def socket(self, spec: str) -> Socket:
        return Socket(spec, self.listeners())

    def file(self, path: str) -> File:
        return File(path, self.category("config").get(path))

    def files(self, kind: str | None = None, pattern: str = "*") -> Iterator[File]:
        """Captured configuration files, of one parser kind and/or matching a glob."""
        for path, entry in sorted(self.category("config").items()):
            if (kind is None or entry.get("kind") == kind) and fnmatch.fnmatch(path, pattern):
                yield File(path, entry)

    def postgres_clusters(self) -> dict[str, Mapping[str, Any]]:
        """`database` and each `database_<port>` the capture found: name → its settings."""
        clusters = {}
        for name in sorted(self.data):
            if name == "database" or name.startswith("database_"):
                clusters[name] = self.category(name).get("settings") or {}
        return clusters
