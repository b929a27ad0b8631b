"""Thin helpers the web and API adapters need, over the services' public functions.

- :class:`CommandQueue`: group commit for concurrent requests. Commands that
  arrive while a write is in progress wait and go together in ONE
  ``execute_batch`` (one transaction, one fsync, one checkpoint), so sixteen
  armorers' tablets do not queue sixteen fsyncs.
- :func:`setup_demo`: the demo production (the sample western) and one demo
  login per person.
- :func:`member_roles`: the roles a person has on a production (from its log).
"""

from __future__ import annotations

import asyncio
import secrets
import threading
from collections.abc import Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import date
from typing import Any

from coldset.domain.sample import PEOPLE, PRODUCTION, western
from coldset.service.accounts import AccountService
from coldset.service.core import CommandInput, CustodyService
from coldset.service.result import Result


def member_roles(custody: CustodyService, production: str, person: str | None) -> set[str]:
    """Role values of ``person`` on ``production`` plus "handler" for any handler role."""
    if person is None:
        return set()
    try:
        state = custody.state(production)
    except LookupError:
        return set()
    p = state.people.get(person)
    if p is None:
        return set()
    roles = {r.value for r in p.roles}
    if state.is_handler(person):
        roles.add("handler")
    return roles


class CommandQueue:
    """Run commands from many threads or tasks in shared transactions (group commit).

    ``submit`` returns at once with a future; a single worker thread takes
    everything queued so far and runs it as one ``execute_batch``. With no
    contention a batch has one command, so latency is one transaction.
    """

    def __init__(self, custody: CustodyService, max_batch: int = 64) -> None:
        self.custody = custody
        self.max_batch = max_batch
        self._items: list[tuple[CommandInput, str | None, Future[Result]]] = []
        self._cv = threading.Condition()
        self._stopped = False
        self._thread = threading.Thread(target=self._run, name="coldset-writer", daemon=True)
        self._thread.start()

    def submit(self, command: CommandInput, actor_pin: str | None = None) -> Future[Result]:
        fut: Future[Result] = Future()
        with self._cv:
            if self._stopped:
                raise RuntimeError("the command queue is stopped")
            self._items.append((command, actor_pin, fut))
            self._cv.notify()
        return fut

    def execute(self, command: CommandInput, actor_pin: str | None = None) -> Result:
        return self.submit(command, actor_pin).result()

    def execute_many(self, commands: Sequence[CommandInput]) -> list[Result]:
        """Several commands of one request, in order, in the same batch."""
        futs = []
        with self._cv:
            for cmd in commands:
                fut: Future[Result] = Future()
                self._items.append((cmd, None, fut))
                futs.append(fut)
            self._cv.notify()
        return [f.result() for f in futs]

    async def run(self, command: CommandInput, actor_pin: str | None = None) -> Result:
        return await asyncio.wrap_future(self.submit(command, actor_pin))

    def _run(self) -> None:
        while True:
            with self._cv:
                while not self._items and not self._stopped:
                    self._cv.wait()
                if self._stopped and not self._items:
                    return
                batch, self._items = self._items[:self.max_batch], self._items[self.max_batch:]
            try:
                results = self.custody.execute_batch(
                    [b[0] for b in batch], actor_pins=[b[1] for b in batch])
            except BaseException as e:  # the whole batch failed: tell every caller
                if len(batch) > 1:   # retry one by one so one bad command cannot sink others
                    for cmd, pin, fut in batch:
                        try:
                            fut.set_result(self.custody.execute(cmd, actor_pin=pin))
                        except BaseException as e1:
                            fut.set_exception(e1)
                else:
                    batch[0][2].set_exception(e)
                continue
            for (_c, _p, fut), r in zip(batch, results, strict=True):
                fut.set_result(r)

    def stop(self) -> None:
        with self._cv:
            self._stopped = True
            self._cv.notify_all()
        self._thread.join(timeout=5)


@dataclass(frozen=True)
class DemoLogin:
    login: str
    name: str
    roles: list[str]
    password: str
    pin: str


def setup_demo(custody: CustodyService, accounts: AccountService, day: date,
               pins: dict[str, str] | None = None,
               passwords: dict[str, str] | None = None) -> list[DemoLogin]:
    """The sample western and a demo login (marked as demo) for every person in it."""
    pins = pins or {pid: f"{secrets.randbelow(9000) + 1000}" for pid in PEOPLE}
    passwords = passwords or {pid: f"demo-{pid}" for pid in PEOPLE}
    results = custody.execute_batch(western(day, pins))
    bad = [f"{r.command}: {r.error}" for r in results if not r.ok]
    if bad:
        raise RuntimeError("the demo production could not be set up: " + "; ".join(bad))
    out = []
    for pid, (name, roles) in PEOPLE.items():
        if accounts.get(pid) is None:
            accounts.create(pid, name, passwords[pid], demo=True, site_admin=pid == "maria")
        accounts.link(pid, PRODUCTION, pid)
        out.append(DemoLogin(pid, name, roles, passwords[pid], pins[pid]))
    return out


def command_dict(production: str, actor: str, type_: str, **fields: Any) -> dict[str, Any]:
    return {"type": type_, "production": production, "actor": actor, **fields}
