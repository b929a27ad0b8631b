"""Write scenarios/night-exterior.yaml: a clean night exterior that crosses midnight.

    python scenarios/make_night_exterior.py     # rewrites scenarios/night-exterior.yaml

Three units shoot one night (call 18:00, wrap 06:00 the next morning), each with its
own handler, 1st AD, performer and a revolver firing blanks: six takes before the
midnight meal, six after, every take loaded at the take, shown clear, issued, fired,
collected and unloaded, every lot counted at wrap. Done right, it must give zero
refusals and zero alerts (issue 11 point 7); tests/replay/test_night_exterior.py
checks that, and that the file is what this script writes.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import yaml

OUT = Path(__file__).resolve().parent / "night-exterior.yaml"
DATE, NEXT = "2025-09-12", "2025-09-13"
TAKES_BEFORE, TAKES_AFTER = 6, 6

#: unit -> (name, set, set name, handler, handler role, 1st AD, performer, firearm, lot,
#:          container, scene, minute offset of its takes)
UNITS: dict[str, tuple[Any, ...]] = {
    "main": (
        "Main unit",
        "street",
        "Main street, night exterior",
        "hana",
        "armorer",
        "dave",
        "alec",
        "colt-1",
        "blank-45a",
        "safe-main",
        "sc-31",
        0,
    ),
    "second": (
        "Second unit",
        "rooftop",
        "Bank rooftop",
        "sam",
        "assistant_armorer",
        "rosa",
        "frances",
        "colt-2",
        "blank-45b",
        "safe-second",
        "sc-32",
        4,
    ),
    "third": (
        "Splinter unit",
        "alley",
        "Livery alley",
        "kit",
        "assistant_armorer",
        "omar",
        "jensen",
        "colt-3",
        "blank-45c",
        "safe-third",
        "sc-33",
        8,
    ),
}
SERIALS = {"colt-1": "SA20231", "colt-2": "SA20598", "colt-3": "SA20977"}


def hhmm(minutes: int) -> str:
    """Minutes after 00:00 of DATE -> a step time; the first one after midnight names
    the new date (the replay's steps inherit the day)."""
    h, m = divmod(minutes, 60)
    return f"{h % 24:02d}:{m:02d}"


def build() -> dict[str, Any]:
    people: dict[str, Any] = {
        "maria": {"name": "Maria Ortega (producer)", "roles": ["admin", "producer"], "pin": "5101"},
        "lee": {"name": "Lee Okafor (safety contact)", "roles": ["safety_contact"], "pin": "5102"},
    }
    pin = 5103
    for unit, (_n, _s, _sn, handler, role, ad, perf, *_rest) in UNITS.items():
        people[handler] = {
            "name": f"{handler.title()} ({role.replace('_', ' ')}, {unit} unit)",
            "roles": [role],
            "pin": str(pin),
            "credentials": [
                {
                    "kind": "entertainment_firearms_permit",
                    "number": f"EFP-{handler.upper()}",
                    "issuer": "State",
                    "expires": "2026-09-01",
                },
                {
                    "kind": "firearms_safety_course",
                    "number": f"FSC-{handler.upper()}",
                    "issuer": "Course provider",
                    "expires": "2026-09-01",
                },
            ],
        }
        people[ad] = {
            "name": f"{ad.title()} (1st AD, {unit} unit)",
            "roles": ["first_ad"],
            "pin": str(pin + 1),
        }
        people[perf] = {
            "name": perf.title(),
            "roles": ["performer"],
            "pin": str(pin + 2),
            "trained": ["single_action_revolver"],
        }
        pin += 3
    takes = TAKES_BEFORE + TAKES_AFTER
    data: dict[str, Any] = {
        "scenario": "A clean night exterior across midnight (three units)",
        "summary": (
            "One night shoot, call 18:00 and wrap 06:00 the next morning. Three units "
            "(main street, the bank rooftop, the livery alley), each with its own handler, "
            f"1st AD and performer and a revolver firing blanks: {TAKES_BEFORE} takes "
            "before the midnight meal, everything locked for the meal, "
            f"{TAKES_AFTER} after it. Every take is loaded at the take, shown clear, "
            "issued, fired, collected at once and unloaded; every lot is counted at wrap. "
            "The shoot day is the night, not the calendar date: nothing is refused and "
            "no alert is raised after midnight."
        ),
        "sources": [
            "Safety Bulletin #1 (Industry-Wide Labor-Management Safety Committee)",
            "California Labor Code §§9150–9156 (SB 132)",
        ],
        "production": {
            "id": "night-ext",
            "title": "Midnight at Dusty Creek (night exterior)",
            "time_zone": "America/Denver",
            "admin": "maria",
            "setup_at": f"{DATE} 15:00",
            "handler": "hana",
        },
        "people": people,
        "units": {u: v[0] for u, v in UNITS.items()},
        "sets": {
            v[1]: {"unit": u, "name": v[2], "location": "Bonanza Creek Ranch"}
            for u, v in UNITS.items()
        },
        "shoot_days": {"n1": {"date": DATE, "call": "18:00", "wrap": "06:00"}},
        "containers": {
            v[9]: {"kind": "truck_safe", "name": f"{v[0]} truck safe", "unit": u, "by": v[3]}
            for u, v in UNITS.items()
        },
        "firearms": {
            v[7]: {
                "manufacturer": "Colt",
                "model": "Single Action Army",
                "serial": SERIALS[v[7]],
                "firearm_type": "single_action_revolver",
                "caliber": ".45 Colt",
                "capacity": 6,
                "container": v[9],
                "receipt_source": "Tombstone Rentals",
                "by": v[3],
            }
            for v in UNITS.values()
        },
        "lots": {
            v[8]: {
                "kind": "blank",
                "caliber": ".45 Colt",
                "maker": "Stembridge",
                "count": 50,
                "load": "1/4 load",
                "container": v[9],
                "by": v[3],
            }
            for v in UNITS.values()
        },
        "scenes": {
            v[10]: {
                "shoot_day": "n1",
                "unit": u,
                "set": v[1],
                "title": f"Night: gunfight on the {v[1]}",
                "firearms": [{"firearm": v[7], "rounds": "blank", "load": "1/4 load"}],
                "shots": [
                    {
                        "number": k,
                        "kind": "take",
                        "muzzle": "clear",
                        "target": "the sky",
                        "closest_distance_ft": 30,
                        "blanks": True,
                    }
                    for k in range(1, takes + 1)
                ],
                "cast_crew": [v[6], v[5], v[3], "lee"],
                "sign_offs": {"handler": v[3], "first_ad": v[5], "safety_contact": "lee"},
            }
            for u, v in UNITS.items()
        },
        "steps": steps(),
    }
    return data


def steps() -> list[dict[str, Any]]:
    out: list[tuple[int, int, dict[str, Any]]] = []  # (minute, order, step)
    n = 0

    def add(minute: int, by: str, **cmd: Any) -> None:
        nonlocal n
        n += 1
        out.append((minute, n, {"by": by, **cmd}))

    everyone = sorted({p for v in UNITS.values() for p in (v[3], v[5], v[6])} | {"lee"})
    call = 18 * 60
    for v in UNITS.values():
        add(call, v[3], check_in={"unit": next(u for u, w in UNITS.items() if w is v), "set": v[1]})
    add(
        call + 15,
        "dave",
        hold_safety_meeting={
            "shoot_day": "n1",
            "attendees": everyone,
            "topics": "Tonight: sc-31 (main street), sc-32 (rooftop), sc-33 (alley), "
            "blanks only, meal at midnight",
        },
    )
    for v in UNITS.values():
        add(
            call + 20,
            v[5],
            hold_safety_meeting={
                "shoot_day": "n1",
                "scene": v[10],
                "attendees": [v[6], v[5], v[3], "lee"],
            },
        )
    for v in UNITS.values():  # each handler takes the revolver out for the night
        add(call + 30 + v[11], v[3], unlock_container={"container": v[9]})
        add(
            call + 30 + v[11],
            v[3],
            lock_container={"container": v[9], "firearms": []},
            story="The revolver stays with the handler; the blanks go back in the safe.",
        )

    def take(start: int, v: tuple[Any, ...], k: int) -> None:
        handler, ad, perf, gun, lot, box, scene = v[3], v[5], v[6], v[7], v[8], v[9], v[10]
        t = start + v[11]
        add(t, handler, unlock_container={"container": box})
        add(
            t,
            handler,
            load={"firearm": gun, "lot": lot, "positions": [1, 2], "scene": scene, "shot": k},
        )
        add(t + 1, handler, lock_container={"container": box, "firearms": []})
        add(
            t + 2,
            handler,
            inspect={
                "firearm": gun,
                "chambers": ["blank", "blank"] + ["empty"] * 4,
                "barrel_clear": True,
            },
        )
        add(t + 2, handler, issue={"firearm": gun, "to": perf, "scene": scene}, confirm=[perf, ad])
        add(
            t + 3,
            handler,
            discharge={"firearm": gun, "positions": [1, 2], "scene": scene, "shot": k},
        )
        add(t + 3, handler, collect={"firearm": gun})
        add(t + 4, handler, unload={"firearm": gun})

    first = 19 * 60
    for k in range(1, TAKES_BEFORE + 1):
        for v in UNITS.values():
            take(first + (k - 1) * 40, v, k)
        if k % 2 == 0:
            add(first + (k - 1) * 40 + 15, "lee", check_alerts={})
    meal = 23 * 60 + 40
    for u, v in UNITS.items():  # lock everything up for the midnight meal
        add(meal + v[11] // 4, v[3], unlock_container={"container": v[9]})
        add(meal + v[11] // 4, v[3], lock_container={"container": v[9]})
        add(
            meal + 3,
            v[5],
            start_meal_break={"unit": u},
            story="Midnight meal: every firearm and round of the unit is locked away."
            if u == "main"
            else None,
        )
    add(
        24 * 60 + 10,
        "lee",
        check_alerts={},
        story="After midnight: the same shoot day; nothing is due.",
    )
    back = 24 * 60 + 40
    for u, v in UNITS.items():
        add(back, v[5], end_meal_break={"unit": u})
        add(back + 2 + v[11] // 4, v[3], unlock_container={"container": v[9]})
        add(back + 2 + v[11] // 4, v[3], lock_container={"container": v[9], "firearms": []})
    first = 25 * 60
    for i, k in enumerate(range(TAKES_BEFORE + 1, TAKES_BEFORE + TAKES_AFTER + 1)):
        for v in UNITS.values():
            take(first + i * 40, v, k)
        if i % 2 == 1:
            add(first + i * 40 + 15, "lee", check_alerts={})
    end = first + TAKES_AFTER * 40 + 10  # 05:10
    for u, v in UNITS.items():
        add(end + v[11] // 4, v[3], unlock_container={"container": v[9]})
        add(end + v[11] // 4, v[3], lock_container={"container": v[9]})
        add(end + 5, v[5], wrap_scene={"scene": v[10]})
        add(
            end + 10,
            v[3],
            reconcile_counts={"lot": v[8], "counted": 50 - 2 * (TAKES_BEFORE + TAKES_AFTER)},
            confirm=["lee"],
            story="Wrap: the lot counted, two people." if u == "main" else None,
        )
    add(end + 15, "lee", check_alerts={})
    add(
        end + 20,
        "dave",
        wrap_day={"shoot_day": "n1"},
        story="Wrap at 05:30 on the next date: the night's own wrap, before 06:00.",
    )
    for v in UNITS.values():
        add(end + 25, v[3], check_out={"unit": next(u for u, w in UNITS.items() if w is v)})

    rows = []
    day = None
    for minute, _n, step in sorted(out, key=lambda x: (x[0], x[1])):
        date = DATE if minute < 24 * 60 else NEXT
        at = hhmm(minute) if date == day else f"{date} {hhmm(minute)}"
        day = date
        rows.append({"at": at, **{k: x for k, x in step.items() if x is not None}})
    return rows


def render() -> str:
    head = (
        "# Generated by scenarios/make_night_exterior.py — edit the script, not this "
        "file.\n# A clean night exterior across midnight: three units, zero refusals, "
        "zero alerts.\n"
    )
    return head + yaml.safe_dump(build(), sort_keys=False, allow_unicode=True, width=100)


if __name__ == "__main__":
    OUT.write_text(render(), encoding="utf-8")
    sys.stdout.write(f"wrote {OUT}\n")
