"""The anonymous concern form is rate-limited per client address and per production,
without losing a real concern: a held-back sender is told in words when to send again
(429 with Retry-After) and keeps their text; the Safety page says that limiting happened."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from coldset.clock import FixedClock
from coldset.web import create_app
from coldset.web.ratelimit import ConcernLimiter, ConcernLimits
from tests.web.conftest import START, P, Web, csrf_of, text_of

CONCERN = "/c/dusty-trail"


def client_at(web: Web, address: str) -> TestClient:
    """A browser on another client address (its own cookies), against the same app."""
    return TestClient(web.app, client=(address, 40000))


def send(c: TestClient, text: str = "Blanks box left open on the cart") -> Any:
    token = csrf_of(c.get(CONCERN).text)
    return c.post(CONCERN, data={"text": text, "csrf": token})


@pytest.fixture
def crowd(web: Web) -> Iterator[dict[str, TestClient]]:
    clients: dict[str, TestClient] = {}

    def at(address: str) -> TestClient:
        if address not in clients:
            clients[address] = client_at(web, address)
        return clients[address]

    yield at  # type: ignore[misc]
    for c in clients.values():
        c.close()


def test_a_flood_from_one_address_is_held_back_and_told_when(web: Web, crowd: Any) -> None:
    """Five concerns a minute from one address go through; the sixth gets 429 with
    Retry-After, a page that says in plain words how many seconds to wait, and the text
    still in the form; nothing is written for it. After that wait it goes through."""
    c = crowd("10.1.1.1")
    before = web.size()
    for i in range(5):
        assert send(c, f"concern {i}").status_code == 200
    r = send(c, "The cart was left open again")
    assert r.status_code == 429
    wait = int(r.headers["retry-after"])
    assert 1 <= wait <= 60
    words = text_of(r.text)
    assert f"try again in {wait} seconds" in words
    assert "Your concern was not sent yet" in words
    assert re.search(r'<textarea name="text"[^>]*>The cart was left open again</textarea>', r.text)
    assert web.size() == before + 5
    web.clock.advance(seconds=wait)
    # the page it got is a working form: sending it as it is goes through
    r2 = c.post(CONCERN, data={"text": "The cart was left open again", "csrf": csrf_of(r.text)})
    assert r2.status_code == 200 and web.size() == before + 6


def test_several_people_on_one_set_wifi_each_send_one(web: Web, crowd: Any) -> None:
    """Five people behind one shared address (the set's Wi-Fi), each on their own phone:
    every one of their concerns is recorded."""
    before = web.size()
    for i in range(5):
        phone = client_at(web, "192.168.7.1")  # no lifespan: the app runs already
        assert send(phone, f"person {i} worried").status_code == 200
        phone.close()
    assert web.size() == before + 5


def test_the_production_limit_holds_across_addresses(web: Web, crowd: Any) -> None:
    """Thirty a minute reach one production from all addresses together; more wait, with
    a page that says the production is receiving many concerns right now."""
    before = web.size()
    codes = [send(crowd(f"10.2.0.{i // 5}"), f"concern {i}").status_code for i in range(34)]
    assert codes.count(200) == 30 and codes[30:] == [429] * 4
    r = send(crowd("10.2.9.9"))
    assert r.status_code == 429
    assert "many concerns at once" in text_of(r.text)
    assert web.size() == before + 30


def test_the_safety_page_says_how_many_were_held_back(web: Web, crowd: Any) -> None:
    """The safety contact sees on the Safety page how many submissions were held back in
    the last hour and from how many addresses (never which ones); an hour later the
    note is gone."""
    a, b = crowd("10.3.0.1"), crowd("10.3.0.2")
    for _ in range(7):
        send(a)
    for _ in range(6):
        send(b)
    web.login("lee")
    words = text_of(web.client.get(f"{P}/safety").text)
    assert "3 concern submissions were held back in the last hour from 2 addresses" in words
    assert "10.3.0." not in words
    web.clock.advance(minutes=61)
    assert "held back" not in text_of(web.client.get(f"{P}/safety").text)


def test_what_writes_nothing_does_not_count(web: Web, crowd: Any) -> None:
    """An empty concern (422) and a resend of the same form (its idempotency key) write
    no new entry and use up none of the sender's allowance."""
    c = crowd("10.4.0.1")
    token = csrf_of(c.get(CONCERN).text)
    for _ in range(6):
        assert c.post(CONCERN, data={"text": " ", "csrf": token}).status_code == 422
    for _ in range(6):
        r = c.post(CONCERN, data={"text": "once", "csrf": token, "idempotency_key": "k-9"})
        assert r.status_code == 200
    for i in range(4):
        assert send(c, f"more {i}").status_code == 200


def test_members_of_the_production_are_never_held_back(web: Web) -> None:
    """A logged-in member of the production (known to the server even when the concern is
    anonymous) is not limited: a flood from their address does not stop them."""
    web.login("lee")
    before = web.size()
    for i in range(8):
        assert send(web.client, f"member concern {i}").status_code == 200
    assert web.size() == before + 8


def test_the_limits_are_settings(install: Any) -> None:
    """create_app takes the limits; a lower one holds back sooner."""
    from tests.web.conftest import seed

    clock = FixedClock(START)
    seed(install, clock)
    app = create_app(
        install,
        demo=True,
        clock=clock,
        concern_limits=ConcernLimits(per_address=2, per_production=3),
    )
    with TestClient(app, client=("10.5.0.1", 1)) as c:
        assert [send(c).status_code for _ in range(3)] == [200, 200, 429]
        other = TestClient(app, client=("10.5.0.2", 1))
        assert [send(other).status_code for _ in range(2)] == [200, 429]
        other.close()


def test_serve_has_the_limit_options() -> None:
    """`coldset serve` sets the two limits (per minute) on the command line."""
    from coldset.cli.docgen import render  # the CLI's own help, as docs/cli.md

    out = render()
    assert "`--concerns-per-address`" in out and "`--concerns-per-production`" in out


def test_the_buckets_refill_and_forget_idle_addresses() -> None:
    """Token buckets on the injected clock: a drained address gets one concern back every
    12 s (5 a minute); full buckets are dropped, so an address flood uses no memory."""
    clock = FixedClock(START)
    lim = ConcernLimiter(clock, ConcernLimits(per_address=5, per_production=30))
    for _ in range(5):
        assert lim.take("show", "a") is None
    held = lim.take("show", "a")
    assert held is not None and held.seconds == pytest.approx(12.0)
    assert not held.production_wide
    clock.advance(seconds=12)
    assert lim.take("show", "a") is None
    for i in range(20_000):
        lim.take("show", f"x{i}")  # the production bucket is empty: all held back
    assert len(lim._buckets) < 100
    summary = lim.held_back("show")  # 29 of the 20,000 went through
    assert summary.count == 1 + 20_000 - 29
    assert summary.addresses == 1000 and summary.more_addresses
    with pytest.raises(ValueError):
        ConcernLimits(per_address=0)
