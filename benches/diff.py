"""Benchmark diff+classify against plain DeepDiff, then over a whole fleet.

Run: .venv/bin/python benches/diff.py   (about 20 s on 2 cores)

1. One large pair (3,000 packages, 400 services, 150 config files holding
   30,000 keys, 350 PostgreSQL settings; 500 changes): median of 5 runs of
   diff_baselines, and its ratio to `DeepDiff(old, new)` on the same data
   in this process (target <= 1.0).
2. A fleet: 600 LPSEs x (app, db) = 1,200 pairs with varied changes, spread
   over the cores; total seconds (target <= 60).
Baselines are built in memory; old and new never share objects, as when
both are read from disk.
"""

from __future__ import annotations

import os
import random
import statistics
import time
from collections.abc import Callable
from multiprocessing import Pool
from typing import Any

from deepdiff import DeepDiff

from spse_change.diff import diff_baselines, load_policy

POLICY = load_policy(None)
FLEET_LPSES = 600


def build(seed: int, packages: int, services: int, files: int, keys_per_file: int,
          settings: int) -> dict[str, Any]:
    """A baseline whose facts depend only on `seed`, so two calls give equal, unshared data."""
    rng = random.Random(seed)
    data = {
        "hardware": {
            "cpu": {"model": "Intel(R) Xeon(R) Silver 4210R", "sockets": 1, "cores": 10,
                    "threads_per_core": 2, "vcpus": 20},
            "memory": {"total_mb": 32768},
            "virtualization": {"type": "kvm", "role": "guest"},
            "dmi": {"vendor": "Dell Inc.", "product": "PowerEdge R440", "serial": f"S{seed}",
                    "bios_version": "2.12.2"},
            "block_devices": {f"sd{c}": {"size_bytes": 10**12, "model": "PERC", "rotational": False}
                              for c in "ab"},
            "mounts": {m: {"device": f"/dev/sd{i}", "fstype": "xfs", "size_bytes": 10**11,
                           "options": "rw,relatime"} for i, m in enumerate(["/", "/home", "/var"])},
            "interfaces": {"eth0": {"mac": "52:54:00:12:34:56", "type": "ether", "mtu": 1500,
                                    "speed": 10000, "ipv4": ["10.0.0.2/24"], "ipv6": []}},
        },
        "os": {"distribution": "Debian", "version": "12.8", "major_version": "12",
               "family": "Debian", "kernel": "6.1.0-27-amd64", "architecture": "x86_64",
               "hostname": f"h{seed}", "timezone": "Asia/Jakarta",
               "time_sync": {"service": "chrony", "synchronized": True}},
        "packages": {f"pkg{n}-lib": f"{rng.randint(1, 9)}.{rng.randint(0, 20)}-{n}"
                     for n in range(packages)},
        "services": {f"svc{n}.service": {"state": "running", "enabled": True}
                     for n in range(services)},
        "ports": {f"tcp/0.0.0.0:{8000 + n}": {"process": f"p{n}"} for n in range(40)},
        "config": {f"/etc/app{f}/conf.d/file{f}.conf": {
            "kind": "ini", "owner": "root", "group": "root", "mode": "0644", "size": 4096,
            "sha256": f"{seed:08x}{f:056x}",
            "parsed": {f"section{k // 20}.key{k}": f"value{rng.randint(0, 99)}"
                       for k in range(keys_per_file)}} for f in range(files)},
        "database": {} if not settings else {
            "server_version": "15.13", "server_version_num": "150013",
            "settings": {f"setting_{n}": {"setting": str(n), "unit": "kB",
                                          "source": "configuration file",
                                          "pending_restart": False} for n in range(settings)},
            "databases": {"epns_prod": {"owner": "epns", "encoding": "UTF8"}},
            "extensions": {"epns_prod": {"plpgsql": "1.0"}},
        },
        "spse": {"instances": {"spse4": {"path": "/home/appserv/spse4", "version": "4.5",
                                         "java_version": "1.8.0_412", "http_port": 9009,
                                         "http_path": "/eproc4", "mode": "prod"}},
                 "file_stores": {"/home/file/file_prod": {"mount": "/home"}}},
    }
    return {"schema": "spse-change/baseline/2", "id": f"h{seed}-old", "host": f"h{seed}",
            "captured_at": "2026-11-28T06:24:00Z", "groups": ["spse_app", "spse_db"],
            "incomplete": {}, "discovery": {}, "data": data}


