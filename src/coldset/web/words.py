"""Field names in words: what a page says instead of a command's internal field path
(``confirmations.0.pin`` → "PIN of confirming person 1")."""

from __future__ import annotations

#: a command field → how a person calls it on the form
FIELD_WORDS = {
    "confirmations": "confirming person",
    "confirmers": "override person",
    "override": "override",
    "pin": "PIN",
    "person": "badge",
    "to": "performer or handler",
    "firearm": "firearm tag",
    "lot": "lot",
    "chambers": "position",
    "positions": "position",
    "barrel_clear": "barrel clear",
    "function_check": "function check",
    "stop_work": "stop-work",
    "note": "reason",
    "idempotency_key": "form",
    "shoot_day": "shoot day",
    "as_role": "role",
    "weapon_type": "weapon type",
    "firearm_type": "type",
    "receipt_date": "received on",
    "receipt_source": "received from",
    "cases_recovered": "spent cases recovered",
    "closest_distance_ft": "closest distance",
    "text": "concern",
    "reason": "reason",
}


def field_words(path: str | None) -> str:
    """``confirmations.0.pin`` → "PIN of confirming person 1"; ``stop_work`` → "stop-work";
    an empty path (the whole form) → "form"."""
    if not path:
        return "form"
    out: list[str] = []
    for part in path.split("."):
        if part.isdigit() and out:
            out[-1] = f"{out[-1]} {int(part) + 1}"
        else:
            out.append(FIELD_WORDS.get(part, part.replace("_", " ")))
    return " of ".join(reversed(out))
