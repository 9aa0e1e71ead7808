#!/usr/bin/env python3
"""Daily report speed: `spse-change report daily` against pgBadger alone on the same log.

Makes a PostgreSQL stderr log of at least --mb megabytes (default 200) with
a realistic SPSE mix: timed statements of a few dozen query shapes with
varying literals (some multi-line), the failing query and its STATEMENT,
deadlocks and lock timeouts, temporary files, checkpoints, connections, and
the toolkit's own queries. Then times pgBadger alone (the same options the
report gives it: format, prefix, --exclude-appname, the day, jobs, JSON) and
the whole daily report (checks, pgBadger, line count, analisa, HTML, JSON),
and prints the medians and their ratio; target <= 1.3 (about 7 min on 2 cores).

    .venv/bin/python benches/report.py [--mb 200] [--rounds 3] [--keep FILE]
"""

from __future__ import annotations

import argparse
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from spse_change.reports.pglog import PgBadgerRun, default_jobs  # noqa: E402 - after the path

PREFIX = "%t [%p]: user=%u,db=%d,app=%a,client=%h "
DAY = "2026-11-27"
QUERIES = [
    "SELECT count(*) AS jumlah_paket, coalesce(sum(pkt_hps), 0) AS total_hps FROM paket WHERE pkt_id > {n}",
    "SELECT * FROM lelang WHERE lls_id = {n}",
    "SELECT p.pkt_nama, l.lls_status FROM paket p JOIN lelang l ON l.pkt_id = p.pkt_id WHERE l.lls_id = {n}",
    "UPDATE lelang SET lls_status = {s} WHERE lls_id = {n}",
    "INSERT INTO peserta (lls_id, rkn_id, psr_tanggal) VALUES ({n}, {m}, now())",
    "SELECT rkn_nama, rkn_npwp\n\tFROM rekanan\n\tWHERE rkn_id = {m}\n\tORDER BY rkn_nama",
    "DELETE FROM sesi WHERE expires < now() - interval '{s} hours'",
    "BEGIN", "COMMIT", "ROLLBACK",
] + [f"SELECT kolom_{i} FROM tabel_{i % 7} WHERE id = {{n}}" for i in range(30)]


def make_log(path: Path, megabytes: int, seed: int = 7) -> None:
    rnd = random.Random(seed)
    target = megabytes * 1024 * 1024
    written = 0
    pid = 1000
    with open(path, "w", encoding="utf-8") as fh:
        second = 0
        while written < target:
            second = (second + 1) % 86400
            stamp = f"{DAY} {second // 3600:02d}:{second // 60 % 60:02d}:{second % 60:02d} WIB"
            lines = []
            for _ in range(40):
                pid = 1000 + rnd.randrange(400)
                app = "spse-change" if rnd.random() < 0.02 else "spse4"
                head = f"{stamp} [{pid}]: user=epns,db=epns_prod,app={app},client=10.0.0.{pid % 250} "
                roll = rnd.random()
                if roll < 0.90:
                    sql = rnd.choice(QUERIES).format(n=rnd.randrange(10**6), m=rnd.randrange(10**5),
                                                     s=rnd.randrange(5))
                    lines.append(f"{head}LOG:  duration: {rnd.expovariate(1 / 3):.3f} ms  statement: {sql}")
                elif roll < 0.95:
                    lines.append(f"{head}ERROR:  relation \"paket_arsip\" does not exist at character 20")
                    lines.append(f"{head}STATEMENT:  SELECT pkt_id FROM paket_arsip WHERE pkt_id = 1")
                elif roll < 0.955:
                    lines.append(f"{head}ERROR:  deadlock detected")
                    lines.append(f"{head}DETAIL:  Process {pid} waits for ShareLock on transaction 9; "
                                 "blocked by process 1.")
                    lines.append(f"{head}STATEMENT:  UPDATE paket SET pkt_hps = 1 WHERE pkt_id = 3")
                elif roll < 0.96:
                    lines.append(f"{head}ERROR:  canceling statement due to lock timeout")
                    lines.append(f"{head}STATEMENT:  UPDATE lelang SET lls_status = 2 WHERE lls_id = 7")
                elif roll < 0.97:
                    lines.append(f"{head}LOG:  temporary file: path \"base/pgsql_tmp/pgsql_tmp{pid}.0\", "
                                 f"size {rnd.randrange(1, 64) * 1048576}")
                    lines.append(f"{head}STATEMENT:  SELECT * FROM paket ORDER BY pkt_nama")
                elif roll < 0.985:
                    lines.append(f"{head}LOG:  connection authorized: user=epns database=epns_prod")
                else:
                    lines.append(f"{head}LOG:  disconnection: session time: 0:00:0{rnd.randrange(10)}.123 "
                                 "user=epns database=epns_prod host=10.0.0.1 port=5000")
            if second % 300 == 0:
                bg = f"{stamp} [900]: user=,db=,app=,client= "
                lines.append(f"{bg}LOG:  checkpoint starting: wal")
                lines.append(f"{bg}LOG:  checkpoints are occurring too frequently (25 seconds apart)")
            text = "\n".join(lines) + "\n"
            fh.write(text)
            written += len(text)


def timed(cmd: list[str]) -> float:
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit(f"failed ({proc.returncode}): {' '.join(cmd[:4])}…: {proc.stderr.strip()[-500:]}")
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mb", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--keep", type=Path, help="keep the generated log here (reused when it exists)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="spse-bench-report-") as tmp:
        log = args.keep or Path(tmp) / "postgresql.log"
        if not log.exists():
            make_log(log, args.mb)
        size = log.stat().st_size / 1024 / 1024
        run = PgBadgerRun((log,), "stderr", PREFIX, DAY, default_jobs())
        cli = str(Path(sys.executable).with_name("spse-change"))
        alone_runs, report_runs = [], []
        for _ in range(args.rounds):  # interleaved, so the page cache and noise hit both alike
            alone_runs.append(timed(run.argv([log], Path(tmp) / "alone.json")))
            report_runs.append(timed([cli, "--project", tmp, "report", "daily", "--pg-log", str(log),
                                      "--pg-prefix", PREFIX, "--date", DAY, "--out", f"{tmp}/out"]))
        alone, report = statistics.median(alone_runs), statistics.median(report_runs)
        print(f"log: {size:.0f} MB, pgBadger jobs: {run.jobs}")
        print(f"pgBadger alone: {alone:.1f} s (median of {args.rounds})")
        print(f"report daily:   {report:.1f} s (median of {args.rounds})")
        print(f"ratio:          {report / alone:.2f} (target <= 1.3)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
