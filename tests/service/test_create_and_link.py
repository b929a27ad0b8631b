"""create_production and the link of the creator's account happen in ONE transaction
(``service.core.create_production_for``): no production nobody can log into, no account
linked to a production that was not created, and an idempotent retry links nothing twice."""

from __future__ import annotations

import pickle
from typing import Any

from sqlalchemy import select

from coldset.service import CustodyService
from coldset.service.accounts import AccountService
from coldset.service.core import CreateProductionFor, create_production_for
from coldset.service.result import Result
from coldset.store.accounts_schema import account_members


def _create(**kw: Any) -> dict[str, Any]:
    return {
        "type": "create_production",
        "production": "new-show",
        "actor": "maria",
        "title": "New show",
        "actor_name": "Maria Ortega",
        "pin": "4321",
        **kw,
    }


def _members(service: CustodyService) -> list[tuple[str, str, str]]:
    with service.store.read() as conn:
        return [tuple(r) for r in conn.execute(select(account_members))]


def test_create_links_the_creator_in_the_same_write(service: CustodyService) -> None:
    """An existing login: the production is created AND the login acts as its admin."""
    AccountService(service.store, service.clock).create("maria", "Maria Ortega", "a long password")
    cmd = create_production_for(_create(), "maria")
    assert not isinstance(cmd, Result)
    r = service.execute(cmd)
    assert r.ok, r.error
    assert _members(service) == [("maria", "new-show", "maria")]
    assert (
        AccountService(service.store, service.clock)
        .get("maria")
        .person_on(  # type: ignore[union-attr]
            "new-show"
        )
        == "maria"
    )


def test_a_link_that_cannot_be_made_leaves_no_production(service: CustodyService) -> None:
    """No such login: the create is rejected with a plain reason; no production, no log,
    no link row."""
    cmd = create_production_for(_create(), "nobody")
    assert not isinstance(cmd, Result)
    r = service.execute(cmd)
    assert r.status == "rejected" and "no login 'nobody'" in (r.error or "")
    assert service.productions() == []
    assert service.state("new-show").production is None
    assert _members(service) == []


def test_an_idempotent_retry_does_not_link_again(service: CustodyService) -> None:
    """The same create with the same key twice: the second is a replay and writes no
    second link (nor changes the first)."""
    accounts = AccountService(service.store, service.clock)
    accounts.create("maria", "Maria Ortega", "a long password")
    first = service.execute(create_production_for(_create(idempotency_key="c-1"), "maria"))  # type: ignore[arg-type]
    assert first.ok
    accounts.link("maria", "new-show", "someone-else")  # changed since, on purpose
    again = service.execute(create_production_for(_create(idempotency_key="c-1"), "maria"))  # type: ignore[arg-type]
    assert again.ok and again.replayed
    assert _members(service) == [("maria", "new-show", "someone-else")]


def test_the_link_survives_the_trip_to_the_writer_process() -> None:
    """The command is pickled to the writer process: the link goes with it, and it is not
    part of the command as logged."""
    cmd = create_production_for(_create(), "maria")
    assert isinstance(cmd, CreateProductionFor)
    back = pickle.loads(pickle.dumps(cmd))
    assert back.link_login == "maria"
    assert "link_login" not in back.model_dump() and "_link_login" not in back.model_dump()


def test_a_malformed_create_is_answered_before_anything_runs() -> None:
    """A wrong field: the malformed Result, never a command."""
    r = create_production_for(_create(title=""), "maria")
    assert isinstance(r, Result) and r.error_kind == "malformed"
