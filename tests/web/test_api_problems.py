"""Every API answer that is not a 2xx is an RFC 9457 problem (``application/problem+json``)
with the kind, a plain detail and, for a command, its result; no body, however hostile,
gets a 500; the Idempotency-Key header is what the OpenAPI document says."""

from __future__ import annotations

from typing import Any

import pytest

from coldset.api.body import MAX_DEPTH
from tests.web.conftest import PINS, Web

A = "/api/v1/productions/dusty-trail/commands"
PROBLEM = "application/problem+json"
RESULT_MEMBERS = {
    "outcome",
    "production",
    "command",
    "at",
    "index",
    "events",
    "verdicts",
    "field_errors",
    "replayed",
}


@pytest.fixture
def token(web: Web) -> Any:
    accounts = web.app.state.coldset.accounts
    return lambda who: {"Authorization": f"Bearer {accounts.create_token(who, 'test')}"}


def _problem(r: Any, status: int, kind: str) -> dict[str, Any]:
    """The answer is a problem of this status and kind, with every RFC 9457 member."""
    assert r.status_code == status, r.text
    assert r.headers["content-type"].split(";")[0] == PROBLEM, r.headers
    body: dict[str, Any] = r.json()
    assert body["type"] == f"urn:coldset:problem:{kind}"
    assert body["status"] == status and body["error_kind"] == kind
    assert isinstance(body["title"], str) and body["title"]
    assert isinstance(body["detail"], str) and body["detail"]
    return body


def _post(web: Web, h: dict[str, str], path: str, content: bytes) -> Any:
    return web.client.post(
        f"{A}/{path}", content=content, headers={**h, "Content-Type": "application/json"}
    )


HOSTILE = {
    "not JSON": b"not json",
    "not an object": b"[1, 2]",
    "a string": b'"collect"',
    "empty": b"",
    "nested 1,000 deep (arrays)": b'{"firearm": ' + b"[" * 1000 + b"]" * 1000 + b"}",
    "nested 1,000 deep (objects)": b'{"firearm": ' + b'{"a":' * 1000 + b"1" + b"}" * 1001,
    "nested 100,000 deep, unclosed": b"[" * 100_000,
    "one level too deep": b'{"firearm": ' + b"[" * MAX_DEPTH + b"]" * MAX_DEPTH + b"}",
    "not UTF-8": b'{"firearm": "colt-\xff"}',
    "UTF-16": '{"firearm": "colt-1"}'.encode("utf-16"),
    "NaN": b'{"firearm": "colt-1", "count": NaN}',
    "Infinity": b'{"firearm": "colt-1", "count": -Infinity}',
    "1e999": b'{"firearm": "colt-1", "count": 1e999}',
    "a 5,000-digit number": b'{"firearm": "colt-1", "count": ' + b"9" * 5000 + b"}",
    "a duplicate key": b'{"firearm": "colt-1", "firearm": "colt-2"}',
    "a lone surrogate": b'{"firearm": "colt-\\ud800"}',
    "a lone surrogate as a key": b'{"\\udfff": 1}',
}


@pytest.mark.parametrize("name", list(HOSTILE))
def test_a_hostile_body_is_a_422_problem_and_writes_nothing(
    web: Web, token: Any, name: str
) -> None:
    """Each body is a 422 malformed problem naming the body, never a 500; the log does
    not grow; the same token still records a command afterwards."""
    h = token("hana")
    before = web.size()
    body = _problem(_post(web, h, "collect", HOSTILE[name]), 422, "malformed")
    assert [e["field"] for e in body["field_errors"]] == ["body"], body
    assert body["field_errors"][0]["message"] in body["detail"]
    assert web.size() == before
    r = web.client.post(f"{A}/unlock_container", json={"container": "safe-main"}, headers=h)
    assert r.status_code == 200, r.text


def test_nesting_within_the_limit_reaches_the_command_checks(web: Web, token: Any) -> None:
    """Nesting up to the limit is read as JSON: the command's own check answers (the
    field is not a tag), not the body reader."""
    deep = b'{"firearm": ' + b"[" * (MAX_DEPTH - 1) + b"]" * (MAX_DEPTH - 1) + b"}"
    body = _problem(_post(web, token("hana"), "collect", deep), 422, "malformed")
    assert [e["field"] for e in body["field_errors"]] == ["firearm"], body


def test_brackets_inside_strings_do_not_count_as_nesting(web: Web, token: Any) -> None:
    """A concern full of brackets (and escaped quotes) is text, not nesting: recorded."""
    text = '[{ "\\" ' * 40
    r = web.client.post(f"{A}/raise_concern", headers=token("hana"), json={"text": text})
    assert r.status_code == 200, r.text


