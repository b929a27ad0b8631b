"""Events and the ledger entry envelope.

An event is a JSON object with a ``type`` and the facts it records (strings,
integers, booleans, lists, objects; never floats, never PINs). An allowed
command produces one or more events; the projection folds them into the state.

The ENTRY ENVELOPE is one ledger entry, stored as canonical JSON
(:mod:`coldset.canonical`)::

    {"v": 1, "at": "2021-10-21T20:46:00.000Z", "production": "rust",
     "actor": "hgr", "command": {... the command without PINs ...},
     "outcome": "allowed" | "refused" | "rejected-credential" | "rejected",
     "verdicts": [{"rule", "verdict", "reason", "source"}, ...],
     "events": [...],
     "error": {"kind", "message"}}          # only for the two rejected outcomes

- ``allowed``: the events happened (verdicts may list alerts / stop-works raised
  and overridden blocks).
- ``refused``: a rule blocked it; ``events`` is empty; verdicts say why.
- ``rejected-credential``: a confirmer's PIN was wrong or locked; ``events``
  holds ``pin_rejected`` (the lock-out counts them).
- ``rejected``: well-formed but the actor has the wrong role or the state does
  not allow it (a firearm already issued, a container already open).
"""

from __future__ import annotations

from typing import Any

from coldset import canonical

Event = dict[str, Any]
ENVELOPE_VERSION = 1
OUTCOMES = ("allowed", "refused", "rejected-credential", "rejected")

#: Every event type, with the facts it carries (documentation and a test check).
EVENT_TYPES: dict[str, str] = {
    "production_created": "production title origin time_zone exemption settings person name",
    "unit_added": "unit name",
    "set_added": "set unit name location",
    "shoot_day_added": "shoot_day date",
    "person_added": "person name roles has_pin",
    "role_granted": "person role",
    "role_revoked": "person role",
    "credential_recorded": "person kind number issuer expires",
    "pin_set": "person",
    "pin_reset": "person by",
    "pin_rejected": "person locks",
    "container_added": "container kind name unit",
    "firearm_received": "firearm manufacturer importer model serial firearm_type caliber "
                        "capacity owner receipt_date receipt_source container place",
    "firearm_returned": "firearm disposition_date recipient",
    "lot_received": "lot kind caliber maker count load dummy_source receipt_date "
                    "receipt_source container place",
    "lot_returned": "lot count recipient place",
    "dummy_lot_verified": "lot method sample result by",
    "container_locked": "container by firearms rounds",
    "container_unlocked": "container by",
    "handler_checked_in": "person unit set",
    "handler_checked_out": "person unit",
    "training_recorded": "performer weapon_type by",
    "consent_recorded": "performer weapon_type",
    "consent_withdrawn": "performer weapon_type reason",
    "scene_scheduled": "scene shoot_day unit set title firearms shots mitigations cast_crew",
    "plan_signed": "scene role person",
    "safety_meeting_held": "meeting shoot_day scene held_by attendees absent topics",
    "scene_wrapped": "scene",
    "firearm_inspected": "inspection firearm by chambers barrel_clear function_check witnesses",
    "firearm_issued": "firearm to by scene",
    "firearm_collected": "firearm by holder",
    "firearm_transferred": "firearm holder to",
    "firearm_loaded": "firearm lot positions place scene shot",
    "firearm_unloaded": "firearm place rounds cases",
    "rounds_fired": "firearm positions rounds scene shot",
    "incident_reported": "incident kind by firearm lot unit description stop_work",
    "stop_work_called": "stop_work scope reason by rule incident",
    "stop_work_cleared": "stop_work by",
    "quarantined": "subject reason",
    "quarantine_released": "subject",
    "concern_raised": "concern text raised_by unit",
    "concern_acknowledged": "concern by answer",
    "alert_raised": "alert rule reason source subject roles",
    "alert_resolved": "alert by resolution",
    "counts_reconciled": "lot counted expected cases_recovered explanation resolved by "
                         "confirmed_by where_delta",
    "meal_break_started": "unit",
    "meal_break_ended": "unit",
    "day_wrapped": "shoot_day",
    "override_recorded": "override rules reason by confirmers command",
}


def event(type_: str, **facts: Any) -> Event:
    """An event dict; ``None`` facts are dropped so entries stay small."""
    if type_ not in EVENT_TYPES:
        raise ValueError(f"unknown event type {type_!r}")
    e: Event = {"type": type_}
    e.update({k: v for k, v in facts.items() if v is not None})
    return e


def envelope(*, at: str, production: str, actor: str, command: dict[str, Any],
             outcome: str, verdicts: list[dict[str, str]], events: list[Event],
             error: dict[str, str] | None = None) -> dict[str, Any]:
    if outcome not in OUTCOMES:
        raise ValueError(f"unknown outcome {outcome!r}")
    env: dict[str, Any] = {
        "v": ENVELOPE_VERSION, "at": at, "production": production, "actor": actor,
        "command": command, "outcome": outcome, "verdicts": verdicts, "events": events,
    }
    if error is not None:
        env["error"] = error
    return env


def entry_bytes(env: dict[str, Any]) -> bytes:
    """The exact bytes appended to the ledger."""
    return canonical.dumps(env)


def parse_entry(data: bytes) -> dict[str, Any]:
    env = canonical.loads(data)
    if not isinstance(env, dict) or env.get("v") != ENVELOPE_VERSION:
        raise ValueError("not a coldset custody entry (v != 1)")
    return env
