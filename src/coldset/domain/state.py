"""The current state of one production, folded from its log (see ``projection.apply_entry``).

Custody is exact by construction (``single-custody``): every firearm's
``custody`` is either a container (its id is then in that container's
``firearms`` and the container is locked) or one person. Rounds not in a
firearm are counted per place in ``Lot.where`` ("container:<id>" or
"person:<id>"); rounds in a firearm are its ``chambers``.

A ``State`` is a snapshot: once made, nothing changes it. Its collections are
persistent maps (``immutables.Map``: read like a dict, never written; a change
makes a new map that shares the rest) holding frozen dataclasses, and
``projection.apply_entry`` returns a *new* ``State`` and leaves the one it was
given as it was. So the service hands the same object to any number of readers
in any threads (pages iterate it outside every lock) while its writer folds the
next batch into a new one, and publishes that only after it commits. Never set
an attribute of a ``State`` you did not just make yourself.

``dirty`` holds the (table, id) pairs the entry that made this state touched, so
the service writes only changed projection rows. It is not part of equality.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from immutables import Map

from coldset.clock import parse_rfc3339
from coldset.domain.model import (
    HANDLER,
    HANDLER_ROLES,
    Alert,
    Concern,
    Container,
    Firearm,
    Incident,
    Inspection,
    Lot,
    Override,
    Person,
    Production,
    ProductionSettings,
    Role,
    SafetyMeeting,
    Scene,
    Set,
    ShootDay,
    StopWork,
    Unit,
)


def log_index(record_id: str) -> int:
    """The log index in a generated id (``insp-12`` -> 12, ``sw-40-0`` -> 40); -1 if none."""
    parts = record_id.split("-")
    return int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else -1


@dataclass
class State:
    production: Production | None = None
    size: int = 0  # entries folded so far (= ledger size)
    last_at: str = ""  # time of the latest entry folded
    units: Map[str, Unit] = field(default_factory=Map)
    sets: Map[str, Set] = field(default_factory=Map)
    shoot_days: Map[str, ShootDay] = field(default_factory=Map)
    scenes: Map[str, Scene] = field(default_factory=Map)
    people: Map[str, Person] = field(default_factory=Map)
    firearms: Map[str, Firearm] = field(default_factory=Map)
    #: (manufacturer, serial) -> firearm id, of the firearms not disposed of: a serial is
    #: unique on a production, and checking it must not read every firearm
    serials: Map[tuple[str, str], str] = field(default_factory=Map)
    lots: Map[str, Lot] = field(default_factory=Map)
    containers: Map[str, Container] = field(default_factory=Map)
    inspections: Map[str, Inspection] = field(default_factory=Map)
    meetings: Map[str, SafetyMeeting] = field(default_factory=Map)
    incidents: Map[str, Incident] = field(default_factory=Map)
    concerns: Map[str, Concern] = field(default_factory=Map)
    alerts: Map[str, Alert] = field(default_factory=Map)
    stop_works: Map[str, StopWork] = field(default_factory=Map)
    overrides: Map[str, Override] = field(default_factory=Map)
    checked_in: Map[str, tuple[str, str]] = field(default_factory=Map)  # handler -> (unit, set)
    duties: Map[str, str] = field(default_factory=Map)  # handler -> non-firearms task
    meal_breaks: Map[str, str] = field(default_factory=Map)  # unit -> started at
    pin_failures: Map[str, tuple[str, ...]] = field(default_factory=Map)  # person -> times
    pin_locked: Map[str, str] = field(default_factory=Map)  # person -> locked since
    dirty: set[tuple[str, str]] = field(default_factory=set, compare=False, repr=False)

    # ------------------------------------------------------------- settings

    @property
    def settings(self) -> ProductionSettings:
        return self.production.settings if self.production else ProductionSettings()

    # ------------------------------------------------------------- people

    def has_role(self, person: str | None, role: str) -> bool:
        """``role`` is a Role value or "handler" (any handler role)."""
        p = self.people.get(person or "")
        if p is None:
            return False
        if role == HANDLER:
            return bool(p.roles & HANDLER_ROLES)
        return Role(role) in p.roles

    def is_handler(self, person: str | None) -> bool:
        return self.has_role(person, HANDLER)

    def people_with(self, role: str) -> list[str]:
        return sorted(pid for pid in self.people if self.has_role(pid, role))

    def handler_on(self, unit: str) -> list[str]:
        """Handlers checked in on ``unit``."""
        return sorted(h for h, (u, _s) in self.checked_in.items() if u == unit)

    # ------------------------------------------------------------- custody

    def holder(self, firearm: str) -> str | None:
        """The person holding ``firearm``, or None when it is in a container."""
        f = self.firearms[firearm]
        return f.custody.ref if f.custody.kind == "person" else None

    def held_by(self, person: str) -> list[str]:
        return sorted(
            fid
            for fid, f in self.firearms.items()
            if f.custody.kind == "person" and f.custody.ref == person
        )

    def container_rounds(self, container: str) -> dict[str, int]:
        key = f"container:{container}"
        return {lid: lot.where[key] for lid, lot in sorted(self.lots.items()) if lot.where.get(key)}

    def rounds_held(self, person: str) -> dict[str, int]:
        key = f"person:{person}"
        return {lid: lot.where[key] for lid, lot in sorted(self.lots.items()) if lot.where.get(key)}

    def unsecured_rounds(self) -> dict[str, int]:
        """Per lot, rounds neither in a firearm nor in a locked container."""
        out: dict[str, int] = {}
        for lid, lot in self.lots.items():
            n = 0
            for place, count in lot.where.items():
                kind, _, ref = place.partition(":")
                if kind == "person" or not self.containers[ref].locked:
                    n += count
            if n:
                out[lid] = n
        return out

    def write_off(self, lot: str, diff: int, actor: str) -> dict[str, int]:
        """Where a resolved count difference of ``lot`` is booked: place -> rounds (+/-).

        ``diff`` is counted - expected. A shortfall comes off the places where rounds are
        handled first (people's hands, open containers), then locked containers, each
        largest holding first (ties by place id); a surplus is added to the largest
        holding, or to the counter's hand when the lot has no rounds in stock. The
        result keeps ``sum(where) == expected_stock`` (deterministic, so a replay books
        it the same way).
        """
        where = self.lots[lot].where
        if diff == 0:
            return {}

        def locked(place: str) -> bool:
            kind, _, ref = place.partition(":")
            box = self.containers.get(ref) if kind == "container" else None
            return box is not None and box.locked

        if diff > 0:
            held = sorted(((n, p) for p, n in where.items() if n > 0), key=lambda x: (-x[0], x[1]))
            return {held[0][1] if held else f"person:{actor}": diff}
        out: dict[str, int] = {}
        left = -diff
        for place, n in sorted(where.items(), key=lambda x: (locked(x[0]), -x[1], x[0])):
            if left <= 0:
                break
            take = min(n, left)
            if take > 0:
                out[place] = -take
                left -= take
        return out

    def firearms_out(self, unit: str | None = None) -> list[str]:
        """Firearms not locked away (held by someone, or in an open container: an open
        container is not custody of its contents); on ``unit`` when given.

        A firearm is on a unit when issued for a scene of that unit, held by a handler
        checked in on it, or in a container of that unit.
        """
        out = []
        for fid, f in self.firearms.items():
            if f.disposed or (
                f.custody.kind == "container" and self.containers[f.custody.ref].locked
            ):
                continue
            if unit is None or self.firearm_unit(fid) == unit:
                out.append(fid)
        return sorted(out)

    def firearm_unit(self, firearm: str) -> str | None:
        f = self.firearms[firearm]
        if f.issued_for and f.issued_for in self.scenes:
            return self.scenes[f.issued_for].unit
        if f.custody.kind == "person" and f.custody.ref in self.checked_in:
            return self.checked_in[f.custody.ref][0]
        if f.custody.kind == "container":
            return self.containers[f.custody.ref].unit
        return None

    def last_inspection(self, firearm: str) -> Inspection | None:
        iid = self.firearms[firearm].last_inspection
        return self.inspections.get(iid) if iid else None

    def custody_changed_since_inspection(self, firearm: str) -> bool:
        """Did ``firearm`` change custody (or a meal break come) after its latest inspection?

        Compared by log order (entry indexes), not by time: two entries written in the
        same instant (a batch, a replay on a fixed clock) are still one before the other.
        Falls back to the times only when an index is missing.
        """
        f = self.firearms[firearm]
        insp = self.last_inspection(firearm)
        if insp is None:
            return False
        seen = log_index(insp.id)
        if f.custody_changed_index is not None and seen >= 0:
            return seen < f.custody_changed_index
        if not f.custody_changed_at:
            return False
        try:
            return parse_rfc3339(insp.at) < parse_rfc3339(f.custody_changed_at)
        except ValueError:
            return False

    # ------------------------------------------------------------- stop-work, alerts

    def open_stop_works(self, unit: str | None = None) -> list[StopWork]:
        """Open stop-works; with ``unit``, those covering it (its own or production-wide)."""
        return [
            s
            for s in self.stop_works.values()
            if s.open and (unit is None or s.scope in ("production", unit))
        ]

    def open_alerts(self) -> list[Alert]:
        return [a for a in self.alerts.values() if a.resolved_by is None]

    def open_concerns(self) -> list[Concern]:
        return [c for c in self.concerns.values() if c.answered_at is None]

    # ------------------------------------------------------------- PINs

    def pin_is_locked(self, person: str) -> bool:
        return person in self.pin_locked

    def recent_pin_failures(self, person: str, now: datetime) -> int:
        window = timedelta(minutes=self.settings.pin_lockout_window_min)
        return sum(1 for t in self.pin_failures.get(person, ()) if now - parse_rfc3339(t) <= window)
