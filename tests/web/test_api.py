"""The JSON API: every command an endpoint; 409 refusals with verdicts, 422, 401, 403,
idempotency keys; the OpenAPI document. (The shape of each error answer, a problem:
test_api_problems.py.)"""

from __future__ import annotations

from typing import Any

import pytest

from coldset.domain.commands import COMMAND_TYPES
from tests.web.conftest import PINS, Web

A = "/api/v1/productions/dusty-trail/commands"


@pytest.fixture
def token(web: Web) -> Any:
    accounts = web.app.state.coldset.accounts
    return lambda who: {"Authorization": f"Bearer {accounts.create_token(who, 'test')}"}


def _inspect(**kw: Any) -> dict[str, Any]:
    return {"firearm": "colt-1", "chambers": ["empty"] * 6, "barrel_clear": True, **kw}


def _issue(**kw: Any) -> dict[str, Any]:
    return {
        "firearm": "colt-1",
        "to": "alec",
        "scene": "sc-12",
        "confirmations": [
            {"person": "alec", "pin": PINS["alec"]},
            {"person": "dave", "pin": PINS["dave"]},
        ],
        **kw,
    }


def test_handoff_through_the_api(web: Web, token: Any) -> None:
    """unlock, inspect, issue: each 200 with its ledger index; the board shows alec."""
    h = token("hana")
    for path, body in (
        ("unlock_container", {"container": "safe-main"}),
        ("inspect", _inspect()),
        ("issue", _issue()),
    ):
        r = web.client.post(f"{A}/{path}", json=body, headers=h)
        assert r.status_code == 200, r.json()
        assert r.json()["status"] == "allowed" and isinstance(r.json()["index"], int)
    board = web.client.get("/api/v1/productions/dusty-trail/board", headers=h).json()
    colt = next(f for f in board["firearms"] if f["id"] == "colt-1")
    assert colt["custody_ref"] == "alec"


def test_refusal_is_409_with_every_verdict(web: Web, token: Any) -> None:
    """A live lot is refused: 409, verdicts with rule id, reason and source."""
    r = web.client.post(
        f"{A}/receive_lot",
        headers=token("hana"),
        json={
            "lot": "live-1",
            "kind": "live",
            "caliber": ".45 Colt",
            "maker": "X",
            "count": 10,
            "receipt_date": "2025-03-01",
            "receipt_source": "someone",
            "container": "safe-main",
        },
    )
    assert r.status_code == 409
    body = r.json()
    assert body["outcome"] == "refused" and body["status"] == 409
    v = next(v for v in body["verdicts"] if v["rule"] == "no-live-ammo")
    assert v["reason"] and v["source"] and v["verdict"] == "block"


def test_malformed_is_422_naming_each_field(web: Web, token: Any) -> None:
    """Missing and wrong-typed fields: 422 with one entry per field; nothing written."""
    before = web.size()
    r = web.client.post(
        f"{A}/inspect", headers=token("hana"), json={"firearm": "colt 1", "barrel_clear": "maybe"}
    )
    assert r.status_code == 422
    fields = {e["field"] for e in r.json()["field_errors"]}
    assert {"firearm", "barrel_clear"} <= fields
    assert web.size() == before


@pytest.mark.parametrize("body", [b"not json", b"[1, 2]", b""])
def test_body_that_is_not_an_object_is_422(web: Web, token: Any, body: bytes) -> None:
    """A body that is not a JSON object: 422 saying so."""
    r = web.client.post(
        f"{A}/collect", headers={**token("hana"), "Content-Type": "application/json"}, content=body
    )
    assert r.status_code == 422 and r.json()["field_errors"][0]["field"] == "body"


def test_actor_and_production_come_from_the_token_and_url(web: Web, token: Any) -> None:
    """A body naming actor or production is refused (422): nobody acts as someone else."""
    r = web.client.post(
        f"{A}/collect", headers=token("hana"), json={"firearm": "colt-1", "actor": "alec"}
    )
    assert r.status_code == 422 and "actor" in r.text


def test_unknown_id_is_422_and_changes_nothing(web: Web, token: Any) -> None:
    """An id that does not exist: 422 (unknown-id); the log does not grow."""
    before = web.size()
    r = web.client.post(f"{A}/collect", headers=token("hana"), json={"firearm": "ghost-1"})
    assert r.status_code == 422 and r.json()["error_kind"] == "unknown-id"
    assert web.size() == before


def test_no_token_is_401(web: Web) -> None:
    """No or a bad token: 401 with WWW-Authenticate."""
    for headers in ({}, {"Authorization": "Bearer nope"}, {"Authorization": "Basic x"}):
        r = web.client.post(f"{A}/collect", json={"firearm": "colt-1"}, headers=headers)
        assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"


def test_revoked_token_is_401(web: Web) -> None:
    """A revoked token stops working."""
    accounts = web.app.state.coldset.accounts
    tok = accounts.create_token("hana", "t")
    assert accounts.revoke_token(tok)
    r = web.client.get("/api/v1/productions", headers={"Authorization": f"Bearer {tok}"})
    assert r.status_code == 401


def test_wrong_role_is_403(web: Web, token: Any) -> None:
    """A performer cannot receive firearms: 403 wrong-role."""
    r = web.client.post(
        f"{A}/add_unit", headers=token("alec"), json={"unit": "third", "name": "Third unit"}
    )
    assert r.status_code == 403 and r.json()["error_kind"] == "wrong-role"


