"""A small scenario to break on purpose, and where the real scenarios live."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"

SMALL: dict[str, Any] = {
    "scenario": "Small test day",
    "production": {
        "id": "small",
        "title": "Small",
        "time_zone": "America/Denver",
        "admin": "boss",
        "setup_at": "2025-06-09 18:00",
    },
    "people": {
        "boss": {"name": "Boss", "roles": ["admin", "producer"], "pin": "3101"},
        "hana": {
            "name": "Hana",
            "roles": ["armorer"],
            "pin": "3102",
            "credentials": [
                {
                    "kind": "entertainment_firearms_permit",
                    "number": "EFP-1",
                    "expires": "2026-01-01",
                }
            ],
        },
        "dave": {"name": "Dave", "roles": ["first_ad"], "pin": "3103"},
        "lee": {"name": "Lee", "roles": ["safety_contact"], "pin": "3104"},
        "alec": {
            "name": "Alec",
            "roles": ["performer"],
            "pin": "3105",
            "trained": ["single_action_revolver"],
        },
    },
    "units": {"main": "Main unit"},
    "sets": {"church": {"unit": "main", "name": "Church"}},
    "shoot_days": {"d1": "2025-06-10"},
    "containers": {"safe": {"kind": "safe", "name": "Safe", "unit": "main"}},
    "firearms": {
        "colt": {
            "manufacturer": "Colt",
            "model": "SAA",
            "serial": "S1",
            "firearm_type": "single_action_revolver",
            "caliber": ".45 Colt",
            "capacity": 6,
            "container": "safe",
        }
    },
    "scenes": {
        "sc-1": {
            "shoot_day": "d1",
            "unit": "main",
            "set": "church",
            "title": "Draw",
            "firearms": [{"firearm": "colt"}],
            "shots": [{"number": 1, "muzzle": "clear", "closest_distance_ft": 20}],
            "cast_crew": ["alec", "dave", "hana", "lee"],
            "sign_offs": {"handler": "hana", "first_ad": "dave", "safety_contact": "lee"},
        }
    },
    "steps": [
        {"at": "2025-06-10 08:00", "by": "hana", "check_in": {"unit": "main", "set": "church"}},
        {
            "at": "08:01",
            "by": "dave",
            "hold_safety_meeting": {
                "shoot_day": "d1",
                "scene": "sc-1",
                "attendees": ["alec", "dave", "hana", "lee"],
            },
        },
        {"at": "08:02", "by": "hana", "unlock_container": {"container": "safe"}},
        {
            "at": "08:03",
            "by": "dave",
            "issue": {"firearm": "colt", "to": "alec", "scene": "sc-1"},
            "confirm": ["alec", "dave"],
            "expect": "refused",
            "rules": ["armorer-only-handoff", "show-clear-before-issue"],
            "fatal": True,
            "chain": "the 1st AD hands it over",
        },
        {
            "at": "08:04",
            "by": "hana",
            "inspect": {"firearm": "colt", "chambers": ["empty"] * 6, "barrel_clear": True},
        },
        {
            "at": "08:05",
            "by": "hana",
            "issue": {"firearm": "colt", "to": "alec", "scene": "sc-1"},
            "confirm": ["alec", "dave"],
        },
        {"at": "08:10", "by": "hana", "collect": {"firearm": "colt"}},
    ],
}


@pytest.fixture
def small() -> dict[str, Any]:
    """A fresh copy of the small scenario (change it freely)."""
    return copy.deepcopy(SMALL)


def write(tmp_path: Path, data: dict[str, Any], name: str = "scenario.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))
    return path
