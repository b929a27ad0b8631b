#!/usr/bin/env python3
"""Ledger benchmark (issue #2). Prints its figures; not a test.

    .venv/bin/python benchmarks/ledger_bench.py            # the full run: 1,000,000 entries
    .venv/bin/python benchmarks/ledger_bench.py --entries 100000   # a quicker look

Measures, on a real SQLite file with synchronous=FULL:
1. durable append of 500-byte entries in batches of 100 (one transaction,
   one fsync and one signed checkpoint per batch): entries/s, median of runs;
2. verify of the whole log (every entry re-hashed, every node row and every
   checkpoint checked) against one plain hashlib.sha256 object updated with the
   same entry bytes in the same run: the ratio, and verify's peak memory
   (measured in a child process: its max RSS);
3. inclusion and consistency proofs at full size: median and p99 per proof.
Targets: >= 20,000 entries/s; ratio >= 0.2 with <= 100 MB; proofs <= 1 ms.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from coldset.config import Settings
from coldset.install import init_install, open_install

ENTRY_SIZE = 500


def make_entries(start: int, n: int) -> list[bytes]:
    # Canonical-JSON-like entries of exactly ENTRY_SIZE bytes.
    out = []
    for i in range(start, start + n):
        head = b'{"i":%d,"pad":"' % i
        out.append(head + b"x" * (ENTRY_SIZE - len(head) - 2) + b'"}')
    return out


def bench_append(inst, origin: str, total: int, batch: int, progress: bool) -> list[float]:
    """Append ``total`` entries in batches; return entries/s per 10,000-entry run."""
    rates = []
    done = 0
    while done < total:
        run = min(10_000, total - done)
        batches = [make_entries(done + k, min(batch, run - k)) for k in range(0, run, batch)]
        t0 = time.perf_counter()
        for b in batches:
            with inst.store.write() as conn:
                inst.ledger.append(conn, origin, b)
        rates.append(run / (time.perf_counter() - t0))
        done += run
        if progress:
            print(f"\r  appended {done:,}/{total:,}", end="", file=sys.stderr, flush=True)
    if progress:
        print(file=sys.stderr)
    return rates


def _vm_hwm_mb() -> float:
    """This process's peak resident memory (VmHWM: unlike ru_maxrss, reset by exec)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child_verify(home: str, origin: str, workers: int) -> None:
    """Run in a child process so the peak memory measured is verify's alone."""
    inst = open_install(Settings.load(home))
    from coldset.ledger.verify import verify_log

    with inst.store.read() as conn:
        t0 = time.perf_counter()
        rep = verify_log(conn, origin, inst.ledger.verifier, workers=workers or None)
        secs = time.perf_counter() - t0
    print(
        json.dumps(
            {
                "ok": rep.ok,
                "seconds": secs,
                "entries": rep.entries,
                "checkpoints": rep.checkpoints,
                "node_rows": rep.node_rows,
                "workers": rep.workers,
                "parent_mb": _vm_hwm_mb(),
                "worker_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
                "problems": [p.message for p in rep.problems[:3]],
            }
        )
    )


def baseline_sha256(n: int) -> float:
    """Seconds for one sha256 object updated with the same n entries (bytes in memory)."""
    entries = make_entries(0, n)
    h = hashlib.sha256()
    upd = h.update
    t0 = time.perf_counter()
    for e in entries:
        upd(e)
    secs = time.perf_counter() - t0
    h.digest()
    return secs


def build_log(inst, slug: str, total: int, batch: int) -> tuple[str, list[float]]:
    origin = inst.origin(slug)
    with inst.store.write() as conn:
        inst.ledger.create(conn, origin)
    return origin, bench_append(inst, origin, total, batch, sys.stderr.isatty())


