"""A sample production as plain command dicts: a western, done right.

Used by ``coldset demo``, the tests and the benchmark. Two units, six firearms
(three single-action revolvers, a lever-action rifle, a rubber prop and a
non-firing replica), blank and dummy lots, eight people, one shoot day with
three scenes. The caller supplies the PINs (the demo makes random ones and
prints them once).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

PRODUCTION = "dusty-trail"

PEOPLE: dict[str, tuple[str, list[str]]] = {
    "maria": ("Maria Ortega", ["admin", "producer"]),
    "hana": ("Hana Reyes", ["armorer"]),
    "sam": ("Sam Whitaker", ["assistant_armorer"]),
    "dave": ("Dave Halloran", ["first_ad"]),
    "lee": ("Lee Okafor", ["safety_contact"]),
    "alec": ("Alec Barrow", ["performer"]),
    "jensen": ("Jensen Hale", ["performer"]),
    "frances": ("Frances Fisher-Kahn", ["performer"]),
}

FIREARMS: list[dict[str, Any]] = [
    {
        "firearm": "colt-1",
        "manufacturer": "Colt",
        "model": "Single Action Army",
        "serial": "SA10231",
        "firearm_type": "single_action_revolver",
        "caliber": ".45 Colt",
        "capacity": 6,
        "container": "safe-main",
    },
    {
        "firearm": "colt-2",
        "manufacturer": "Colt",
        "model": "Single Action Army",
        "serial": "SA10598",
        "firearm_type": "single_action_revolver",
        "caliber": ".45 Colt",
        "capacity": 6,
        "container": "safe-main",
    },
    {
        "firearm": "pietta-1",
        "manufacturer": "F.LLI Pietta",
        "importer": "EMF Company",
        "model": "1873 Great Western II",
        "serial": "P771204",
        "firearm_type": "single_action_revolver",
        "caliber": ".45 Colt",
        "capacity": 6,
        "container": "safe-second",
    },
    {
        "firearm": "win-1",
        "manufacturer": "Winchester",
        "model": "1892",
        "serial": "W892-4410",
        "firearm_type": "lever_action",
        "caliber": ".44-40",
        "capacity": 11,
        "container": "safe-second",
    },
    {
        "firearm": "rubber-1",
        "manufacturer": "Prop Shop",
        "model": "SAA rubber",
        "serial": "RR-001",
        "firearm_type": "rubber_resin",
        "caliber": "n/a",
        "capacity": 0,
        "container": "safe-main",
    },
    {
        "firearm": "replica-1",
        "manufacturer": "Denix",
        "model": "1873 replica",
        "serial": "DX-1873-9",
        "firearm_type": "non_firing_replica",
        "caliber": "n/a",
        "capacity": 0,
        "container": "safe-main",
    },
]

LOTS: list[dict[str, Any]] = [
    {
        "lot": "blank-45",
        "kind": "blank",
        "caliber": ".45 Colt",
        "maker": "Stembridge",
        "count": 100,
        "load": "1/4 load",
        "container": "safe-main",
    },
    {
        "lot": "dummy-45",
        "kind": "dummy",
        "caliber": ".45 Colt",
        "maker": "Stembridge",
        "count": 50,
        "dummy_source": "commercial",
        "container": "safe-main",
    },
    {
        "lot": "blank-4440",
        "kind": "blank",
        "caliber": ".44-40",
        "maker": "Stembridge",
        "count": 60,
        "load": "half load",
        "container": "safe-second",
    },
]


def western(day: date, pins: dict[str, str]) -> list[dict[str, Any]]:
    """Every setup command of the sample production, in order (PINs included)."""
    p = PRODUCTION
    cmds: list[dict[str, Any]] = [
        {
            "type": "create_production",
            "production": p,
            "actor": "maria",
            "actor_name": PEOPLE["maria"][0],
            "title": "Dusty Trail (demo western)",
            "time_zone": "America/Denver",
            "pin": pins["maria"],
        }
    ]

    def add(actor: str, type_: str, **fields: Any) -> None:
        cmds.append({"type": type_, "production": p, "actor": actor, **fields})

    add("maria", "grant_role", person="maria", role="producer")
    for pid, (name, roles) in PEOPLE.items():
        if pid != "maria":
            add("maria", "add_person", person=pid, name=name, roles=roles, pin=pins[pid])
    add("maria", "add_unit", unit="main", name="Main unit")
    add("maria", "add_unit", unit="second", name="Second unit")
    add(
        "maria",
        "add_set",
        set="church",
        unit="main",
        name="Old church",
        location="Bonanza Creek Ranch",
    )
    add("maria", "add_set", set="corral", unit="second", name="Corral")
    add("maria", "add_shoot_day", shoot_day="day-1", date=day.isoformat())
    expires = (day + timedelta(days=365)).isoformat()
    for handler in ("hana", "sam"):
        add(
            "lee",
            "record_credential",
            person=handler,
            kind="entertainment_firearms_permit",
            number=f"EFP-{handler.upper()}-2025",
            issuer="State",
            expires=expires,
        )
        add(
            "lee",
            "record_credential",
            person=handler,
            kind="firearms_safety_course",
            number=f"FSC-{handler.upper()}",
            issuer="Safety Course Provider",
            expires=expires,
        )
    add(
        "hana",
        "add_container",
        container="safe-main",
        kind="truck_safe",
        name="Main unit truck safe",
        unit="main",
    )
    add(
        "hana",
        "add_container",
        container="cart-main",
        kind="gun_cart",
        name="Main unit lockable cart",
        unit="main",
    )
    add(
        "sam",
        "add_container",
        container="safe-second",
        kind="truck_safe",
        name="Second unit truck safe",
        unit="second",
    )
    received = (day - timedelta(days=3)).isoformat()
    for f in FIREARMS:
        add(
            "hana",
            "receive_firearm",
            **f,
            owner="Tombstone Rentals",
            receipt_date=received,
            receipt_source="Tombstone Rentals, FFL 9-86-000-00-0A-00000",
        )
    for lot in LOTS:
        add(
            "hana",
            "receive_lot",
            **lot,
            receipt_date=received,
            receipt_source="Stembridge Gun Rentals",
        )
    add("hana", "verify_dummy_lot", lot="dummy-45", method="rattle", sample=50, result="pass")
    for perf in ("alec", "jensen", "frances"):
        for wt in ("single_action_revolver", "lever_action"):
            add("hana", "record_training", performer=perf, weapon_type=wt)
            add(perf, "record_consent", performer=perf, weapon_type=wt)
    add(
        "dave",
        "schedule_scene",
        scene="sc-12",
        shoot_day="day-1",
        unit="main",
        set="church",
        title="Sheriff walks in, draws on the preacher",
        firearms=[{"firearm": "colt-1", "rounds": "dummy"}],
        shots=[
            {
                "number": 1,
                "kind": "rehearsal",
                "muzzle": "clear",
                "target": "floor",
                "closest_distance_ft": 12,
            },
            {
                "number": 2,
                "kind": "take",
                "muzzle": "clear",
                "target": "wall",
                "closest_distance_ft": 12,
            },
        ],
        cast_crew=["alec", "dave", "hana", "lee"],
    )
    add(
        "dave",
        "schedule_scene",
        scene="sc-14",
        shoot_day="day-1",
        unit="second",
        set="corral",
        title="Ranch hand fires a warning shot",
        firearms=[{"firearm": "win-1", "rounds": "blank", "load": "half load"}],
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
        cast_crew=["jensen", "sam", "lee"],
    )
    add(
        "dave",
        "schedule_scene",
        scene="sc-20",
        shoot_day="day-1",
        unit="main",
        set="church",
        title="Showdown on the church steps",
        firearms=[{"firearm": "colt-2", "rounds": "blank", "load": "1/4 load"}],
        shots=[
            {
                "number": 1,
                "kind": "take",
                "muzzle": "clear",
                "target": "past the outlaw",
                "closest_distance_ft": 25,
                "blanks": True,
            }
        ],
        mitigations=["cheated angle: muzzle 15 degrees off the line to the other actor"],
        cast_crew=["frances", "alec", "dave", "hana", "lee"],
    )
    for scene in ("sc-12", "sc-14", "sc-20"):
        add("hana", "sign_off_plan", scene=scene, as_role="handler")
        add("dave", "sign_off_plan", scene=scene, as_role="first_ad")
        add("lee", "sign_off_plan", scene=scene, as_role="safety_contact")
    add(
        "dave",
        "hold_safety_meeting",
        shoot_day="day-1",
        attendees=sorted(PEOPLE),
        topics="Firearms on set today: sc-12, sc-14, sc-20",
    )
    for sc in [x for x in cmds if x["type"] == "schedule_scene"]:  # safety-meeting: per scene
        add(
            "dave",
            "hold_safety_meeting",
            shoot_day="day-1",
            scene=sc["scene"],
            attendees=sc["cast_crew"],
            topics=f"{sc['scene']}: {sc['title']}",
        )
    add("hana", "check_in", unit="main", set="church")
    add("sam", "check_in", unit="second", set="corral")
    return cmds
