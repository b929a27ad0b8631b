"""The handoff as ONE service operation (``service.handoff``): the page, the API endpoint
``POST /api/v1/productions/{production}/handoffs`` and the replays all call it; it writes
the same two entries (inspect, then issue) the page always wrote."""

from __future__ import annotations

from typing import Any

import pytest

from coldset.domain.events import parse_entry
from coldset.service.handoff import Handoff, handoff_commands, run_handoff_sync
from tests.web.conftest import PINS, P, Web, handoff_form, open_safe

H = "/api/v1/productions/dusty-trail/handoffs"


@pytest.fixture
def token(web: Web) -> Any:
    accounts = web.app.state.coldset.accounts
    return lambda who: {"Authorization": f"Bearer {accounts.create_token(who, 'test')}"}


def _body(**kw: Any) -> dict[str, Any]:
    return {
        "firearm": "colt-1",
        "chambers": ["empty"] * 6,
        "barrel_clear": True,
        "to": "alec",
        "pin": PINS["alec"],
        "scene": "sc-12",
        "confirmations": [{"person": "dave", "pin": PINS["dave"]}],
        **kw,
    }


def _unlock(web: Web, h: dict[str, str]) -> None:
    r = web.client.post(
        "/api/v1/productions/dusty-trail/commands/unlock_container",
        json={"container": "safe-main"},
        headers=h,
    )
    assert r.status_code == 200, r.json()


def _types(web: Web, start: int) -> list[str]:
    custody = web.app.state.coldset.custody
    with custody.store.read() as conn:
        return [
            parse_entry(d)["command"]["type"]
            for _i, d in custody.ledger.entries(conn, custody.origin("dusty-trail"), start=start)
        ]


def test_api_handoff_inspects_then_issues(web: Web, token: Any) -> None:
    """One POST: 200 with both results; the log holds inspect then issue; alec has it."""
    h = token("hana")
    _unlock(web, h)
    before = web.size()
    r = web.client.post(H, json=_body(), headers=h)
    assert r.status_code == 200, r.json()
    body = r.json()
    assert body["inspection"]["command"] == "inspect" and body["issue"]["command"] == "issue"
    assert body["issue"]["index"] == body["inspection"]["index"] + 1
    assert _types(web, before) == ["inspect", "issue"]
    f = web.state.firearms["colt-1"]
    assert (f.custody.kind, f.custody.ref) == ("person", "alec")


def test_api_handoff_wrong_pin_keeps_the_inspection(web: Web, token: Any) -> None:
    """A wrong performer PIN: the issue is not allowed (a problem with step=issue and the
    recorded inspection); the inspection stays in the log, the firearm is not handed."""
    h = token("hana")
    _unlock(web, h)
    before = web.size()
    r = web.client.post(H, json=_body(pin="0000"), headers=h)
    assert r.status_code in (403, 409, 422), r.json()
    body = r.json()
    assert r.headers["content-type"].startswith("application/problem+json")
    assert body["step"] == "issue" and body["inspection"]["command"] == "inspect"
    assert _types(web, before)[0] == "inspect"
    assert web.state.firearms["colt-1"].custody.ref != "alec"


def test_api_handoff_refused_inspection_tries_no_issue(web: Web, token: Any) -> None:
    """A chamber state that does not exist: the inspection is rejected (422, step=inspect)
    and no issue is even tried: nothing is written."""
    h = token("hana")
    _unlock(web, h)
    before = web.size()
    r = web.client.post(H, json=_body(chambers=["bogus"] + ["empty"] * 5), headers=h)
    assert r.status_code == 422, r.json()
    assert r.json()["step"] == "inspect" and r.json()["command"] == "inspect"
    assert web.size() == before


def test_api_handoff_malformed_body_writes_nothing(web: Web, token: Any) -> None:
    """Wrong types and unknown fields: 422 naming each field; the log does not grow."""
    h = token("hana")
    before = web.size()
    r = web.client.post(H, json={**_body(barrel_clear="yes"), "extra": 1}, headers=h)
    assert r.status_code == 422
    fields = {f["field"] for f in r.json()["field_errors"]}
    assert {"barrel_clear", "extra"} <= fields
    assert web.size() == before
    assert web.client.post(H, json=_body()).status_code == 401


