"""State -> projection rows, and writing the rows that changed."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import fields, is_dataclass
from typing import Any

from sqlalchemy import Connection, Delete, Insert, Table, and_, bindparam, delete
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from coldset.domain.state import State
from coldset.store import custody_schema as t
from coldset.store.direct import Direct

_J = json.JSONEncoder(sort_keys=True, separators=(",", ":"), default=list).encode


def _j(value: Any) -> str:
    return _J(value)


_FIELDS: dict[type, tuple[str, ...]] = {}


def _tree(obj: Any) -> Any:
    """``dataclasses.asdict`` without its deep copies (nothing here is kept, only encoded
    by :func:`_j`): dataclasses become dicts of their fields, containers are walked,
    everything else is left as it is. ``_j(_tree(x)) == _j(asdict(x))`` (tested)."""
    t = type(obj)
    if t is str or t is int or t is bool or obj is None:
        return obj
    names = _FIELDS.get(t)
    if names is None and is_dataclass(obj) and not isinstance(obj, type):
        names = _FIELDS[t] = tuple(f.name for f in fields(obj))
    if names is not None:
        return {n: _tree(getattr(obj, n)) for n in names}
    if isinstance(obj, list | tuple):
        return [_tree(v) for v in obj]
    if isinstance(obj, set | frozenset):
        return {_tree(v) for v in obj}
    if isinstance(obj, dict):
        return {_tree(k): _tree(v) for k, v in obj.items()}
    return obj


def production_row(s: State) -> dict[str, Any]:
    p = s.production
    assert p is not None
    return {
        "id": p.id,
        "origin": p.origin,
        "title": p.title,
        "time_zone": p.time_zone,
        "exemption": p.exemption.value,
        "settings": _j(_tree(p.settings)),
        "created_at": p.created_at,
    }


def _person(s: State, pid: str) -> dict[str, Any]:
    p = s.people[pid]
    unit, set_ = s.checked_in.get(pid, (None, None))
    return {
        "name": p.name,
        "roles": _j(sorted(r.value for r in p.roles)),
        "has_pin": p.has_pin,
        "pin_locked": pid in s.pin_locked,
        "checked_in_unit": unit,
        "checked_in_set": set_,
        "detail": _j(
            {
                "credentials": [_tree(c) for c in p.credentials],
                "training": [_tree(x) for x in p.training],
                "consents": [_tree(x) for x in p.consents],
            }
        ),
    }


def _firearm(s: State, fid: str) -> dict[str, Any]:
    f = s.firearms[fid]
    insp = s.inspections.get(f.last_inspection or "")
    chambers = [None if c is None else {"lot": c.lot, "spent": c.spent} for c in f.chambers]
    return {
        "type": f.type.value,
        "manufacturer": f.manufacturer,
        "model": f.model,
        "serial": f.serial,
        "caliber": f.caliber,
        "capacity": f.capacity,
        "custody_kind": f.custody.kind,
        "custody_ref": f.custody.ref,
        "issued_for": f.issued_for,
        "issued_at": f.issued_at,
        "rounds_loaded": sum(1 for c in f.chambers if c is not None and not c.spent),
        "cases_in": sum(1 for c in f.chambers if c is not None and c.spent),
        "chambers": _j(chambers),
        "quarantined": f.quarantined,
        "last_inspection": f.last_inspection,
        "last_inspection_at": insp.at if insp else None,
        "custody_changed_at": f.custody_changed_at,
        "disposed": f.disposed,
        "detail": _j(
            {
                "importer": f.importer,
                "owner": f.owner,
                "receipt_date": f.receipt_date,
                "receipt_source": f.receipt_source,
                "disposition_date": f.disposition_date,
                "disposition_recipient": f.disposition_recipient,
                "barrel_checked_at": f.barrel_checked_at,
                "dummies_since_barrel_check": f.dummies_since_barrel_check,
            }
        ),
    }


def _lot(s: State, lid: str) -> dict[str, Any]:
    lot = s.lots[lid]
    c = lot.counts
    return {
        "kind": lot.kind.value,
        "caliber": lot.caliber,
        "maker": lot.maker,
        "load": lot.load,
        "received": c.received,
        "loaded": c.loaded,
        "fired": c.fired,
        "returned": c.returned,
        "cases_recovered": c.cases_recovered,
        "disposed": c.disposed,
        "adjusted": c.adjusted,
        "expected_stock": c.expected_stock,
        "in_firearms": c.in_firearms,
        "discrepancy": lot.discrepancy,
        "quarantined": lot.quarantined,
        "where_json": _j(lot.where),
        "detail": _j(
            {
                "verification": _tree(lot.verification) if lot.verification else None,
                "dummy_source": lot.dummy_source.value if lot.dummy_source else None,
                "receipt_date": lot.receipt_date,
                "receipt_source": lot.receipt_source,
                "moved_at": lot.moved_at,
                "reconciled_at": lot.reconciled_at,
            }
        ),
    }


def _container(s: State, cid: str) -> dict[str, Any]:
    c = s.containers[cid]
    return {
        "kind": c.kind.value,
        "name": c.name,
        "unit": c.unit,
        "locked": c.locked,
        "opened_by": c.opened_by,
        "opened_at": c.opened_at,
        "firearms": _j(sorted(c.firearms)),
    }


def _alert(s: State, aid: str) -> dict[str, Any]:
    a = s.alerts[aid]
    return {
        "rule": a.rule,
        "reason": a.reason,
        "source": a.source,
        "subject": a.subject,
        "roles": _j(list(a.roles)),
        "at": a.at,
        "resolved_by": a.resolved_by,
        "resolved_at": a.resolved_at,
        "resolution": a.resolution,
    }


def _stop_work(s: State, sid: str) -> dict[str, Any]:
    w = s.stop_works[sid]
    return {
        "scope": w.scope,
        "reason": w.reason,
        "rule": w.rule,
        "called_by": w.called_by,
        "at": w.at,
        "incident": w.incident,
        "cleared_by": _j(list(w.cleared_by)),
        "cleared_at": w.cleared_at,
    }


def _scene(s: State, sid: str) -> dict[str, Any]:
    sc = s.scenes[sid]
    return {
        "shoot_day": sc.shoot_day,
        "unit": sc.unit,
        "set_id": sc.set,
        "title": sc.title,
        "wrapped_at": sc.wrapped_at,
        "detail": _j(
            {"plan": _tree(sc.plan), "cast_crew": list(sc.cast_crew), "signoffs": sc.signoffs}
        ),
    }


_TYPED = {
    "person": (t.custody_people, _person),
    "firearm": (t.custody_firearms, _firearm),
    "lot": (t.custody_lots, _lot),
    "container": (t.custody_containers, _container),
    "alert": (t.custody_alerts, _alert),
    "stop_work": (t.custody_stop_works, _stop_work),
    "scene": (t.custody_scenes, _scene),
}
_RECORDS = {
    "unit": "units",
    "set": "sets",
    "shoot_day": "shoot_days",
    "meeting": "meetings",
    "incident": "incidents",
    "concern": "concerns",
    "override": "overrides",
    "inspection": "inspections",
}


def _record(s: State, kind: str, rid: str) -> dict[str, Any] | None:
    obj = getattr(s, _RECORDS[kind]).get(rid)
    return None if obj is None else {"detail": _j(_tree(obj))}


def write_rows(conn: Connection, s: State, dirty: Iterable[tuple[str, str]]) -> None:
    """Replace the rows of every (kind, id) in ``dirty`` with the state's current values."""
    assert s.production is not None
    prod = s.production.id
    typed: dict[str, list[str]] = defaultdict(list)
    records: dict[str, list[str]] = defaultdict(list)
    for kind, rid in dirty:
        if kind in _TYPED:
            typed[kind].append(rid)
        elif kind in _RECORDS:
            records[kind].append(rid)
    for kind, ids in typed.items():
        table, make = _TYPED[kind]
        _replace(
            conn,
            table,
            [{"production": prod, "id": i} for i in ids],
            [{"production": prod, "id": i, **make(s, i)} for i in ids],
        )
    for kind, ids in records.items():
        rows = []
        for i in ids:
            r = _record(s, kind, i)
            if r is not None:
                rows.append({"production": prod, "kind": kind, "id": i, **r})
        _replace(
            conn,
            t.custody_records,
            [{"production": prod, "kind": kind, "id": i} for i in ids],
            rows,
        )


