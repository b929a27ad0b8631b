"""The server raises time-based alerts by itself, on a timer, and they reach the board."""

from __future__ import annotations

import time
from pathlib import Path

from fastapi.testclient import TestClient

from coldset.clock import FixedClock
from coldset.domain.sample import PRODUCTION
from coldset.web import create_app

from .conftest import START, make_install, seed


def test_an_overdue_concern_alerts_without_anyone_asking(tmp_path: Path) -> None:
    """concern-answered: the alert is raised with the concern; resolved without an answer,
    past the limit the app's timer records it again on its own."""
    install = make_install(tmp_path / "home")
    clock = FixedClock(START)
    seed(install, clock)
    app = create_app(install, demo=True, clock=clock, alert_interval=0.05)
    custody = app.state.coldset.custody
    with TestClient(app):
        r = custody.execute(
            {
                "type": "raise_concern",
                "production": PRODUCTION,
                "actor": "anonymous",
                "text": "the ammo box was open at lunch",
            }
        )
        assert r.ok
        (first,) = custody.state(PRODUCTION).open_alerts()  # at once, to the safety contact
        r = custody.execute(
            {
                "type": "resolve_alert",
                "production": PRODUCTION,
                "actor": "lee",
                "alert": first.id,
                "resolution": "seen, looking into it",
            }
        )
        assert r.ok
        time.sleep(0.3)
        assert not custody.state(PRODUCTION).open_alerts()  # not due yet: nothing recorded
        clock.advance(hours=5)
        deadline = time.monotonic() + 5
        while not custody.state(PRODUCTION).open_alerts() and time.monotonic() < deadline:
            time.sleep(0.05)
        (alert,) = custody.state(PRODUCTION).open_alerts()
        assert alert.rule == "concern-answered"
        assert custody.board(PRODUCTION)["alerts"]
    install.close()


def test_no_timer_unless_asked(tmp_path: Path) -> None:
    """create_app runs no timer by default (tests and embedding control their own clock)."""
    install = make_install(tmp_path / "home")
    clock = FixedClock(START)
    seed(install, clock)
    app = create_app(install, demo=True, clock=clock)
    with TestClient(app):
        custody = app.state.coldset.custody
        custody.execute(
            {"type": "raise_concern", "production": PRODUCTION, "actor": "anonymous", "text": "x"}
        )
        size = custody.state(PRODUCTION).size
        clock.advance(hours=5)
        time.sleep(0.2)
        assert custody.state(PRODUCTION).size == size
    install.close()