def test_missing_and_wrong_fields_are_a_problem_with_one_entry_each(web: Web, token: Any) -> None:
    """A missing field and a wrong type: 422 problem, rejected, one field_errors entry
    per field, every member of the command's result, nothing written."""
    before = web.size()
    r = web.client.post(
        f"{A}/inspect", headers=token("hana"), json={"chambers": "six", "barrel_clear": "maybe"}
    )
    body = _problem(r, 422, "malformed")
    assert set(body) >= RESULT_MEMBERS
    assert body["outcome"] == "rejected" and body["command"] == "inspect"
    assert body["index"] is None and body["replayed"] is False
    assert {"firearm", "barrel_clear", "chambers"} <= {e["field"] for e in body["field_errors"]}
    assert web.size() == before


def test_a_refusal_is_a_409_problem_with_its_verdicts_and_log_index(web: Web, token: Any) -> None:
    """A live lot is refused: 409 problem, outcome refused, every verdict (rule, reason,
    source), and the index of the refusal the log recorded."""
    before = web.size()
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
    body = _problem(r, 409, "refused")
    assert set(body) >= RESULT_MEMBERS
    assert body["outcome"] == "refused" and body["command"] == "receive_lot"
    v = next(v for v in body["verdicts"] if v["rule"] == "no-live-ammo")
    assert v["reason"] and v["source"] and v["verdict"] == "block"
    assert "no-live-ammo" in body["detail"]
    assert web.size() == before + 1 and body["index"] == before


def test_wrong_role_unknown_id_and_credential_are_problems(web: Web, token: Any) -> None:
    """403 wrong-role, 422 unknown-id and 403 credential carry the command's result."""
    body = _problem(
        web.client.post(
            f"{A}/add_unit", headers=token("alec"), json={"unit": "third", "name": "Third unit"}
        ),
        403,
        "wrong-role",
    )
    assert body["outcome"] == "rejected" and body["command"] == "add_unit"
    body = _problem(
        web.client.post(f"{A}/collect", headers=token("hana"), json={"firearm": "ghost-1"}),
        422,
        "unknown-id",
    )
    assert body["outcome"] == "rejected" and body["index"] is None
    h = token("hana")
    web.client.post(f"{A}/unlock_container", json={"container": "safe-main"}, headers=h)
    web.client.post(
        f"{A}/inspect",
        headers=h,
        json={"firearm": "colt-1", "chambers": ["empty"] * 6, "barrel_clear": True},
    )
    body = _problem(
        web.client.post(
            f"{A}/issue",
            headers=h,
            json={
                "firearm": "colt-1",
                "to": "alec",
                "scene": "sc-12",
                "confirmations": [
                    {"person": "alec", "pin": "0000"},
                    {"person": "dave", "pin": PINS["dave"]},
                ],
            },
        ),
        403,
        "credential",
    )
    assert body["outcome"] == "rejected"


def test_401_403_404_and_405_are_problems(web: Web, token: Any) -> None:
    """No token (with WWW-Authenticate), a token not on the production, an unknown
    firearm, an unknown path and a wrong method: each a problem with its kind."""
    r = web.client.post(f"{A}/collect", json={"firearm": "colt-1"})
    _problem(r, 401, "unauthenticated")
    assert r.headers["www-authenticate"] == "Bearer"
    _problem(
        web.client.get("/api/v1/productions", headers={"Authorization": "Bearer x"}),
        401,
        "unauthenticated",
    )
    accounts = web.app.state.coldset.accounts
    accounts.create("outsider", "Out Sider", "long-enough-pw")
    out = {"Authorization": f"Bearer {accounts.create_token('outsider', 't')}"}
    _problem(
        web.client.post(f"{A}/collect", json={"firearm": "colt-1"}, headers=out), 403, "forbidden"
    )
    _problem(web.client.get("/api/v1/productions/dusty-trail/board", headers=out), 403, "forbidden")
    _problem(
        web.client.post(
            "/api/v1/productions/x/commands/create_production", json={}, headers=token("hana")
        ),
        403,
        "forbidden",
    )
    h = token("hana")
    _problem(
        web.client.get("/api/v1/productions/dusty-trail/firearms/nope/timeline", headers=h),
        404,
        "not-found",
    )
    _problem(web.client.post(f"{A}/no_such_command", json={}, headers=h), 404, "not-found")
    r = web.client.get(f"{A}/collect", headers=h)
    _problem(r, 405, "method-not-allowed")
    assert "POST" in r.headers["allow"]


def test_pages_keep_their_html_error_pages(web: Web) -> None:
    """A page that is not there is still an HTML page, not a problem."""
    r = web.client.get("/p/dusty-trail/no-such-page")
    assert r.status_code == 404 and r.headers["content-type"].startswith("text/html")


