"""The setup sections of a scenario (people, units, sets, ... scenes) as plain commands.

Each command comes with a label naming the section and entry it came from
(``people.armorer``), which every error message repeats.
"""

from __future__ import annotations

from typing import Any

HANDLER_ROLES = ("armorer", "assistant_armorer", "property_master")

Cmd = tuple[str, str, dict[str, Any]]  # (label, actor, command without production/actor)


def _mapping(data: dict[str, Any], key: str) -> dict[str, Any]:
    value = data.get(key) or {}
    if not isinstance(value, dict):
        raise ValueError(f"field '{key}' must be a mapping of id -> details")
    return value


def _clock(value: Any) -> str:
    """``"18:00"`` as written; YAML 1.1 reads an unquoted 18:00 as the number 1080."""
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return f"{value // 60:02d}:{value % 60:02d}"
    return str(value)


def _details(section: str, key: str, value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ValueError(f"field '{section}.{key}' must be a mapping of its fields")
    return dict(value)


def _handler(data: dict[str, Any]) -> str:
    prod = data["production"]
    if prod.get("handler"):
        return str(prod["handler"])
    for pid, info in data["people"].items():
        if any(r in HANDLER_ROLES for r in info.get("roles") or ()):
            return str(pid)
    return str(prod["admin"])


def setup_commands(data: dict[str, Any]) -> list[Cmd]:
    """Every setup command, in an order the service accepts."""
    prod, people = data["production"], data["people"]
    admin, handler = str(prod["admin"]), _handler(data)
    day = str(prod["setup_at"])[:10]
    out: list[Cmd] = []

    def add(label: str, by: str, type_: str, **fields: Any) -> None:
        out.append((label, by, {"type": type_, **fields}))

    me = people[admin]
    create: dict[str, Any] = {
        "title": prod["title"],
        "time_zone": prod.get("time_zone", "UTC"),
        "actor_name": me["name"],
    }
    if me.get("pin") is not None:
        create["pin"] = str(me["pin"])
    if prod.get("exemption"):
        create["exemption"] = prod["exemption"]
    settings = prod.get("settings") or {}
    if not isinstance(settings, dict):
        raise ValueError("field 'production.settings' must be a mapping")
    add("production", admin, "create_production", **create, **settings)
    for role in me.get("roles") or ():
        if role != "admin":
            add(f"people.{admin}", admin, "grant_role", person=admin, role=role)
    for pid, info in people.items():
        if pid == admin:
            continue
        fields: dict[str, Any] = {
            "person": pid,
            "name": info["name"],
            "roles": list(info.get("roles") or []),
        }
        if info.get("pin") is not None:
            fields["pin"] = str(info["pin"])
        add(f"people.{pid}", admin, "add_person", **fields)
    for uid, name in _mapping(data, "units").items():
        add(f"units.{uid}", admin, "add_unit", unit=uid, name=str(name))
    for sid, info in _mapping(data, "sets").items():
        add(f"sets.{sid}", admin, "add_set", set=sid, **_details("sets", sid, info))
    for did, when in _mapping(data, "shoot_days").items():
        if isinstance(when, dict):  # {date, call, wrap}: a shoot day with its hours
            d = _details("shoot_days", did, when)
            d = {k: str(v) if k == "date" else _clock(v) for k, v in d.items()}
            add(f"shoot_days.{did}", admin, "add_shoot_day", shoot_day=did, **d)
        else:  # a date: the calendar day
            add(f"shoot_days.{did}", admin, "add_shoot_day", shoot_day=did, date=str(when))
    for pid, info in people.items():
        creds = info.get("credentials") or []
        if not isinstance(creds, list):
            raise ValueError(f"field 'people.{pid}.credentials' must be a list")
        for i, cred in enumerate(creds):
            c = _details(f"people.{pid}.credentials", str(i), cred)
            if "expires" in c:
                c["expires"] = str(c["expires"])
            add(f"people.{pid}.credentials.{i}", admin, "record_credential", person=pid, **c)
    for cid, info in _mapping(data, "containers").items():
        d = _details("containers", cid, info)
        add(f"containers.{cid}", str(d.pop("by", handler)), "add_container", container=cid, **d)
    for fid, info in _mapping(data, "firearms").items():
        d = _details("firearms", fid, info)
        d.setdefault("receipt_date", day)
        d["receipt_date"] = str(d["receipt_date"])
        d.setdefault("receipt_source", "rental house (scenario)")
        add(f"firearms.{fid}", str(d.pop("by", handler)), "receive_firearm", firearm=fid, **d)
    for lid, info in _mapping(data, "lots").items():
        d = _details("lots", lid, info)
        verified = d.pop("verified", None)
        by = str(d.pop("by", handler))
        d.setdefault("receipt_date", day)
        d["receipt_date"] = str(d["receipt_date"])
        d.setdefault("receipt_source", "supplier (scenario)")
        add(f"lots.{lid}", by, "receive_lot", lot=lid, **d)
        if verified is not None:
            v = _details(f"lots.{lid}", "verified", verified)
            v.setdefault("result", "pass")
            add(f"lots.{lid}.verified", by, "verify_dummy_lot", lot=lid, **v)
    for pid, info in people.items():
        trained = info.get("trained") or []
        consent = info.get("consent", trained) or []
        for wt in trained:
            add(f"people.{pid}.trained", handler, "record_training", performer=pid, weapon_type=wt)
        for wt in consent:
            add(f"people.{pid}.consent", pid, "record_consent", performer=pid, weapon_type=wt)
    for sid, info in _mapping(data, "scenes").items():
        d = _details("scenes", sid, info)
        signoffs = d.pop("sign_offs", None) or {}
        if not isinstance(signoffs, dict):
            raise ValueError(f"field 'scenes.{sid}.sign_offs' must map role -> person")
        add(f"scenes.{sid}", str(d.pop("by", admin)), "schedule_scene", scene=sid, **d)
        for role, person in signoffs.items():
            add(
                f"scenes.{sid}.sign_offs.{role}",
                str(person),
                "sign_off_plan",
                scene=sid,
                as_role=role,
            )
    return out
