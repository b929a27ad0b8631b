"""The custody service: the only writer of custody state.

One command (or a batch) in → state loaded (cached per production, keyed by
the ledger size) → references, role, PINs, every applicable rule, the state
(:func:`coldset.domain.pipeline.decide_entry`) → the entry appended to the
production's log → the state folded → the changed projection rows written →
commit, all in ONE ``Store.write()`` transaction (one checkpoint per batch).
"""

from __future__ import annotations

import hashlib
import secrets
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydantic import PrivateAttr
from sqlalchemy import Connection, delete, insert, select

from coldset import canonical
from coldset.clock import Clock
from coldset.domain import commands as c
from coldset.domain.events import entry_bytes, parse_entry
from coldset.domain.pipeline import Decision, PinResult, decide_entry
from coldset.domain.projection import apply_entry, fold
from coldset.domain.state import State
from coldset.ledger.log import Ledger, LogInfo, UnknownLog
from coldset.service import pins as pinstore
from coldset.service import timeline
from coldset.service.result import Result
from coldset.service.rows import production_row, write_rows
from coldset.store.accounts_schema import account_logins, account_members
from coldset.store.custody_schema import (
    custody_concern_tokens,
    custody_idempotency,
    custody_productions,
    custody_timeline,
)
from coldset.store.db import Store
from coldset.store.direct import Direct

CommandInput = dict[str, Any] | c.CommandBase
_PIN_COMMANDS = (c.CreateProduction, c.AddPerson, c.SetPin, c.ResetPin)
#: Events that make an automatic ``check_alerts`` worth recording.
_NEWS = frozenset({"alert_raised", "stop_work_called", "quarantined"})
#: Events after which a person's cached PIN hash is read again.
_PIN_EVENTS = frozenset(
    {"production_created", "person_added", "pin_set", "pin_reset", "pin_rejected"}
)
#: Idempotency keys per ``IN (...)`` (well under every SQLite parameter limit).
_IDEM_CHUNK = 512


_INSERT_TIMELINE = Direct(insert(custody_timeline))
_INSERT_IDEM = Direct(insert(custody_idempotency))


@dataclass(frozen=True, eq=False)
class Step:
    """One command of an operation: the command, the actor's PIN (checked like a
    confirmation; None: none), and when it happened (None: the service's clock, now)."""

    command: CommandInput
    actor_pin: str | None = None
    at: datetime | None = None


@dataclass
class _Pending:
    """What one batch has done to one production so far (written at the end)."""

    state: State
    origin: str
    first_index: int
    head: LogInfo | None  # the log's row as this transaction read it
    entries: list[bytes] = field(default_factory=list)
    by_index: dict[int, dict[str, Any]] = field(default_factory=dict)
    dirty: set[tuple[str, str]] = field(default_factory=set)
    timeline: list[dict[str, Any]] = field(default_factory=list)
    idem: dict[str, tuple[int, str]] = field(default_factory=dict)
    #: the batch's idempotency keys already stored for this production (one query)
    stored_idem: dict[str, tuple[int, str]] = field(default_factory=dict)
    #: person -> stored PIN hash (None: no PIN) as this transaction sees it
    pins: dict[str, str | None] = field(default_factory=dict)
    created: bool = False


class CreateProductionFor(c.CreateProduction):
    """``create_production`` that also links an account (its login) to the new production's
    first person, in the SAME write transaction as the production's first entry: either the
    production exists and the login acts as its admin, or neither. The link is not part of
    the command as logged (a private attribute, kept when the command is pickled to the
    writer process); an idempotent retry answers the first result and links nothing
    again. Make one with :func:`create_production_for`."""

    _link_login: str | None = PrivateAttr(None)

    @property
    def link_login(self) -> str | None:
        return self._link_login

    def command(self) -> c.CreateProduction:
        """The plain command (what the rules decide and the log records)."""
        return c.CreateProduction.model_validate(self.model_dump())