def test_an_empty_idempotency_key_is_a_422_that_names_the_header(web: Web, token: Any) -> None:
    """An empty Idempotency-Key (the document says minLength 1) and one of 129
    characters: 422 naming the header; nothing written. 128 characters are taken."""
    h = token("hana")
    before = web.size()
    for key in ("", "k" * 129):
        r = web.client.post(
            f"{A}/unlock_container",
            json={"container": "safe-main"},
            headers={**h, "Idempotency-Key": key},
        )
        body = _problem(r, 422, "malformed")
        assert [e["field"] for e in body["field_errors"]] == ["Idempotency-Key"], body
    assert web.size() == before
    r = web.client.post(
        f"{A}/unlock_container",
        json={"container": "safe-main"},
        headers={**h, "Idempotency-Key": "k" * 128},
    )
    assert r.status_code == 200, r.text
    doc = web.client.get("/api/openapi.json").json()
    op = doc["paths"]["/api/v1/productions/{production}/commands/unlock_container"]["post"]
    header = next(p for p in op["parameters"] if p["name"] == "Idempotency-Key")
    assert header["schema"] == {"type": "string", "minLength": 1, "maxLength": 128}


def test_the_document_lists_every_status_with_its_media_type(web: Web) -> None:
    """Every API operation documents each status it answers; every error status is a
    ProblemOut in application/problem+json; health documents its 503."""
    doc = web.client.get("/api/openapi.json").json()
    assert "ProblemOut" in doc["components"]["schemas"]
    assert "HTTPValidationError" not in doc["components"]["schemas"]
    expect = {
        "/commands/": {"200", "401", "403", "409", "413", "422", "503"},
        "/handoffs": {"200", "401", "403", "409", "413", "422", "503"},
        "/board": {"200", "401", "403", "404"},
        "/timeline": {"200", "401", "403", "404"},
        "/health": {"200", "503"},
        "/reports/bound-book": {"200", "401", "403", "404"},
        "/reports/": {"200", "401", "403", "404", "422"},
        "/productions": {"200", "401"},
    }
    for path, ops in doc["paths"].items():
        for op in ops.values():
            want = next(v for k, v in expect.items() if k in path or path.endswith(k))
            assert set(op["responses"]) == want, (path, sorted(op["responses"]))
            for status, resp in op["responses"].items():
                if status == "200" and "/reports/" in path:  # a PDF, or a table as CSV
                    assert set(resp["content"]) <= {"application/pdf", "text/csv"}, path
                elif status == "200":
                    assert list(resp["content"]) == ["application/json"], (path, status)
                else:
                    assert resp["content"] == {
                        PROBLEM: {"schema": {"$ref": "#/components/schemas/ProblemOut"}}
                    }, (path, status)


def test_pages_read_hostile_json_without_a_500(web: Web) -> None:
    """The pages read JSON too: an override form whose command is nested 1,000 deep is
    the page's 422 ("Nothing to override"), and a made-up 1,000-deep form cookie is
    ignored; neither is a 500 and nothing is written."""
    csrf = web.login("hana")
    before = web.size()
    r = web.post(
        "/p/dusty-trail/override",
        {"command": "[" * 1000 + "]" * 1000, "override_reason": "x"},
        csrf,
    )
    assert r.status_code == 422 and "Nothing to override" in r.text
    r = web.post(
        "/p/dusty-trail/override",
        {
            "command": '{"production": "dusty-trail", "x": ' + "[" * 1000 + "]" * 1000 + "}",
            "override_reason": "x",
        },
        csrf,
    )
    assert r.status_code == 422 and "Nothing to override" in r.text
    web.client.cookies.set("coldset_again", "%5B" * 1500)
    r = web.client.get("/p/dusty-trail/board")
    assert r.status_code == 200
    assert web.size() == before


def test_problem_builds_any_status_the_middleware_needs() -> None:
    """``problem(413, "too-large", ...)`` (what a body-size limit answers): the media type,
    every member, extra members and headers kept."""
    import json

    from coldset.api.errors import problem

    r = problem(
        413,
        "too-large",
        "This route takes bodies up to 64 KB.",
        headers={"Connection": "close"},
        limit=65536,
    )
    assert r.status_code == 413 and r.media_type == PROBLEM
    assert r.headers["connection"] == "close"
    assert json.loads(r.body) == {
        "type": "urn:coldset:problem:too-large",
        "title": "Body too large",
        "status": 413,
        "detail": "This route takes bodies up to 64 KB.",
        "error_kind": "too-large",
        "limit": 65536,
    }
    assert problem(401, "unauthenticated", "x").headers["www-authenticate"] == "Bearer"