def test_api_handoff_retry_with_the_same_key_writes_nothing(web: Web, token: Any) -> None:
    """The same Idempotency-Key twice: the second answers the first (replayed), no entry."""
    h = token("hana")
    _unlock(web, h)
    assert (
        web.client.post(H, json=_body(), headers={**h, "Idempotency-Key": "t-1"}).status_code == 200
    )
    size = web.size()
    r = web.client.post(H, json=_body(), headers={**h, "Idempotency-Key": "t-1"})
    assert r.status_code == 200 and r.json()["issue"]["replayed"] is True
    assert web.size() == size


def test_page_and_api_build_the_same_commands(web: Web) -> None:
    """The page's handoff writes exactly the commands ``handoff_commands`` builds."""
    csrf = web.login("hana")
    open_safe(web, csrf)
    before = web.size()
    r = web.post(f"{P}/handoff", handoff_form(key="same-1"), csrf)
    assert r.status_code == 200
    custody = web.app.state.coldset.custody
    with custody.store.read() as conn:
        logged = [
            parse_entry(d)["command"]
            for _i, d in custody.ledger.entries(conn, custody.origin("dusty-trail"), start=before)
        ]
    want = handoff_commands(
        Handoff(
            production="dusty-trail",
            actor="hana",
            firearm="colt-1",
            chambers=["empty"] * 6,
            barrel_clear=True,
            to="alec",
            pin=PINS["alec"],
            scene="sc-12",
            confirmations=[{"person": "dave", "pin": PINS["dave"]}],
            idempotency_key="same-1",
        )
    )
    for got, cmd in zip(logged, want, strict=True):
        public = {k: v for k, v in cmd.items() if k != "confirmations"}
        assert {k: got[k] for k in public} == public


def test_service_handoff_without_a_server(web: Web) -> None:
    """``run_handoff_sync`` on the custody service (the replays' path) does the same."""
    custody = web.app.state.coldset.custody
    r = custody.execute(
        {
            "type": "unlock_container",
            "production": "dusty-trail",
            "actor": "hana",
            "container": "safe-main",
        }
    )
    assert r.ok
    done = run_handoff_sync(
        custody,
        Handoff(
            production="dusty-trail",
            actor="hana",
            firearm="colt-1",
            chambers=["empty"] * 6,
            barrel_clear=True,
            to="alec",
            pin=PINS["alec"],
            scene="sc-12",
            confirmations=[{"person": "dave", "pin": PINS["dave"]}],
        ),
    )
    assert done.ok and done.last.command == "issue"


def test_api_handoff_is_one_writer_operation(web: Web, token: Any) -> None:
    """The handoff reaches the writer process as ONE operation: its batch counter moves
    by one for the two entries (before, the page and the API sent two commands)."""
    h = token("hana")
    _unlock(web, h)
    before = web.client.get("/api/v1/health").json()
    r = web.client.post(H, json=_body(), headers=h)
    assert r.status_code == 200, r.json()
    after = web.client.get("/api/v1/health").json()
    assert after["batches"] - before["batches"] == 1
    assert after["commands"] - before["commands"] == 2


def test_api_double_submit_at_once_gives_one_handoff(web: Web, token: Any) -> None:
    """Two POSTs with the same Idempotency-Key sent at the same moment (a double tap):
    one inspect and one issue in the log; both answers carry the same entries."""
    from concurrent.futures import ThreadPoolExecutor

    h = {**token("hana"), "Idempotency-Key": "tap-2"}
    _unlock(web, h)
    before = web.size()
    with ThreadPoolExecutor(2) as pool:
        answers = list(pool.map(lambda _: web.client.post(H, json=_body(), headers=h), range(2)))
    assert [a.status_code for a in answers] == [200, 200]
    assert _types(web, before) == ["inspect", "issue"]
    assert len({a.json()["issue"]["index"] for a in answers}) == 1
