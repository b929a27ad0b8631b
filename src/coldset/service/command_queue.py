"""The writer's queue: group commit for concurrent requests, inside the writer process.

- :class:`CommandQueue`: commands (and operations of several steps, e.g. a
  handoff) that arrive while a write is in progress wait and go together in ONE
  ``execute_groups`` (one transaction, one fsync, one checkpoint), so sixteen
  armorers' tablets do not queue sixteen fsyncs. A command that carries PINs
  first has them checked in a worker thread, off the writer (see
  :meth:`CommandQueue.warm_pins`).
- :class:`CommandRunner`: what the web app needs of the writer.
- :func:`warm_up`: load every production's state before the server listens.

(The demo production's setup is :mod:`coldset.service.demo`.)
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import select

from coldset.domain import commands as c
from coldset.service import pins as pinstore
from coldset.service.core import CommandInput, CustodyService, Step
from coldset.service.result import Result
from coldset.store.custody_schema import custody_people

log = logging.getLogger("coldset.web")


def warm_up(custody: CustodyService) -> dict[str, int]:
    """Fold every production's log into its cached state now; production id -> log size.

    The custody service loads a production's state lazily (the whole log, about
    4 s at 100,000 entries), so without this the first command after a start
    would wait for it while holding the one writer. The server calls this before
    it listens. Nothing is written; the cache is checked against the log size on
    every command, so warming cannot make a state stale.
    """
    t0 = time.perf_counter()
    sizes: dict[str, int] = {}
    for row in custody.productions():
        sizes[row["id"]] = custody.state(row["id"]).size
    if sizes:
        log.info(
            "loaded %d production(s), %d log entries, in %.1f s",
            len(sizes),
            sum(sizes.values()),
            time.perf_counter() - t0,
        )
    return sizes


class CommandRunner(Protocol):
    """What the web app needs of the writer
    (:class:`coldset.service.writer_process.WriterProcess`)."""

    async def run(self, command: CommandInput, actor_pin: str | None = None) -> Result: ...

    async def run_steps(self, commands: Sequence[CommandInput]) -> list[Result]: ...

    async def health(self) -> dict[str, Any]: ...

    def stop(self) -> None: ...


class CommandQueue:
    """Run commands from many threads or tasks in shared transactions (group commit).

    ``submit`` returns at once with a future; a single worker thread takes
    everything queued so far and runs it as one ``execute_batch``. With no
    contention a batch has one command, so latency is one transaction.
    """

    def __init__(
        self,
        custody: CustodyService,
        max_batch: int = 64,
        after_batch: Callable[[], None] | None = None,
    ) -> None:
        """``after_batch``: called by the writer thread once every result of a batch is set
        (the writer process sends a batch's answers in one message)."""
        self.custody = custody
        self.max_batch = max_batch
        self.after_batch = after_batch
        self.batches = 0  # counters for health checks (see stats)
        self.commands = 0
        self.last_batch_at: float | None = None  # time.time() of the last batch's end
        # argon2 releases the GIL: one check per core at most (measured on 2 cores: the
        # 16 tablets' first PINs took 250 ms with 2 at a time, 400 ms with 1)
        self._argon2_slots = threading.BoundedSemaphore(max(1, min(4, os.cpu_count() or 1)))
        self._in_flight: dict[tuple[str, str, str], threading.Event] = {}
        self._in_flight_lock = threading.Lock()
        # what waits for the writer: (the steps of one operation, its future, whether it
        # is a plain command whose future takes its one Result rather than the list)
        self._items: list[tuple[list[Step], Future[Any], bool]] = []
        self._cv = threading.Condition()
        self._stopped = False
        self._thread = threading.Thread(target=self._run, name="coldset-writer", daemon=True)
        self._thread.start()

    def submit(
        self,
        command: CommandInput,
        actor_pin: str | None = None,
        *,
        done: Callable[[Future[Result]], None] | None = None,
        at: datetime | None = None,
    ) -> Future[Result]:
        """Queue a command; its future. ``done`` is attached before the writer can see it;
        ``at``: the time to record it at (None: the service's clock, when it runs)."""
        return self._enqueue([(command, actor_pin, done, at)])[0]

    def submit_all(
        self,
        items: Sequence[
            tuple[CommandInput, str | None, Callable[[Future[Result]], None], datetime | None]
        ],
    ) -> None:
        """Queue several (command, PIN, done callback, time) at once: the writer sees all
        or none of them, so commands that arrived together go in one batch."""
        self._enqueue(items)

    def submit_steps(
        self, steps: Sequence[Step], *, done: Callable[[Future[list[Result]]], None] | None = None
    ) -> Future[list[Result]]:
        """Queue the steps of ONE operation (e.g. a handoff's inspect and issue): they run
        in order in one transaction, stopping at the first that is not allowed
        (:meth:`~coldset.service.core.CustodyService.execute_groups`); the future gets
        the results of the steps tried."""
        fut: Future[list[Result]] = Future()
        if done is not None:
            fut.add_done_callback(done)
        self._put([(list(steps), fut, False)])
        return fut

    def execute_steps(self, steps: Sequence[Step]) -> list[Result]:
        return self.submit_steps(steps).result()

    def _enqueue(
        self,
        items: Sequence[
            tuple[
                CommandInput, str | None, Callable[[Future[Result]], None] | None, datetime | None
            ]
        ],
    ) -> list[Future[Result]]:
        entries: list[tuple[list[Step], Future[Any], bool]] = []
        futures: list[Future[Result]] = []
        for command, pin, done, at in items:
            fut: Future[Result] = Future()
            if done is not None:
                fut.add_done_callback(done)
            entries.append(([Step(command, pin, at)], fut, True))
            futures.append(fut)
        self._put(entries)
        return futures

    def _put(self, entries: list[tuple[list[Step], Future[Any], bool]]) -> None:
        with self._cv:
            if self._stopped:
                raise RuntimeError("the command queue is stopped")
            self._items.extend(entries)
            self._cv.notify()

    def execute(self, command: CommandInput, actor_pin: str | None = None) -> Result:
        return self.submit(command, actor_pin).result()

    # -------------------------------------------------------------- PINs off the writer

    def _pin_pairs(
        self, command: CommandInput, actor_pin: str | None
    ) -> tuple[str, list[tuple[str, str]]] | None:
        """(production, [(person, PIN)]) a command carries, or None (nothing to warm).

        Only a parsed command is looked at: a raw dict is whatever a client sent, and the
        writer parses it (and rejects it) itself.
        """
        if not isinstance(command, c.CommandBase):
            return None
        pairs = [(x.person, x.pin) for x in c.confirmers(command)]
        if actor_pin is not None:
            pairs.append((command.actor, actor_pin))
        return (command.production, pairs) if pairs else None

    def needs_pin_check(self, command: CommandInput, actor_pin: str | None) -> bool:
        """True when the command carries a PIN not yet seen to verify here (argon2 ahead)."""
        found = self._pin_pairs(command, actor_pin)
        if found is None:
            return False
        prod, pairs = found
        cache = self.custody.pin_cache
        return not all(cache.known(prod, p, pin) for p, pin in pairs)

    def warm_pins(self, command: CommandInput, actor_pin: str | None = None) -> None:
        """Verify the command's PINs against their stored argon2id hashes, here, now.

        argon2id costs ~20 ms per first check of a PIN; done by the writer it
        would hold every other tablet's command for that long. Done here (a
        worker thread, at most one per core, each distinct PIN once even
        when several tablets send it at the same moment; argon2 releases the GIL) it only
        fills the service's one PIN cache (:mod:`coldset.service.pins`), so the
        writer's own check, which still decides (and counts a wrong PIN
        towards the lock-out), is a cache hit. Nothing is decided or written
        here. A wrong PIN is not remembered. A person whose PIN is locked is
        never checked here, and what was remembered for them is forgotten, so
        the time of an answer cannot tell a locked PIN's right value.
        """
        found = self._pin_pairs(command, actor_pin)
        if found is None:
            return
        prod, pairs = found
        cache = self.custody.pin_cache
        todo = [(p, pin) for p, pin in pairs if not cache.known(prod, p, pin)]
        if not todo:
            return
        people = sorted({p for p, _ in todo})
        with self.custody.store.read() as conn:
            hashes = pinstore.stored_hashes(conn, prod, people)
            locked = {
                r.id
                for r in conn.execute(
                    select(custody_people.c.id).where(
                        custody_people.c.production == prod,
                        custody_people.c.id.in_(people),
                        custody_people.c.pin_locked.is_(True),
                    )
                )
            }
        for person, pin in todo:
            if person in locked:
                cache.forget(prod, person)
                continue
            stored = hashes.get(person)
            if stored is None:
                continue
            key = (prod, person, pin)
            with self._in_flight_lock:  # the same PIN from several tablets: check once
                running = self._in_flight.get(key)
                if running is None:
                    self._in_flight[key] = threading.Event()
            if running is not None:
                running.wait(timeout=10)
                continue
            try:
                with self._argon2_slots:
                    cache.check(stored, prod, person, pin)  # remembered when right
            finally:
                with self._in_flight_lock:
                    self._in_flight.pop(key).set()

    def _run(self) -> None:
        while True:
            with self._cv:
                while not self._items and not self._stopped:
                    self._cv.wait()
                if self._stopped and not self._items:
                    return
                batch, self._items = self._items[: self.max_batch], self._items[self.max_batch :]
            try:
                results = self.custody.execute_groups([b[0] for b in batch])
            except BaseException as e:  # the whole batch failed: tell every caller
                if len(batch) > 1:  # retry one by one so one bad command cannot sink others
                    for steps, fut, single in batch:
                        try:
                            found = self.custody.execute_groups([steps])[0]
                            fut.set_result(found[0] if single else found)
                        except BaseException as e1:
                            fut.set_exception(e1)
                else:
                    batch[0][1].set_exception(e)
            else:
                for (_s, fut, single), found in zip(batch, results, strict=True):
                    fut.set_result(found[0] if single else found)
            self.batches += 1
            self.commands += sum(len(b[0]) for b in batch)
            self.last_batch_at = time.time()
            if self.after_batch is not None:
                try:
                    self.after_batch()
                except Exception:  # the writer must go on
                    log.exception("after a batch")

    def stats(self) -> dict[str, Any]:
        """How the writer is doing: batches and commands run, commands waiting, the last
        batch's time (what ``GET /health`` shows)."""
        with self._cv:
            waiting = len(self._items)
        return {
            "batches": self.batches,
            "commands": self.commands,
            "waiting": waiting,
            "last_batch_at": self.last_batch_at,
            "running": self._thread.is_alive(),
        }

    def stop(self) -> None:
        with self._cv:
            self._stopped = True
            self._cv.notify_all()
        self._thread.join(timeout=5)
