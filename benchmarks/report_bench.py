"""Report benchmark: the day report of a busy day and the firearm history of a long production.

Issue target: the day report of a busy day (>= 300 handoffs) and the firearm history of a
60-day production render in <= 2 s each (PDF, from the log).

Both logs are real: the shipped clean shoot day (scenarios/clean-shoot-day.yaml, 74
handoffs) is replayed through the custody service

- five times over on the same day by five crews (every person but the producer, every
  unit, set, container, firearm, lot and scene copied under a new id), for the busy day;
- once a day for ``--days`` days (each day's scenes, lots and shoot day copied), for the
  long production.

Then each report is made from the log ``--runs`` times (read the signed entries, fold
them, render the PDF) and the median and the spread are printed.

Run: ``.venv/bin/python benchmarks/report_bench.py [--days 60] [--runs 5] [--json]``
(building the 60-day log takes a few minutes; ``--days 10`` for a quick look).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

from coldset import reports
from coldset.replay.runners import ServiceRunner
from coldset.replay.scenario import Scenario, Step, load
from coldset.reports import pdf
from coldset.service.records import Records

CLEAN = Path(__file__).resolve().parents[1] / "scenarios" / "clean-shoot-day.yaml"
HANDOFFS = {"issue", "collect", "transfer"}


def _rename(value: Any, names: dict[str, str]) -> Any:
    """``value`` with every string that is exactly an id in ``names`` renamed."""
    if isinstance(value, str):
        return names.get(value, value)
    if isinstance(value, list):
        return [_rename(v, names) for v in value]
    if isinstance(value, dict):
        return {k: _rename(v, names) for k, v in value.items()}
    return value


def _copy(step: Step, names: dict[str, str], shift: timedelta = timedelta(0)) -> Step:
    cmd = _rename(step.command, names)
    if cmd.get("type") == "receive_firearm":  # serials are unique on a production
        cmd["serial"] = names.get(cmd["firearm"], cmd["firearm"]) + "-" + cmd["serial"]
    if shift and cmd.get("type") == "add_shoot_day":
        from datetime import date

        cmd["date"] = (date.fromisoformat(cmd["date"]) + shift).isoformat()
    return replace(step, command=cmd, by=names.get(step.by, step.by), at=step.at + shift)


def _mentions(value: Any, ids: set[str]) -> bool:
    if isinstance(value, str):
        return value in ids
    if isinstance(value, list):
        return any(_mentions(v, ids) for v in value)
    if isinstance(value, dict):
        return any(_mentions(v, ids) for v in value.values())
    return False


def _ids(sc: Scenario, kinds: tuple[str, ...]) -> set[str]:
    found: set[str] = set()
    keys = {
        "shoot_days": ("add_shoot_day", "shoot_day"),
        "scenes": ("schedule_scene", "scene"),
        "lots": ("receive_lot", "lot"),
        "firearms": ("receive_firearm", "firearm"),
        "containers": ("add_container", "container"),
        "units": ("add_unit", "unit"),
        "sets": ("add_set", "set"),
        "people": ("add_person", "person"),
    }
    for kind in kinds:
        ctype, field = keys[kind]
        found |= {s.command[field] for s in sc.setup if s.command.get("type") == ctype}
    return found


def long_production(sc: Scenario, days: int) -> Scenario:
    """The clean day once a day for ``days`` days: each day its own shoot day, scenes, lots."""
    ids = _ids(sc, ("shoot_days", "scenes", "lots"))
    shared = [s for s in sc.setup if not _mentions(s.command, ids)]
    setup, steps = list(shared), []
    for k in range(days):
        names = {i: f"{i}-{k + 1}" for i in ids}
        shift = timedelta(days=k)
        setup += [_copy(s, names, shift) for s in sc.setup if _mentions(s.command, ids)]
        steps += [_copy(s, names, shift) for s in sc.steps]
    setup.sort(key=lambda s: s.at)
    return replace(sc, setup=setup, steps=steps)


def busy_day(sc: Scenario, crews: int) -> tuple[Scenario, dict[int, int]]:
    """Five crews running the clean day side by side on one day, each under its own ids;
    and each step's crew (by ``id(step)``)."""
    crew_of: dict[int, int] = {}
    ids = _ids(sc, ("scenes", "lots", "firearms", "containers", "units", "sets", "people"))
    ids.discard(sc.admin)
    setup = [
        s
        for s in sc.setup
        if not _mentions(s.command, ids)
        or s.command.get("type") == "grant_role"
        and s.command.get("person") == sc.admin
    ]
    steps: list[Step] = []
    for k in range(crews):
        names = {i: f"{i}-c{k + 1}" for i in ids}
        setup += [_copy(s, names) for s in sc.setup if _mentions(s.command, ids) and s not in setup]
        copies = [_copy(s, names) for s in sc.steps]
        crew_of.update({id(s): k for s in copies})
        steps += copies
    people = dict(sc.people)
    for k in range(crews):
        for p, d in sc.people.items():
            if p != sc.admin:
                people[f"{p}-c{k + 1}"] = d
    setup.sort(key=lambda s: s.at)
    steps.sort(key=lambda s: s.at)
    return replace(sc, setup=setup, steps=steps, people=people), crew_of


