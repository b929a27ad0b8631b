#!/usr/bin/env python3
"""Web and API benchmark (issue #4). Prints its figures; not a test.

    .venv/bin/python benchmarks/web_bench.py                 # 500 firearms, 100,000 entries
    .venv/bin/python benchmarks/web_bench.py --entries 20000 # a quicker look

1. Board page: the sample western grown to 500 firearms and a log of 100,000
   entries; the median server time of ``GET /p/<production>/board`` (in-process
   ASGI client, so it is the server's time, not the network's).
2. Handoff command through the HTTP API: ``coldset serve`` started as users run
   it (a separate process, uvicorn, SQLite with synchronous=FULL), 16 concurrent
   clients with keep-alive, each doing inspect → issue (the performer's PIN and
   the 1st AD's as confirmations) → collect on its own firearms. The issue
   command's p50 and p99 (inspect and collect are printed too).
Targets: board median <= 50 ms; issue p50 <= 10 ms and p99 <= 50 ms.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from coldset.clock import SystemClock
from coldset.config import Settings
from coldset.domain.sample import PEOPLE, PRODUCTION, western
from coldset.install import init_install, open_install
from coldset.service.accounts import AccountService
from coldset.service.core import CustodyService

P = PRODUCTION
CLIENTS = 16
PIN = "4826"


def cmd(type_: str, actor: str, **fields: Any) -> dict[str, Any]:
    return {"type": type_, "production": P, "actor": actor, **fields}


def build(home: Path, firearms: int, entries: int) -> list[list[str]]:
    """The install: western + firearms + performers + scenes, then filler to ``entries``."""
    settings = Settings.load(home)
    init_install(settings, "bench.local")
    inst = open_install(settings)
    clock = SystemClock()
    svc = CustodyService(inst.store, inst.ledger, clock)
    accounts = AccountService(inst.store, clock)
    day = datetime.now(ZoneInfo("America/Denver")).date()
    pins = dict.fromkeys(PEOPLE, PIN)
    setup = western(day, pins)
    fids = [f"bf-{i:03d}" for i in range(firearms - 6)]
    performers = [f"perf-{i:02d}" for i in range(CLIENTS)]
    for fid in fids:
        setup.append(cmd("receive_firearm", "hana", firearm=fid, manufacturer="Colt",
                         model="SAA", serial=f"S-{fid}", firearm_type="single_action_revolver",
                         caliber=".45 Colt", capacity=6, receipt_date=day.isoformat(),
                         receipt_source="Bench Rentals", container="safe-main"))
    for p in performers:
        setup.append(cmd("add_person", "maria", person=p, name=f"Performer {p}",
                         roles=["performer"], pin=PIN))
        setup.append(cmd("record_training", "hana", performer=p,
                         weapon_type="single_action_revolver"))
        setup.append(cmd("record_consent", p, performer=p,
                         weapon_type="single_action_revolver"))
    # each client gets its own firearms, in scenes of at most 50 firearms
    per_client = [fids[i::CLIENTS] for i in range(CLIENTS)]
    for n, (perf, mine) in enumerate(zip(performers, per_client, strict=True)):
        for k in range(0, len(mine), 50):
            scene = f"bench-{n:02d}-{k // 50}"
            setup.append(cmd("schedule_scene", "dave", scene=scene, shoot_day="day-1",
                             unit="main", set="church", title=f"Bench {scene}",
                             firearms=[{"firearm": f} for f in mine[k:k + 50]],
                             shots=[{"number": 1, "kind": "take", "muzzle": "clear",
                                     "target": "sky", "closest_distance_ft": 30}],
                             cast_crew=[perf, "dave", "hana", "lee"]))
            for who, role in (("hana", "handler"), ("dave", "first_ad"),
                              ("lee", "safety_contact")):
                setup.append(cmd("sign_off_plan", who, scene=scene, as_role=role))
            setup.append(cmd("hold_safety_meeting", "dave", shoot_day="day-1", scene=scene,
                             attendees=sorted({perf, "dave", "hana", "lee"})))
    setup.append(cmd("unlock_container", "hana", container="safe-main"))
    for i in range(0, len(setup), 500):
        bad = [(r.command, r.error) for r in svc.execute_batch(setup[i:i + 500]) if not r.ok]
        if bad:
            raise SystemExit(f"setup failed: {bad[:3]}")
    size = svc.state(P).size
    t0 = time.perf_counter()
    while size < entries:   # filler: inspections of the firearms the armorer holds
        batch = [cmd("inspect", "hana", firearm=fids[(size + j) % len(fids)],
                     chambers=["empty"] * 6, barrel_clear=True)
                 for j in range(min(1000, entries - size))]
        svc.execute_batch(batch)
        size = svc.state(P).size
        print(f"\r  log: {size:,} entries", end="", file=sys.stderr, flush=True)
    print(f"\r  log: {size:,} entries ({time.perf_counter() - t0:.0f} s of filler)",
          file=sys.stderr)
    for pid in PEOPLE:
        accounts.create(pid, PEOPLE[pid][0], f"bench-password-{pid}")
        accounts.link(pid, P, pid)
    inst.close()
    return [[f"{perf}", *mine] for perf, mine in zip(performers, per_client, strict=True)]


def board_in_process(home: Path, runs: int) -> list[float]:
    from fastapi.testclient import TestClient

    from coldset.web import create_app

    inst = open_install(Settings.load(home))
    app = create_app(inst)
    times = []
    with TestClient(app) as c:
        r = c.get("/login")
        import re

        csrf = re.search(r'name="csrf" value="([^"]+)"', r.text).group(1)  # type: ignore[union-attr]
        c.post("/login", data={"login": "hana", "password": "bench-password-hana",
                               "csrf": csrf})
        for _ in range(runs + 3):
            t = time.perf_counter()
            r = c.get(f"/p/{P}/board")
            times.append(time.perf_counter() - t)
            assert r.status_code == 200 and r.text.count("bf-") >= 400
    inst.close()
    return times[3:]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--firearms", type=int, default=500)
    ap.add_argument("--entries", type=int, default=100_000)
    ap.add_argument("--board-runs", type=int, default=50)
    ap.add_argument("--handoffs", type=int, default=40, help="per client")
    args = ap.parse_args()
    home = Path(tempfile.mkdtemp(prefix="coldset-web-bench-")) / "home"
    print(f"building: {args.firearms} firearms, {args.entries:,} log entries in {home}")
    plan = build(home, args.firearms, args.entries)

    bt = board_in_process(home, args.board_runs)
    print(f"board page, server time (in-process): median {statistics.median(bt) * 1000:.1f} ms"
          f", p90 {pct(bt, 90) * 1000:.1f} ms over {len(bt)} requests (target <= 50 ms)")

    port = free_port()
    exe = Path(sys.executable).with_name("coldset")
    server = subprocess.Popen([str(exe), "--home", str(home), "serve", "--port", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                httpx.get(f"{base}/login", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.1)
        inst = open_install(Settings.load(home))
        token = AccountService(inst.store, SystemClock()).create_token("hana", "bench")
        inst.close()
        hdr = {"Authorization": f"Bearer {token}"}
        lat: dict[str, list[float]] = {"inspect": [], "issue": [], "collect": []}
        errors: list[str] = []
        lock = threading.Lock()
        barrier = threading.Barrier(CLIENTS)

        def client(row: list[str]) -> None:
            perf, firearms = row[0], row[1:]
            url = f"/api/v1/productions/{P}/commands"
            with httpx.Client(base_url=base, headers=hdr, timeout=30) as c:
                barrier.wait()
                for n in range(args.handoffs):
                    fid = firearms[n % len(firearms)]
                    steps = [
                        ("inspect", {"firearm": fid, "chambers": ["empty"] * 6,
                                     "barrel_clear": True}),
                        ("issue", {"firearm": fid, "to": perf,
                                   "scene": f"bench-{int(perf[-2:]):02d}-"
                                            f"{firearms.index(fid) // 50}",
                                   "confirmations": [{"person": perf, "pin": PIN},
                                                     {"person": "dave", "pin": PIN}]}),
                        ("collect", {"firearm": fid}),
                    ]
                    for name, body in steps:
                        t = time.perf_counter()
                        r = c.post(f"{url}/{name}", json=body,
                                   headers={"Idempotency-Key": f"{perf}-{n}-{name}"})
                        dt = time.perf_counter() - t
                        with lock:
                            lat[name].append(dt)
                            if r.status_code != 200:
                                errors.append(f"{name} {r.status_code}: "
                                              f"{r.json().get('error', '')[:160]}")

        threads = [threading.Thread(target=client, args=(row,)) for row in plan]
        t0 = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.perf_counter() - t0
        n_cmds = sum(len(v) for v in lat.values())
        print(f"API, {CLIENTS} concurrent clients, {n_cmds} commands in {wall:.1f} s "
              f"({n_cmds / wall:.0f} commands/s):")
        for name, xs in lat.items():
            print(f"  {name:<8} p50 {pct(xs, 50) * 1000:6.1f} ms   p99 "
                  f"{pct(xs, 99) * 1000:6.1f} ms   ({len(xs)} requests)")
        print("targets: issue p50 <= 10 ms, p99 <= 50 ms")
        if errors:
            print(f"{len(errors)} commands were not allowed, e.g.: {errors[:3]}")
    finally:
        server.terminate()
        server.wait(timeout=10)
        if os.environ.get("COLDSET_BENCH_KEEP") is None:
            import shutil

            shutil.rmtree(home.parent, ignore_errors=True)


if __name__ == "__main__":
    main()