def _edits(data: dict[str, Any], rng: random.Random) -> list[Callable[[], None]]:
    """Ways each category changes in the field (settings only where PostgreSQL runs)."""
    packages, config = data["packages"], data["config"]

    def package() -> None:
        name = rng.choice(list(packages))
        packages[name] = f"{rng.randint(1, 20)}.0-{rng.randint(0, 99)}"

    def package_in_out() -> None:
        packages.pop(rng.choice(list(packages)), None)
        packages[f"new{rng.randint(0, 10**6)}"] = "1.0"

    def config_key() -> None:
        parsed = config[rng.choice(list(config))]["parsed"]
        parsed[rng.choice(list(parsed))] = f"changed{rng.randint(0, 99)}"

    def setting() -> None:
        settings = data["database"]["settings"]
        settings[rng.choice(list(settings))]["setting"] = str(rng.randint(0, 10**6))

    def service() -> None:
        data["services"][rng.choice(list(data["services"]))]["state"] = "stopped"

    def hardware() -> None:
        data["hardware"]["interfaces"][f"eth{rng.randint(1, 9)}"] = {"mac": "52:54:00:aa:bb:cc"}
        data["hardware"]["memory"]["total_mb"] *= 2

    edits = [package, package, package_in_out, config_key, config_key, service, hardware]
    return [*edits, setting] if data["database"] else edits


def changed(seed: int, count: int, sizes: tuple[int, ...]) -> dict[str, Any]:
    """The baseline `build(seed, *sizes)` after `count` field changes."""
    new = build(seed, *sizes)
    new["id"] = new["id"].replace("old", "new")
    rng = random.Random(seed * 7919 + count)
    edits = _edits(new["data"], rng)
    for _ in range(count):
        rng.choice(edits)()
    return new


def median_seconds(run: Callable[[], object], repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


# (packages, services, config files, keys per file, settings) per server role
LARGE = (3000, 400, 150, 200, 350)
APP_SERVER = (1500, 250, 60, 120, 0)
DB_SERVER = (1200, 200, 40, 60, 350)


def fleet_pair(index: int) -> tuple[int, float]:
    """Build one LPSE server's pair, then time only diff+classify."""
    sizes = APP_SERVER if index % 2 else DB_SERVER
    old = build(index, *sizes)
    new = changed(index, 5 + index % 60, sizes)
    start = time.perf_counter()
    report = diff_baselines(old, new, POLICY)
    return len(report.items), time.perf_counter() - start


def main() -> None:
    old = build(1, *LARGE)
    new = changed(1, 500, LARGE)
    report = diff_baselines(old, new, POLICY)
    ours = median_seconds(lambda: diff_baselines(old, new, POLICY))
    reference = median_seconds(lambda: DeepDiff(old["data"], new["data"]), repeat=3)
    print(f"large pair: {len(report.items)} items ({report.summary_line()})")
    print(f"diff+classify median of 5: {ours:.3f} s; DeepDiff median of 3: {reference:.3f} s")
    print(f"ratio diff+classify / DeepDiff = {ours / reference:.2f}x (target <= 1.0)")

    workers = os.cpu_count() or 1
    start = time.perf_counter()
    with Pool(workers) as pool:
        results = pool.map(fleet_pair, range(2 * FLEET_LPSES), chunksize=20)
    wall = time.perf_counter() - start
    diff_time = sum(seconds for _, seconds in results)
    print(f"fleet: {len(results)} pairs ({FLEET_LPSES} LPSE x app, db), "
          f"{sum(items for items, _ in results)} items, {workers} processes: "
          f"{wall:.1f} s total including building the baselines (target <= 60 s); "
          f"diff+classify alone {diff_time:.1f} s summed over processes")


if __name__ == "__main__":
    main()