def run_crews(sc: Scenario, runner: ServiceRunner, crew_of: dict[int, int]) -> list[Any]:
    """Run ``sc`` keeping each crew's ``$placeholders`` to its own steps (the crews' steps
    interleave in time; a crew's "$stop_work" is its own stop-work, not another's)."""
    from coldset.replay.engine import _remember
    from coldset.replay.scenario import fill, spaced

    ids: dict[int, dict[str, list[str]]] = {}
    for st, at in zip(sc.setup, spaced([s.at for s in sc.setup]), strict=True):
        runner.execute(fill(st.command, {}, st.label), at)
    start = spaced([s.at for s in sc.setup])[-1]
    outs = []
    times = spaced([start] + [s.at for s in sc.steps])[1:]
    for st, at in zip(sc.steps, times, strict=True):
        mine = ids.setdefault(crew_of.get(id(st), 0), {})
        out = runner.execute(fill(st.command, mine, st.label), at)
        _remember(mine, out)
        outs.append((st, out))
    return outs


def _timed(fn: Any, runs: int) -> tuple[list[float], Any]:
    times, out = [], None
    for _ in range(runs):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return times, out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--days", type=int, default=60, help="days of the long production")
    ap.add_argument("--crews", type=int, default=5, help="crews on the busy day")
    ap.add_argument("--runs", type=int, default=5, help="renders of each report")
    ap.add_argument("--json", action="store_true", help="print JSON for scripts")
    args = ap.parse_args()
    clean = load(CLEAN)
    results: dict[str, Any] = {}

    busy, crews = busy_day(clean, args.crews)
    for name, sc, crew_of, make in (
        (
            "busy day report",
            busy,
            crews,
            lambda rec, origin: pdf.day_pdf(reports.day(rec, origin, "d1")),
        ),
        (
            f"firearm history, {args.days}-day production",
            long_production(clean, args.days),
            {},
            lambda rec, origin: pdf.history_pdf(reports.firearm(rec, origin, "colt-1")),
        ),
    ):
        runner = ServiceRunner()
        try:
            t0 = time.perf_counter()
            outs = run_crews(sc, runner, crew_of)
            build = time.perf_counter() - t0
            handoffs = sum(1 for st, out in outs if st.type in HANDOFFS and out.status == "allowed")
            refused = [
                (st.label, out.blocking or out.error) for st, out in outs if out.status != "allowed"
            ]
            rec = Records(runner.install)
            origin = rec.logs()[0].origin
            times, data = _timed(lambda: make(rec, origin), args.runs)  # noqa: B023
            entries = rec.logs()[0].size
        finally:
            runner.close()
        med = statistics.median(times)
        results[name] = {
            "log_entries": entries,
            "handoffs_allowed": handoffs,
            "steps_not_allowed": len(refused),
            "build_s": round(build, 1),
            "median_s": round(med, 3),
            "min_s": round(min(times), 3),
            "max_s": round(max(times), 3),
            "pdf_bytes": len(data),
            "target_s": 2.0,
            "met": med <= 2.0,
        }
        if not args.json:
            print(
                f"{name}: {entries:,} log entries, {handoffs} handoffs allowed "
                f"({len(refused)} steps not allowed; log built in {build:.0f} s); "
                f"report median {med:.3f} s "
                f"(min {min(times):.3f}, max {max(times):.3f}, {args.runs} runs), "
                f"{len(data):,} bytes — target <= 2 s: {'met' if med <= 2 else 'NOT met'}"
            )
    if args.json:
        print(json.dumps(results, indent=2))
    return 0 if all(r["met"] for r in results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
