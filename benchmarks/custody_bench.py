"""Custody benchmark: a synthetic busy shoot day through the service on SQLite.

50 firearms, 40 performers, 2,000 full handoff cycles (inspect, issue, load,
discharge, collect, unload) through ``CustodyService`` on a real SQLite file
(WAL, synchronous=FULL): rules, PINs, ledger append and checkpoint, projection,
durable commit. Prints commands/s with group commit (batches) and one command
per transaction, then the ``board`` time for a production with 500 firearms.

Run: ``.venv/bin/python benchmarks/custody_bench.py [--cycles N] [--batch N]``
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from coldset.clock import FixedClock
from coldset.ledger.log import Ledger
from coldset.ledger.note import Signer
from coldset.service import CustodyService
from coldset.service.pins import PinHasher, new_pepper
from coldset.store.db import Store

DAY = date(2025, 3, 3)
PROD = "bench"


def c(type_: str, actor: str, prod: str = PROD, **f: Any) -> dict[str, Any]:
    return {"type": type_, "production": prod, "actor": actor, **f}


def setup(n_firearms: int, n_performers: int, prod: str = PROD) -> list[dict[str, Any]]:
    cmds = [
        c(
            "create_production",
            "boss",
            prod,
            title="Benchmark western",
            actor_name="Boss",
            pin="1111",
        ),
        c("grant_role", "boss", prod, person="boss", role="producer"),
        c("add_person", "boss", prod, person="arm", name="Armorer", roles=["armorer"], pin="2222"),
        c("add_person", "boss", prod, person="ad", name="First AD", roles=["first_ad"], pin="3333"),
        c(
            "add_person",
            "boss",
            prod,
            person="safe",
            name="Safety",
            roles=["safety_contact"],
            pin="4444",
        ),
        c("add_unit", "boss", prod, unit="main", name="Main"),
        c("add_set", "boss", prod, set="street", unit="main", name="Main street"),
        c("add_shoot_day", "boss", prod, shoot_day="d1", date=DAY.isoformat()),
        c(
            "record_credential",
            "safe",
            prod,
            person="arm",
            kind="entertainment_firearms_permit",
            number="EFP-1",
            expires="2026-01-01",
        ),
        c(
            "add_container",
            "arm",
            prod,
            container="truck",
            kind="truck_safe",
            name="Truck safe",
            unit="main",
        ),
    ]
    for i in range(n_performers):
        pid = f"p{i:02d}"
        cmds += [
            c(
                "add_person",
                "boss",
                prod,
                person=pid,
                name=f"Performer {i}",
                roles=["performer"],
                pin=f"{5000 + i}",
            ),
            c("record_training", "arm", prod, performer=pid, weapon_type="single_action_revolver"),
            c("record_consent", pid, prod, performer=pid, weapon_type="single_action_revolver"),
        ]
    for i in range(n_firearms):
        cmds.append(
            c(
                "receive_firearm",
                "arm",
                prod,
                firearm=f"f{i:03d}",
                manufacturer="Colt",
                model="SAA",
                serial=f"S{i:05d}",
                firearm_type="single_action_revolver",
                caliber=".45 Colt",
                capacity=6,
                receipt_date="2025-03-01",
                receipt_source="Rentals",
                container="truck",
            )
        )
    cmds.append(
        c(
            "receive_lot",
            "arm",
            prod,
            lot="blanks",
            kind="blank",
            caliber=".45 Colt",
            maker="Stembridge",
            count=100_000,
            load="1/4 load",
            receipt_date="2025-03-01",
            receipt_source="Stembridge",
            container="truck",
        )
    )
    return cmds


def scene_and_open(n_firearms: int, n_performers: int) -> list[dict[str, Any]]:
    firearms = [
        {"firearm": f"f{i:03d}", "rounds": "blank", "load": "1/4 load"} for i in range(n_firearms)
    ]
    cast = [f"p{i:02d}" for i in range(n_performers)] + ["arm", "ad", "safe"]
    return [
        c(
            "schedule_scene",
            "ad",
            scene="gunfight",
            shoot_day="d1",
            unit="main",
            set="street",
            title="The big gunfight",
            firearms=firearms,
            shots=[
                {
                    "number": 1,
                    "kind": "take",
                    "muzzle": "clear",
                    "target": "sky",
                    "closest_distance_ft": 30,
                    "blanks": True,
                }
            ],
            cast_crew=cast,
        ),
        c("sign_off_plan", "arm", scene="gunfight", as_role="handler"),
        c("sign_off_plan", "ad", scene="gunfight", as_role="first_ad"),
        c("sign_off_plan", "safe", scene="gunfight", as_role="safety_contact"),
        c("hold_safety_meeting", "ad", shoot_day="d1", scene="gunfight", attendees=cast),
        c("check_in", "arm", unit="main", set="street"),
        c("unlock_container", "arm", container="truck"),
    ]


def cycle(k: int, n_firearms: int, n_performers: int) -> list[dict[str, Any]]:
    f, p = f"f{k % n_firearms:03d}", f"p{k % n_performers:02d}"
    conf = [{"person": p, "pin": f"{5000 + k % n_performers}"}, {"person": "ad", "pin": "3333"}]
    return [
        c(
            "inspect",
            "arm",
            firearm=f,
            chambers=["empty"] * 6,
            barrel_clear=True,
            confirmations=conf,
        ),
        c("issue", "arm", firearm=f, to=p, scene="gunfight", confirmations=conf),
        c("load", "arm", firearm=f, lot="blanks", positions=[1], scene="gunfight", shot=1),
        c("discharge", "arm", firearm=f, positions=[1], scene="gunfight", shot=1),
        c("collect", "arm", firearm=f),
        c("unload", "arm", firearm=f),
    ]


def service(path: Path, clock: FixedClock) -> CustodyService:
    store = Store.open(f"sqlite:///{path}")
    store.create_all()
    return CustodyService(
        store, Ledger(Signer.generate("bench.local")), clock, pins=PinHasher(new_pepper())
    )


def run(cycles: int, batch: int) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="coldset-bench-"))
    clock = FixedClock(datetime(2025, 3, 3, 15, 0, tzinfo=UTC))
    svc = service(tmp / "bench.sqlite", clock)
    for r in svc.execute_batch(setup(50, 40) + scene_and_open(50, 40)):
        assert r.ok, (r.command, r.error, r.verdicts)
    cmds = [x for k in range(cycles) for x in cycle(k, 50, 40)]

    t0 = time.perf_counter()
    refused = 0
    for i in range(0, len(cmds), batch):
        clock.advance(seconds=1)
        for r in svc.execute_batch(cmds[i : i + batch]):
            refused += not r.ok
    dt = time.perf_counter() - t0
    print(f"handoff cycles: {cycles} ({len(cmds)} commands, {refused} not allowed)")
    print(f"group commit (batch {batch}): {len(cmds) / dt:,.0f} commands/s ({dt:.2f} s)")

    # one command per transaction: the latency a single tablet sees
    single = cmds[: 6 * 100]
    svc2 = service(tmp / "single.sqlite", clock)
    for r in svc2.execute_batch(setup(50, 40) + scene_and_open(50, 40)):
        assert r.ok
    # warm each performer's PIN once, as the first handoff of the day does
    svc2.execute_batch([x for k in range(40) for x in cycle(k, 50, 40)])
    t0 = time.perf_counter()
    for cmd in single:
        clock.advance(seconds=1)
        svc2.execute(cmd)
    dt1 = time.perf_counter() - t0
    print(
        f"one command per transaction: {len(single) / dt1:,.0f} commands/s "
        f"(median-ish latency {1000 * dt1 / len(single):.2f} ms)"
    )

    # board for 500 firearms
    svc3 = service(tmp / "board.sqlite", clock)
    for r in svc3.execute_batch(setup(500, 40, "big")):
        assert r.ok, r.error
    times = []
    for _ in range(30):
        t0 = time.perf_counter()
        b = svc3.board("big")
        times.append(time.perf_counter() - t0)
    assert len(b["firearms"]) == 500
    print(
        f"board, 500 firearms: median {1000 * statistics.median(times):.1f} ms, "
        f"max {1000 * max(times):.1f} ms"
    )
    for s in (svc, svc2, svc3):
        s.store.dispose()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cycles", type=int, default=2000)
    ap.add_argument("--batch", type=int, default=120)
    args = ap.parse_args()
    run(args.cycles, args.batch)


if __name__ == "__main__":
    main()