def create_production_for(command: CommandInput, login: str) -> c.CommandBase | Result:
    """``command`` (a ``create_production``) parsed, to be run with ``login`` linked to its
    actor in the same transaction; or the ``malformed`` :class:`Result` it gets."""
    checked = validate(command)
    if isinstance(checked, Result):
        return checked
    if not isinstance(checked, c.CreateProduction):
        raise TypeError(
            f"create_production_for takes a create_production, not {checked.command_type}"
        )
    out = CreateProductionFor.model_validate(checked.model_dump())
    out._link_login = login
    return out


def _pin_owner(cmd: c.CommandBase) -> str:
    """Whose PIN a PIN-setting command sets: the creator's, or the named person's."""
    if isinstance(cmd, c.CreateProduction):
        return cmd.actor
    return cmd.person  # type: ignore[attr-defined, no-any-return]


def command_hash(cmd: c.CommandBase) -> str:
    """What an idempotency key remembers of its command (no PINs in it)."""
    return hashlib.sha256(canonical.dumps(c.public_dict(cmd))).hexdigest()


def _hash_public(public: dict[str, Any]) -> str:
    """``command_hash`` of a command, from its public dict inside an entry just encoded."""
    return hashlib.sha256(canonical.dumps(public, checked=True)).hexdigest()