#: (dialect, table, key columns) -> (DELETE by key, UPSERT): built once, not per batch;
#: the upsert runs on the driver's cursor (it is in every batch; see store.direct).
_STATEMENTS: dict[tuple[str, Table, tuple[str, ...]], tuple[Delete, Direct]] = {}


def _statements(dialect: str, table: Table, cols: tuple[str, ...]) -> tuple[Delete, Direct]:
    found = _STATEMENTS.get((dialect, table, cols))
    if found is None:
        cond = and_(*(table.c[k] == bindparam(f"k_{k}") for k in cols))
        # INSERT ... ON CONFLICT (key) DO UPDATE: the same statement on both databases
        ins = pg_insert(table) if dialect == "postgresql" else sqlite_insert(table)
        upsert: Insert = ins.on_conflict_do_update(
            index_elements=list(cols),
            set_={c.name: ins.excluded[c.name] for c in table.c if c.name not in cols},
        )
        found = _STATEMENTS[(dialect, table, cols)] = (delete(table).where(cond), Direct(upsert))
    return found


def _replace(
    conn: Connection, table: Table, keys: list[dict[str, Any]], rows: list[dict[str, Any]]
) -> None:
    """Make the rows of ``keys`` be exactly ``rows``: upsert those present, delete the
    others (a record the state no longer has). One statement in the usual case."""
    if not keys:
        return
    cols = tuple(keys[0])
    delete_stmt, upsert_stmt = _statements(conn.dialect.name, table, cols)
    upsert_stmt.many(conn, rows)
    if len(rows) < len(keys):
        present = {tuple(r[k] for k in cols) for r in rows}
        gone = [
            {f"k_{k}": v for k, v in key.items()}
            for key in keys
            if tuple(key[k] for k in cols) not in present
        ]
        if gone:
            conn.execute(delete_stmt, gone)


def all_dirty(s: State) -> set[tuple[str, str]]:
    """Every (kind, id) of the state: what a rebuild writes."""
    out: set[tuple[str, str]] = set()
    for kind, attr in (
        ("person", "people"),
        ("firearm", "firearms"),
        ("lot", "lots"),
        ("container", "containers"),
        ("alert", "alerts"),
        ("stop_work", "stop_works"),
        ("scene", "scenes"),
        *((k, v) for k, v in _RECORDS.items()),
    ):
        out.update((kind, i) for i in getattr(s, attr))
    return out
