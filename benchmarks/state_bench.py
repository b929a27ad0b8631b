"""State micro-benchmark: the writer's per-command fold and a reader's pass, no database.

Builds in memory the web benchmark's shape (500 firearms, 40 performers, a log of
``--entries`` entries, mostly inspections) through the real decision pipeline and
projection, then times, on that state:

- the writer's work per command of a handoff cycle (inspect, issue, load, discharge,
  collect, unload): ``decide_entry`` + ``apply_entry`` (which leaves the state it is
  given untouched and returns the next snapshot);
- a reader's pass like the labels page (the 500 firearms, sorted) and one over every
  collection of the state;
- the fold of the whole log (what a process does at start).

Run: ``.venv/bin/python benchmarks/state_bench.py [--entries N]``
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from dataclasses import fields
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from coldset.domain.commands import confirmers, parse_command
from coldset.domain.pipeline import decide_entry
from coldset.domain.projection import apply_entry, fold
from coldset.domain.state import State

sys.path.insert(0, str(Path(__file__).parent))
from custody_bench import cycle, scene_and_open, setup  # noqa: E402

FIREARMS, PERFORMERS = 500, 40
IN_SCENE = 50  # a scene plans at most 50 firearms; the cycles use those


def run_one(state: State, raw: dict[str, Any], now: datetime) -> tuple[State, dict[str, Any]]:
    cmd = parse_command(raw)
    pins = {x.person: "ok" for x in confirmers(cmd)}
    d = decide_entry(state, cmd, now, pins, origin="bench.local/bench")  # type: ignore[arg-type]
    assert d.entry is not None and d.status == "allowed", (raw["type"], d.error, d.verdicts)
    return apply_entry(state, d.entry), d.entry


def build(entries: int) -> tuple[State, list[dict[str, Any]], datetime]:
    now = datetime(2025, 3, 3, 15, 0, tzinfo=UTC)
    state, log = State(), []
    for raw in setup(FIREARMS, PERFORMERS) + scene_and_open(IN_SCENE, PERFORMERS):
        state, e = run_one(state, raw, now)
        log.append(e)
    k = 0
    while state.size < entries:
        raw = cycle(k, IN_SCENE, PERFORMERS)[0]  # an inspection by the armorer
        now += timedelta(milliseconds=10)
        state, e = run_one(state, raw, now)
        log.append(e)
        k += 1
    state.dirty.clear()
    return state, log, now


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--entries", type=int, default=100_000)
    ap.add_argument("--cycles", type=int, default=300)
    args = ap.parse_args()
    t0 = time.perf_counter()
    state, log, now = build(args.entries)
    print(
        f"built: {state.size:,} entries, {len(state.firearms)} firearms, "
        f"{len(state.inspections):,} inspections ({time.perf_counter() - t0:.0f} s)"
    )

    cmds = [x for k in range(args.cycles) for x in cycle(k, IN_SCENE, PERFORMERS)]
    parsed = []
    for raw in cmds:
        cmd = parse_command(raw)
        parsed.append((cmd, {x.person: "ok" for x in confirmers(cmd)}))
    decide_s = fold_s = 0.0
    for cmd, pins in parsed:
        now += timedelta(seconds=1)
        t1 = time.perf_counter()
        d = decide_entry(state, cmd, now, pins, origin="bench.local/bench")  # type: ignore[arg-type]
        t2 = time.perf_counter()
        assert d.entry is not None and d.status == "allowed", (cmd.command_type, d.verdicts)
        state = apply_entry(state, d.entry)
        t3 = time.perf_counter()
        decide_s += t2 - t1
        fold_s += t3 - t2
    n = len(parsed)
    print(
        f"writer, per command of a handoff cycle ({n} commands): decide "
        f"{1e6 * decide_s / n:.1f} us, fold {1e6 * fold_s / n:.1f} us"
    )

    def labels() -> int:
        return len(
            [
                (f.id, f.model, f.serial)
                for f in sorted(state.firearms.values(), key=lambda f: f.id)
                if not f.disposed
            ]
        )

    names = [
        f.name for f in fields(State) if f.name not in ("production", "size", "last_at", "dirty")
    ]

    def every() -> int:
        return sum(1 for name in names for _ in getattr(state, name).items())

    for what, fn in (
        ("labels page pass (firearms)", labels),
        ("pass over every collection", every),
    ):
        times = []
        for _ in range(20):
            t1 = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t1)
        print(f"reader, {what}: median {1e3 * statistics.median(times):.2f} ms")

    t1 = time.perf_counter()
    fold(log)
    print(f"fold of the whole log ({len(log):,} entries): {time.perf_counter() - t1:.2f} s")


if __name__ == "__main__":
    main()