def run_verify(home: Path, origin: str, workers: int) -> dict:
    res = subprocess.run(
        [sys.executable, __file__, "--child-verify", str(home), origin, str(workers)],
        capture_output=True,
        text=True,
        check=True,
    )
    out = json.loads(res.stdout)
    if not out["ok"]:
        raise SystemExit(f"verify reported problems: {out['problems']}")
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--entries", type=int, default=1_000_000)
    ap.add_argument("--batch", type=int, default=100)
    ap.add_argument(
        "--big-batch",
        type=int,
        default=1000,
        help="batch size of the second log (fewer checkpoints to verify)",
    )
    ap.add_argument("--verify-runs", type=int, default=3)
    ap.add_argument("--proofs", type=int, default=2000)
    ap.add_argument("--dir", help="keep the install here (default: a temporary directory)")
    ap.add_argument(
        "--child-verify", nargs=3, metavar=("HOME", "ORIGIN", "WORKERS"), help=argparse.SUPPRESS
    )
    args = ap.parse_args()
    if args.child_verify:
        home_, origin_, workers_ = args.child_verify
        child_verify(home_, origin_, int(workers_))
        return

    tmp = None
    if args.dir:
        home = Path(args.dir)
    else:
        tmp = tempfile.TemporaryDirectory(prefix="coldset-bench-")
        home = Path(tmp.name) / "home"
    settings = Settings.load(home)
    if not settings.key_path.exists():
        init_install(settings, "bench.local")
    inst = open_install(settings)
    n = args.entries
    mb = n * ENTRY_SIZE / 1e6
    print(
        f"coldset ledger benchmark: {n:,} entries of {ENTRY_SIZE} bytes, SQLite "
        f"synchronous=FULL, {os.cpu_count()} cores, Python {sys.version.split()[0]}"
    )
    print(f"database: {settings.database_url}")

    # 1. Durable append; the logs verified below are built this way.
    origin, rates = build_log(inst, f"b{args.batch}-{os.getpid()}", n, args.batch)
    print(
        f"append, batches of {args.batch}: median {statistics.median(rates):,.0f} entries/s "
        f"over {len(rates)} runs of 10,000 (min {min(rates):,.0f}, max {max(rates):,.0f}); "
        "target >= 20,000"
    )
    origin_big, rates_big = build_log(inst, f"b{args.big_batch}-{os.getpid()}", n, args.big_batch)
    print(
        f"append, batches of {args.big_batch}: median {statistics.median(rates_big):,.0f} entries/s"
    )

    # 2. Verify vs the plain-hash limit, alternating to share the machine's noise.
    base: list[float] = []
    runs: dict[str, list[dict]] = {"small": [], "big": []}
    for _ in range(args.verify_runs):
        base.append(baseline_sha256(n))
        runs["small"].append(run_verify(home, origin, 0))
        runs["big"].append(run_verify(home, origin_big, 0))
    single = run_verify(home, origin, 1)
    b = statistics.median(base)
    print(f"plain sha256 of the same {mb:,.0f} MB: median {b:.3f} s ({mb / b:,.0f} MB/s)")
    for key, batch in (("small", args.batch), ("big", args.big_batch)):
        v = statistics.median(r["seconds"] for r in runs[key])
        last = runs[key][-1]
        print(
            f"verify, log appended in batches of {batch} ({last['checkpoints']:,} signed "
            f"checkpoints, {last['node_rows']:,} node rows), {last['workers']} processes: "
            f"median {v:.3f} s ({n / v:,.0f} entries/s); ratio to plain sha256: {b / v:.3f} "
            "(target >= 0.2)"
        )
        print(
            f"  peak memory: {last['parent_mb']:.0f} MB in the main process, "
            f"{last['worker_mb']:.0f} MB the largest worker (target <= 100 MB)"
        )
    print(
        f"verify in one process, batches of {args.batch}: {single['seconds']:.3f} s, ratio "
        f"{b / single['seconds']:.3f}, peak memory {single['parent_mb']:.0f} MB"
    )

    # 3. Proofs at full size.
    rnd = random.Random(7)
    inc, con = [], []
    with inst.store.read() as conn:
        for _ in range(args.proofs):
            i = rnd.randrange(n)
            t0 = time.perf_counter()
            inst.ledger.inclusion_proof(conn, origin, i, n)
            inc.append(time.perf_counter() - t0)
            m = rnd.randrange(1, n)
            t0 = time.perf_counter()
            inst.ledger.consistency_proof(conn, origin, m, n)
            con.append(time.perf_counter() - t0)

    def ms(xs: list[float], q: float) -> float:
        return sorted(xs)[int(q * (len(xs) - 1))] * 1000

    print(
        f"inclusion proof at {n:,}: median {statistics.median(inc) * 1000:.3f} ms, "
        f"p99 {ms(inc, 0.99):.3f} ms (target median <= 1 ms)"
    )
    print(
        f"consistency proof at {n:,}: median {statistics.median(con) * 1000:.3f} ms, "
        f"p99 {ms(con, 0.99):.3f} ms (target median <= 1 ms)"
    )
    inst.close()
    if tmp is not None:
        tmp.cleanup()


if __name__ == "__main__":
    main()