class CustodyService:
    """``execute`` / ``execute_batch`` commands; ``board``, ``timeline``, ``rebuild``."""

    def __init__(
        self,
        store: Store,
        ledger: Ledger,
        clock: Clock,
        *,
        pins: pinstore.PinHasher,
        origin_prefix: str | None = None,
    ) -> None:
        """``pins``: the install's PIN hasher (its pepper; see :mod:`coldset.service.pins`)."""
        self.store = store
        self.ledger = ledger
        self.clock = clock
        self.pins = pins
        #: the one PIN cache (stored hashes and verified PINs; its rules: coldset.service.pins)
        self.pin_cache = pinstore.PinCache(pins)
        self.origin_prefix = origin_prefix or ledger.signer.name
        self._states: dict[str, State] = {}
        self._boards: dict[str, tuple[int, dict[str, Any]]] = {}  # production -> (size, rows)
        self._lock = threading.RLock()

    def origin(self, production: str) -> str:
        return f"{self.origin_prefix}/{production}"

    # ------------------------------------------------------------------ commands

    def execute(self, command: CommandInput, *, actor_pin: str | None = None) -> Result:
        """Run one command. ``actor_pin``, when given, is checked like a confirmation."""
        return self.execute_batch([command], actor_pins=[actor_pin])[0]

    def execute_batch(
        self,
        commands: Sequence[CommandInput],
        *,
        actor_pins: Sequence[str | None] | None = None,
        times: Sequence[datetime | None] | None = None,
    ) -> list[Result]:
        """Run commands in order in ONE transaction (group commit: one checkpoint per log).

        ``times``: when each command happened, where the caller's clock says so (the
        server's injected clock, stamped when the command arrived); None: this service's
        clock, now."""
        groups = [
            [Step(cmd, actor_pins[i] if actor_pins else None, times[i] if times else None)]
            for i, cmd in enumerate(commands)
        ]
        return [found[0] for found in self.execute_groups(groups)]

    def execute_steps(
        self,
        commands: Sequence[CommandInput],
        *,
        actor_pins: Sequence[str | None] | None = None,
        times: Sequence[datetime | None] | None = None,
    ) -> list[Result]:
        """Run ``commands`` as ONE operation: in order, in one transaction, stopping at the
        first that is not allowed (see :meth:`execute_groups`)."""
        return self.execute_groups(
            [
                [
                    Step(cmd, actor_pins[i] if actor_pins else None, times[i] if times else None)
                    for i, cmd in enumerate(commands)
                ]
            ]
        )[0]

    def execute_groups(self, groups: Sequence[Sequence[Step]]) -> list[list[Result]]:
        """Run groups of steps in order in ONE transaction; each group's results.

        A group is one operation of several commands (the handoff: inspect, then issue).
        Its steps run in order and each is recorded as its own log entry, as it would be
        alone; the first step that is not allowed (refused, rejected, malformed) ends the
        group: the steps after it are not tried, and its results stop there. What was
        recorded before stays recorded (a refused issue keeps the allowed inspection: the
        inspection happened). Nothing of any group is written unless the whole
        transaction commits. A group of one is a plain command (:meth:`execute_batch`).
        """
        # each step parsed, or the malformed Result it gets (the steps after it: never tried)
        parsed: list[list[tuple[c.CommandBase | Result, Step]]] = []
        for group in groups:
            row: list[tuple[c.CommandBase | Result, Step]] = []
            for st in group:
                try:
                    row.append((c.parse_command(st.command), st))
                except c.CommandError as e:
                    row.append((_malformed(st.command, e), st))
                    break
            parsed.append(row)
        # argon2 is slow: hash new PINs before taking the write lock
        new_pins = {
            id(st): self.pins.hash(cmd.production, _pin_owner(cmd), cmd.pin)
            for row in parsed
            for cmd, st in row
            if isinstance(cmd, _PIN_COMMANDS) and cmd.pin
        }
        keys: dict[str, list[str]] = {}
        for row in parsed:
            for cmd, _st in row:
                if isinstance(cmd, c.CommandBase) and cmd.idempotency_key:
                    keys.setdefault(cmd.production, []).append(cmd.idempotency_key)
        out: list[list[Result]] = []
        pending: dict[str, _Pending] = {}
        with self._lock:
            try:
                with self.store.write() as conn:
                    for row in parsed:
                        done: list[Result] = []
                        for cmd, st in row:
                            r = (
                                cmd
                                if isinstance(cmd, Result)
                                else self._one(
                                    conn,
                                    cmd,
                                    pending,
                                    new_pins.get(id(st)),
                                    st.actor_pin,
                                    keys,
                                    st.at,
                                )
                            )
                            done.append(r)
                            if not r.ok:
                                break
                        out.append(done)
                    for prod, p in pending.items():
                        self._flush(conn, prod, p)
            except BaseException:
                # nothing was committed: readers stay on the snapshot published before
                # (it is still the log's state, and every load checks the log's size)
                for prod in pending:
                    self.pin_cache.drop_hashes(prod)
                raise
            for prod, p in pending.items():
                if p.state.production is not None:
                    self._states[prod] = p.state  # committed: publish the new snapshot
                    # what this transaction saw and wrote is what the log's new size holds
                    self.pin_cache.keep_hashes(prod, p.state.size, p.pins)
                else:
                    self.pin_cache.drop_hashes(prod)
        return out

    def _one(
        self,
        conn: Connection,
        cmd: c.CommandBase,
        pending: dict[str, _Pending],
        pin_hash: str | None,
        actor_pin: str | None,
        keys: dict[str, list[str]],
        at: datetime | None = None,
    ) -> Result:
        login = None
        if isinstance(cmd, CreateProductionFor):
            login, cmd = cmd.link_login, cmd.command()
        prod = cmd.production
        p = pending.get(prod)
        if p is None:
            state, head = self._load_head(conn, prod)
            p = pending[prod] = _Pending(state, self.origin(prod), state.size, head)
            p.stored_idem = self._idem_lookup(conn, prod, keys.get(prod, ()))
            if state.production is not None:
                p.pins = self.pin_cache.hashes(prod, state.size)
        key = cmd.idempotency_key
        if key:
            # keys recorded earlier in this batch, then keys stored before it
            hit = p.idem.get(key) or p.stored_idem.get(key)
            if hit is not None:
                idx, old = hit
                if old != command_hash(cmd):
                    return Result(
                        "rejected",
                        prod,
                        cmd.command_type,
                        error_kind="duplicate",
                        error=f"idempotency key {key!r} was already used for a different command",
                    )
                entry = p.by_index.get(idx) or parse_entry(self.ledger.entry(conn, p.origin, idx))
                return Result.from_entry(entry, idx, replayed=True)
        if (
            login is not None
            and not conn.execute(
                select(account_logins.c.login).where(account_logins.c.login == login)
            ).first()
        ):
            return Result(
                "rejected",
                prod,
                cmd.command_type,
                error_kind="unknown-id",
                error=f"no login {login!r} to make the production's first person; "
                "nothing was created",
            )
        now = at or self.clock.now()
        d = decide_entry(
            p.state, cmd, now, self._check_pins(conn, p, cmd, actor_pin), origin=p.origin
        )
        if d.entry is None or (isinstance(cmd, c.CreateProduction) and d.status != "allowed"):
            return _result(d, cmd, None)
        if isinstance(cmd, c.CreateProduction):
            self.ledger.create(conn, p.origin)
            p.created = True
        index = p.state.size
        p.timeline.extend(timeline.rows(prod, index, p.state, d.entry))
        p.entries.append(entry_bytes(d.entry))
        p.by_index[index] = d.entry
        p.state = apply_entry(p.state, d.entry)  # a new State; the published one stays
        p.dirty |= p.state.dirty
        if key:
            # the entry's command is the command's public dict: hash it, not it again
            p.idem[key] = (index, _hash_public(d.entry["command"]))
        for e in d.entry["events"]:
            if e["type"] in _PIN_EVENTS:
                p.pins.pop(e.get("person"), None)
                self.pin_cache.forget(prod, e.get("person"))
        out_secrets: dict[str, str] = {}
        if d.status == "allowed":
            if login is not None:  # the creator's account: in this same transaction
                conn.execute(
                    delete(account_members).where(
                        account_members.c.login == login, account_members.c.production == prod
                    )
                )
                conn.execute(
                    insert(account_members).values(login=login, production=prod, person=cmd.actor)
                )
            if pin_hash is not None:
                person = _pin_owner(cmd)
                pinstore.store_pin(conn, prod, person, pin_hash)
                p.pins[person] = pin_hash
            if isinstance(cmd, c.RaiseConcern):
                token = secrets.token_urlsafe(18)
                conn.execute(
                    insert(custody_concern_tokens).values(
                        production=prod,
                        concern=f"concern-{index}",
                        token_hash=hashlib.sha256(token.encode()).hexdigest(),
                    )
                )
                out_secrets["concern_token"] = token
        return _result(d, cmd, index, out_secrets)

    def _flush(self, conn: Connection, prod: str, p: _Pending) -> None:
        if p.entries:
            indices = self.ledger.append(conn, p.origin, p.entries, head=p.head)
            if indices[0] != p.first_index:
                raise RuntimeError(f"log {p.origin} moved during the batch; try again")
        if p.created:
            conn.execute(insert(custody_productions).values(**production_row(p.state)))
        if p.state.production is not None:
            write_rows(conn, p.state, p.dirty)
        if p.timeline:
            _INSERT_TIMELINE.many(conn, p.timeline)
        if p.idem:
            _INSERT_IDEM.many(
                conn,
                [
                    {"production": prod, "key": k, "idx": i, "command_hash": h}
                    for k, (i, h) in p.idem.items()
                ],
            )

    # ------------------------------------------------------------------ state

    def _load(self, conn: Connection, prod: str) -> State:
        """The cached state, caught up with the log (another process may have appended)."""
        return self._load_head(conn, prod)[0]

    def _load_head(self, conn: Connection, prod: str) -> tuple[State, LogInfo | None]:
        """:meth:`_load`, and the log's head as read (None: no log yet).

        A snapshot in ``_states`` is never changed: catching up with entries another
        process committed folds them into a new snapshot, which replaces it.
        """
        try:
            head = self.ledger.info(conn, self.origin(prod))
        except UnknownLog:
            self._states.pop(prod, None)
            return State(), None
        size = head.size
        st = self._states.get(prod)
        if st is None or st.size > size:
            st = State()
        if st.size < size:
            st = fold(
                (
                    parse_entry(data)
                    for _idx, data in self.ledger.entries(conn, self.origin(prod), start=st.size)
                ),
                start=st,
            )
        self._states[prod] = st
        return st, head

    def state(self, production: str) -> State:
        """The committed state of a production: an immutable snapshot.

        The object is never changed afterwards (commands make new snapshots), so a
        page may iterate it from any thread, outside every lock, for as long as it
        likes; it never shows a batch that has not committed.
        """
        if not c.is_id(production):
            return State()  # names no production (and a NUL would fail on PostgreSQL)
        with self._lock, self.store.read() as conn:
            return self._load(conn, production)

    def _idem_lookup(
        self, conn: Connection, prod: str, keys: Sequence[str]
    ) -> dict[str, tuple[int, str]]:
        """The stored (index, command hash) of those of ``keys`` already used in ``prod``."""
        out: dict[str, tuple[int, str]] = {}
        todo = sorted(set(keys))
        t = custody_idempotency.c
        for i in range(0, len(todo), _IDEM_CHUNK):
            # an expanding IN through SQLAlchemy (its compiled form is cached): see store.direct
            for key, idx, command_hash in conn.execute(
                select(t.key, t.idx, t.command_hash).where(
                    t.production == prod, t.key.in_(todo[i : i + _IDEM_CHUNK])
                )
            ):
                out[key] = (idx, command_hash)
        return out

    def _check_pins(
        self, conn: Connection, p: _Pending, cmd: c.CommandBase, actor_pin: str | None
    ) -> dict[str, PinResult]:
        state = p.state
        if state.production is None:
            return {}
        pairs = [(x.person, x.pin) for x in c.confirmers(cmd) if x.person in state.people]
        if actor_pin is not None and cmd.actor in state.people:
            pairs.append((cmd.actor, actor_pin))
        if not pairs:
            return {}
        hashes = p.pins
        missing = sorted({person for person, _ in pairs if person not in hashes})
        if missing:
            found = pinstore.stored_hashes(conn, state.production.id, missing)
            for person in missing:
                hashes[person] = found.get(person)
        out: dict[str, PinResult] = {}
        for person, pin in pairs:
            r: PinResult
            stored = hashes[person]
            if state.pin_is_locked(person):
                r = "locked"
            elif stored is None:
                r = "no-pin"
            else:
                r = "ok" if self.pin_cache.check(stored, cmd.production, person, pin) else "wrong"
            if out.get(person, "ok") == "ok":
                out[person] = r
        return out

    # ------------------------------------------------------------------ reads

    def board(self, production: str) -> dict[str, Any]:
        from coldset.service import queries

        _must_be_ids(production)
        with self.store.read() as conn:
            # the board's rows change only with the log: kept per log size (the size is
            # read first, in the same read, so rows are never older than their size)
            try:
                size = self.ledger.info(conn, self.origin(production)).size
            except UnknownLog:
                size = -1
            cached = self._boards.get(production)
            if cached is None or cached[0] != size or size < 0:
                cached = (size, queries.board_rows(conn, production))
                self._boards[production] = cached
        return queries.board_at(cached[1], self.clock.now())

    def timeline(self, production: str, firearm: str) -> list[dict[str, Any]]:
        from coldset.service import queries

        _must_be_ids(production, firearm)
        with self.store.read() as conn:
            return queries.timeline(conn, production, firearm)

    def productions(self) -> list[dict[str, Any]]:
        from coldset.service import queries

        with self.store.read() as conn:
            return queries.productions(conn)

    def check_due_alerts(self, now: datetime | None = None) -> list[Result]:
        """Raise the time-based alerts that have come due, on every production.

        The time-based rules (ammunition left out past its grace period, a firearm
        not collected after the limit, an unanswered concern) fire on a
        ``check_alerts`` command. The server calls this on a timer: it asks the
        rules first without writing, and records a ``check_alerts`` by the system
        actor only where an alert would actually be raised, so the log does not
        fill with empty checks.
        """
        results = []
        for row in self.productions():
            prod = row["id"]
            cmd = c.parse_command({"type": "check_alerts", "production": prod, "actor": c.SYSTEM})
            with self._lock:
                d = decide_entry(self.state(prod), cmd, now or self.clock.now())
            if d.status == "allowed" and any(e["type"] in _NEWS for e in d.events):
                results.append(self.execute_batch([cmd], times=[now])[0])
        return results

    def concern_for_token(self, production: str, token: str) -> dict[str, Any] | None:
        """The concern a private link token opens (its text and answer), or None."""
        from coldset.service import queries

        if not c.is_id(production) or not isinstance(token, str) or not token.isascii():
            return None  # tokens are URL-safe ASCII: nothing else opens a concern
        with self.store.read() as conn:
            return queries.concern_for_token(conn, production, token)

    def rebuild(self, production: str) -> State:
        """Recompute every projection row of ``production`` from its log."""
        from coldset.service.rebuild import rebuild

        with self._lock:
            try:
                with self.store.write() as conn:
                    st = rebuild(conn, self.ledger, self.origin(production), production)
            except BaseException:
                self._states.pop(production, None)
                raise
            self._states[production] = st
            return st


