"""The demo production: the sample western, and one demo login per person in it."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date

from coldset.domain.sample import PEOPLE, PRODUCTION, western
from coldset.service.accounts import AccountService
from coldset.service.core import CustodyService


@dataclass(frozen=True)
class DemoLogin:
    login: str
    name: str
    roles: list[str]
    password: str
    pin: str


def setup_demo(
    custody: CustodyService,
    accounts: AccountService,
    day: date,
    pins: dict[str, str] | None = None,
    passwords: dict[str, str] | None = None,
) -> list[DemoLogin]:
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
