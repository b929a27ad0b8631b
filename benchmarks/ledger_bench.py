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


def child_verify(home: str, origin: str) -> None:
    """Run in a child process so its peak RSS is verify's alone."""
    inst = open_install(Settings.load(home))
    from coldset.ledger.verify import verify_log

    with inst.store.read() as conn:
        t0 = time.perf_counter()
        rep = verify_log(conn, origin, inst.ledger.verifier)
        secs = time.perf_counter() - t0
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"ok": rep.ok, "seconds": secs, "entries": rep.entries,
                      "checkpoints": rep.checkpoints, "node_rows": rep.node_rows,
                      "max_rss_mb": rss_mb, "problems": [p.message for p in rep.problems[:3]]}))


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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--entries", type=int, default=1_000_000)
    ap.add_argument("--batch", type=int, default=100)
    ap.add_argument("--verify-runs", type=int, default=3)
    ap.add_argument("--proofs", type=int, default=2000)
    ap.add_argument("--dir", help="keep the install here (default: a temporary directory)")
    ap.add_argument("--child-verify", nargs=2, metavar=("HOME", "ORIGIN"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child_verify:
        child_verify(*args.child_verify)
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
    origin = inst.origin(f"bench-{os.getpid()}")
    with inst.store.write() as conn:
        inst.ledger.create(conn, origin)

    print(f"coldset ledger benchmark: {args.entries:,} entries of {ENTRY_SIZE} bytes, "
          f"batches of {args.batch}, SQLite synchronous=FULL, {os.cpu_count()} cores")
    print(f"database: {settings.database_url}")

    # 1. Durable append (the whole log is built this way).
    rates = bench_append(inst, origin, args.entries, args.batch, sys.stderr.isatty())
    print(f"append: median {statistics.median(rates):,.0f} entries/s over {len(rates)} runs of "
          f"10,000 (min {min(rates):,.0f}, max {max(rates):,.0f}); target >= 20,000")

    # 2. Verify vs the plain-hash limit, alternating to share the machine's noise.
    base, ver = [], []
    last = {}
    for _ in range(args.verify_runs):
        base.append(baseline_sha256(args.entries))
        res = subprocess.run([sys.executable, __file__, "--child-verify", str(home), origin],
                             capture_output=True, text=True, check=True)
        last = json.loads(res.stdout)
        if not last["ok"]:
            raise SystemExit(f"verify reported problems: {last['problems']}")
        ver.append(last["seconds"])
    b, v = statistics.median(base), statistics.median(ver)
    mb = args.entries * ENTRY_SIZE / 1e6
    print(f"plain sha256 of the same bytes: median {b:.3f} s ({mb / b:,.0f} MB/s)")
    print(f"verify: median {v:.3f} s ({args.entries / v:,.0f} entries/s, {mb / v:,.0f} MB/s), "
          f"{last['checkpoints']:,} checkpoints, {last['node_rows']:,} node rows")
    print(f"verify / plain-hash throughput ratio: {b / v:.3f} (target >= 0.2)")
    print(f"verify peak memory (child max RSS, interpreter included): "
          f"{last['max_rss_mb']:.1f} MB (target <= 100)")

    # 3. Proofs at full size.
    rnd = random.Random(7)
    n = args.entries
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

    print(f"inclusion proof at {n:,}: median {statistics.median(inc) * 1000:.3f} ms, "
          f"p99 {ms(inc, 0.99):.3f} ms (target median <= 1 ms)")
    print(f"consistency proof at {n:,}: median {statistics.median(con) * 1000:.3f} ms, "
          f"p99 {ms(con, 0.99):.3f} ms (target median <= 1 ms)")
    inst.close()
    if tmp is not None:
        tmp.cleanup()


if __name__ == "__main__":
    main()