def _must_be_ids(*values: str) -> None:
    """Reads name things by id: a value that cannot be an id is not found (a 404 on the
    web), the same on every database, without asking one (PostgreSQL refuses a NUL)."""
    from coldset.service.queries import NotFound

    for v in values:
        if not c.is_id(v):
            raise NotFound(f"no such id {v!r}")


def _verdict_dicts(d: Decision) -> tuple[dict[str, Any], ...]:
    return tuple({**v.to_entry(), "overridable_by": list(v.overridable_by)} for v in d.verdicts)


def _result(
    d: Decision, cmd: c.CommandBase, index: int | None, out_secrets: dict[str, str] | None = None
) -> Result:
    return Result(
        status=d.status,
        production=cmd.production,
        command=cmd.command_type,
        at=d.entry["at"] if d.entry else None,
        index=index,
        events=tuple(d.events) if index is not None else (),
        verdicts=_verdict_dicts(d),
        error_kind=d.error_kind,
        error=d.error,
        secrets=out_secrets or {},
    )


def validate(command: CommandInput) -> c.CommandBase | Result:
    """``command`` parsed into its model, or the ``malformed`` :class:`Result` it gets.

    The web process calls this before a command goes to the writer, so the writer only
    ever sees commands that passed their model: nothing a client sends can raise there.
    """
    try:
        return c.parse_command(command)
    except c.CommandError as e:
        return _malformed(command, e)
    except (RecursionError, ValueError, TypeError):  # e.g. nesting beyond all reason
        return _malformed(
            command,
            c.CommandError(
                [("", "could not be read as a command (nested too deeply or not plain JSON)")]
            ),
        )


def _malformed(raw: Any, e: c.CommandError) -> Result:
    prod = raw.get("production") if isinstance(raw, dict) else None
    typ = raw.get("type") if isinstance(raw, dict) else None
    # echoed only when they can be ids: a NUL or lone surrogate is never sent back
    return Result(
        "rejected",
        prod if c.is_id(prod) else None,
        typ if isinstance(typ, str) and typ in c.COMMAND_TYPES else None,
        error_kind="malformed",
        error=str(e),
        field_errors=tuple(e.errors),
    )
