"""Paperwork made from the log: day reports and firearm histories, as PDF or CSV.

A report is made from the log alone: :func:`source_and_entries` reads the latest
signed checkpoint and the entries it covers in one transaction, the builders in
:mod:`coldset.reports.facts` fold them with the domain's own projection, and
:mod:`coldset.reports.pdf` / :mod:`coldset.reports.tables` render the result.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any

from coldset.domain.events import parse_entry
from coldset.domain.projection import fold
from coldset.domain.state import State
from coldset.ledger.log import Ledger
from coldset.reports.facts import (
    DayReport,
    FirearmHistory,
    IncidentReport,
    ReportError,
    Source,
    bound_book,
    day_report,
    firearm_history,
    incident_report,
)
from coldset.service.core import CustodyService
from coldset.service.records import Records, signed_entries
from coldset.store.db import Store

__all__ = [
    "DayReport",
    "FirearmHistory",
    "IncidentReport",
    "ReportError",
    "Source",
    "day",
    "firearm",
    "incident",
    "source_and_entries",
]


def source_and_entries(
    store: Store, ledger: Ledger, origin: str
) -> tuple[Source, Iterator[tuple[int, dict[str, Any]]]]:
    cp, raw = signed_entries(store, ledger, origin)
    source = Source(origin, cp.size, base64.b64encode(cp.root).decode(), cp.note)
    return source, ((i, parse_entry(d)) for i, d in raw)


def day(records: Records, log: str, shoot_day: str, unit: str | None = None) -> DayReport:
    """A day report from an install's records (the CLI)."""
    source, entries = source_and_entries(records.store, records.ledger, records.resolve(log))
    return day_report(entries, source, shoot_day, unit)


def firearm(records: Records, log: str, firearm_id: str) -> FirearmHistory:
    """A firearm's history from an install's records (the CLI)."""
    source, entries = source_and_entries(records.store, records.ledger, records.resolve(log))
    return firearm_history(entries, source, firearm_id)


def incident(records: Records, log: str, incident_id: str, around: int = 20) -> IncidentReport:
    """An incident report from an install's records (the CLI)."""
    source, entries = source_and_entries(records.store, records.ledger, records.resolve(log))
    return incident_report(entries, source, incident_id, around)


def book(records: Records, log: str) -> list[tuple[str, ...]]:
    """The acquisition and disposition lines of an install's log (the CLI)."""
    _source, entries = source_and_entries(records.store, records.ledger, records.resolve(log))
    return bound_book(entries)


def production_incident(
    custody: CustodyService, production: str, incident_id: str, around: int = 20
) -> IncidentReport:
    source, entries = source_and_entries(
        custody.store, custody.ledger, _origin(custody, production)
    )
    return incident_report(entries, source, incident_id, around)


def production_book(custody: CustodyService, production: str) -> list[tuple[str, ...]]:
    _source, entries = source_and_entries(
        custody.store, custody.ledger, _origin(custody, production)
    )
    return bound_book(entries)


def _origin(custody: CustodyService, production: str) -> str:
    prod = custody.state(production).production
    if prod is None:
        raise ReportError(f"no production {production!r}")
    return prod.origin


def production_day(
    custody: CustodyService, production: str, shoot_day: str, unit: str | None = None
) -> DayReport:
    """A day report of a production the running server holds (the web and the API)."""
    origin = _origin(custody, production)
    source, entries = source_and_entries(custody.store, custody.ledger, origin)
    return day_report(entries, source, shoot_day, unit)


def production_firearm(custody: CustodyService, production: str, firearm_id: str) -> FirearmHistory:
    origin = _origin(custody, production)
    source, entries = source_and_entries(custody.store, custody.ledger, origin)
    return firearm_history(entries, source, firearm_id)


#: Who may read a production's reports: they name every person, every refusal and every
#: override, so the people who run firearms safety and production, not every member.
REPORT_ROLES = frozenset(
    {
        "armorer",
        "assistant_armorer",
        "property_master",
        "safety_contact",
        "producer",
        "first_ad",
        "admin",
    }
)


def may_read(custody: CustodyService, production: str, person: str) -> bool:
    p = custody.state(production).people.get(person)
    return p is not None and bool({str(r) for r in p.roles} & REPORT_ROLES)


def state_of(records: Records, log: str) -> State:
    """A production's state rebuilt from its log at the latest checkpoint (the CLI's labels)."""
    _source, entries = source_and_entries(records.store, records.ledger, records.resolve(log))
    return fold(e for _i, e in entries)