def test_account_not_on_production_is_403(web: Web) -> None:
    """A valid token whose account is not on the production: 403."""
    accounts = web.app.state.coldset.accounts
    accounts.create("outsider", "Out Sider", "long-enough-pw")
    tok = accounts.create_token("outsider", "t")
    r = web.client.post(
        f"{A}/collect", json={"firearm": "colt-1"}, headers={"Authorization": f"Bearer {tok}"}
    )
    assert r.status_code == 403


def test_idempotency_key_replay_writes_once(web: Web, token: Any) -> None:
    """The same command with the same key twice: one entry; the second says replayed."""
    h = {**token("hana"), "Idempotency-Key": "unlock-1"}
    r1 = web.client.post(f"{A}/unlock_container", json={"container": "safe-main"}, headers=h)
    size = web.size()
    r2 = web.client.post(f"{A}/unlock_container", json={"container": "safe-main"}, headers=h)
    assert r1.status_code == r2.status_code == 200
    assert r2.json()["replayed"] is True and r2.json()["index"] == r1.json()["index"]
    assert web.size() == size


def test_issue_retry_cannot_issue_twice(web: Web, token: Any) -> None:
    """A dropped-connection retry of an issue with its key returns the first result."""
    h = token("hana")
    web.client.post(f"{A}/unlock_container", json={"container": "safe-main"}, headers=h)
    web.client.post(f"{A}/inspect", json=_inspect(), headers=h)
    body = _issue(idempotency_key="issue-colt-1")
    r1 = web.client.post(f"{A}/issue", json=body, headers=h)
    r2 = web.client.post(f"{A}/issue", json=body, headers=h)
    assert r1.json()["status"] == "allowed" and r2.json()["replayed"] is True
    assert r2.json()["index"] == r1.json()["index"]


def test_key_reused_for_another_command_is_409(web: Web, token: Any) -> None:
    """A key already used for a different command: 409, nothing written."""
    h = {**token("hana"), "Idempotency-Key": "same"}
    web.client.post(f"{A}/unlock_container", json={"container": "safe-main"}, headers=h)
    size = web.size()
    r = web.client.post(f"{A}/unlock_container", json={"container": "cart-main"}, headers=h)
    assert r.status_code == 409 and web.size() == size


def test_header_and_body_keys_must_agree(web: Web, token: Any) -> None:
    """Idempotency-Key header and idempotency_key field that differ: 422."""
    r = web.client.post(
        f"{A}/unlock_container",
        headers={**token("hana"), "Idempotency-Key": "a"},
        json={"container": "safe-main", "idempotency_key": "b"},
    )
    assert r.status_code == 422


def test_openapi_lists_every_command_with_its_body(web: Web) -> None:
    """The OpenAPI document has one POST per command type, each with a body schema that
    exists in components and leaves out type, production and actor."""
    doc = web.client.get("/api/openapi.json").json()
    assert doc["openapi"].startswith("3.")
    schemas = doc["components"]["schemas"]
    for type_ in COMMAND_TYPES:
        op = doc["paths"][f"/api/v1/productions/{{production}}/commands/{type_}"]["post"]
        ref = op["requestBody"]["content"]["application/json"]["schema"]["$ref"]
        name = ref.rsplit("/", 1)[1]
        assert name in schemas, name
        assert not {"type", "production", "actor"} & set(schemas[name]["properties"])
        assert {"200", "401", "403", "409", "422"} <= set(op["responses"])
    _check_refs(doc, doc)


def _check_refs(doc: Any, node: Any) -> None:
    """Every $ref in the document points at something that exists."""
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str):
            assert ref.startswith("#/components/schemas/"), ref
            assert ref.rsplit("/", 1)[1] in doc["components"]["schemas"], ref
        for v in node.values():
            _check_refs(doc, v)
    elif isinstance(node, list):
        for v in node:
            _check_refs(doc, v)


def test_timeline_and_productions_reads(web: Web, token: Any) -> None:
    """Reads: the token's productions; a firearm's timeline; an unknown firearm is 404."""
    h = token("hana")
    assert web.client.get("/api/v1/productions", headers=h).json()["productions"] == [
        {"production": "dusty-trail", "person": "hana"}
    ]
    r = web.client.get("/api/v1/productions/dusty-trail/firearms/colt-1/timeline", headers=h)
    assert r.status_code == 200 and r.json()["entries"]
    r = web.client.get("/api/v1/productions/dusty-trail/firearms/nope/timeline", headers=h)
    assert r.status_code == 404


def test_site_admin_creates_a_production_and_acts_on_it(web: Web, token: Any) -> None:
    """create_production: a site admin's login becomes the first person (admin) and the
    account is linked; anyone else gets 403."""
    body = {"title": "Second show", "actor_name": "Maria Ortega", "pin": "4321"}
    url = "/api/v1/productions/second-show/commands/create_production"
    assert web.client.post(url, json=body, headers=token("hana")).status_code == 403
    r = web.client.post(url, json=body, headers=token("maria"))
    assert r.status_code == 200, r.json()
    r = web.client.post(
        "/api/v1/productions/second-show/commands/add_unit",
        json={"unit": "main", "name": "Main"},
        headers=token("maria"),
    )
    assert r.status_code == 200, r.json()


def test_health_needs_no_login_and_counts_what_the_writer_did(web: Web, token: Any) -> None:
    before = web.client.get("/api/v1/health")
    assert before.status_code == 200
    body = before.json()
    assert body["ok"] is True and body["writer"] == "process" and body["running"] is True
    web.client.post(f"{A}/unlock_container", json={"container": "safe-main"}, headers=token("hana"))
    after = web.client.get("/api/v1/health").json()
    assert after["commands"] == body["commands"] + 1 and after["waiting"] == 0
