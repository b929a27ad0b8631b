"""The board's live updates (server-sent events) against a real uvicorn server on
127.0.0.1, with the writer in its own process as ``coldset serve`` runs it: a recorded
command reaches an open stream at once, a quiet stream pings, entries another process
appended are caught, streams are limited, a logged-out stream is refused, and the
server stops within a few seconds while streams are open."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
import uvicorn

from coldset.clock import SystemClock
from coldset.domain.sample import PRODUCTION
from coldset.install import Install
from coldset.service.accounts import AccountService
from coldset.service.core import CustodyService
from coldset.service.demo import setup_demo
from coldset.web import create_app, live
from coldset.web.live import Server
from tests.web.conftest import PASSWORDS, PINS, make_install

P = f"/p/{PRODUCTION}"
EVENTS = f"{P}/board/events"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Running:
    base: str
    app: Any
    server: Server
    thread: threading.Thread
    install: Install


@pytest.fixture
def running(tmp_path: Path) -> Iterator[Running]:
    install = make_install(tmp_path / "home")
    clock = SystemClock()
    day = datetime.now(ZoneInfo("America/Denver")).date()
    setup_demo(
        CustodyService(install.store, install.ledger, clock, pins=install.pins),
        AccountService(install.store, clock),
        day,
        pins=PINS,
        passwords=PASSWORDS,
    )
    app = create_app(install, demo=True)
    port = _free_port()
    srv = Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    t = threading.Thread(target=srv.run, daemon=True)
    t.start()
    deadline = time.time() + 20
    while not srv.started and time.time() < deadline:
        time.sleep(0.05)
    assert srv.started, "uvicorn did not start"
    yield Running(f"http://127.0.0.1:{port}", app, srv, t, install)
    srv.should_exit = True
    t.join(timeout=10)
    install.close()


def login(base: str, who: str = "hana") -> httpx.Client:
    c = httpx.Client(base_url=base, timeout=10, follow_redirects=True)
    r = c.get("/login")
    csrf = re.search(r'name="csrf" value="([^"]+)"', r.text).group(1)  # type: ignore[union-attr]
    r = c.post("/login", data={"login": who, "password": PASSWORDS[who], "csrf": csrf, "next": "/"})
    assert r.status_code == 200
    return c


class Stream:
    """One open event stream, read on a thread: (event, data) pairs as they come."""

    def __init__(self, client: httpx.Client, path: str = EVENTS) -> None:
        self.events: list[tuple[str, dict[str, Any]]] = []
        self.status: int | None = None
        self._response: httpx.Response | None = None
        self.ended = threading.Event()
        self._cm = client.stream("GET", path, timeout=httpx.Timeout(10, read=None))
        self._t = threading.Thread(target=self._read, daemon=True)
        self._t.start()

    def _read(self) -> None:
        try:
            with self._cm as r:
                self.status, self._response = r.status_code, r
                name = "message"
                for line in r.iter_lines():
                    if line.startswith("event: "):
                        name = line[7:]
                    elif line.startswith("data: "):
                        self.events.append((name, json.loads(line[6:])))
                        name = "message"
        except (httpx.HTTPError, OSError):
            pass
        finally:
            self.ended.set()

    def close(self) -> None:
        """What a tablet does when its page goes away: the connection closes."""
        if self._response is not None:
            self._response.close()
        self.ended.wait(5)

    def wait_for(self, n: int, timeout: float) -> list[tuple[str, dict[str, Any]]]:
        deadline = time.monotonic() + timeout
        while len(self.events) < n and time.monotonic() < deadline:
            time.sleep(0.02)
        assert len(self.events) >= n, f"only {self.events} after {timeout} s"
        return self.events


def board_csrf(c: httpx.Client) -> str:
    page = c.get(f"{P}/board").text
    return re.search(r'name="csrf" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]


def test_a_recorded_command_reaches_an_open_stream_at_once(running: Running) -> None:
    """The stream starts with the log size; a command recorded through the writer
    process sends a `board` event with the new size within a second (no polling: the
    writer's answer is the signal)."""
    c = login(running.base)
    s = Stream(c)
    ((name, data),) = s.wait_for(1, 5)
    assert s.status == 200 and name == "board"
    first = data["version"]
    t0 = time.monotonic()
    r = c.post(
        f"{P}/do/unlock_container",
        data={"container": "safe-main", "csrf": board_csrf(c), "next": f"{P}/board"},
    )
    assert r.status_code == 200
    name, data = s.wait_for(2, 3)[1]
    assert name == "board" and data["version"] > first
    assert time.monotonic() - t0 < 2.0
    c.close()


def test_a_quiet_stream_pings_and_catches_entries_another_process_wrote(
    running: Running, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Nothing happens: the stream sends a `ping` with the unchanged size. An entry
    appended by another process (the CLI on the same install, not this server's writer)
    reaches the stream at the next heartbeat as a `board` event."""
    monkeypatch.setattr(live, "HEARTBEAT", 0.3)
    c = login(running.base)
    s = Stream(c)
    first = s.wait_for(2, 5)
    assert first[0][0] == "board" and first[1] == ("ping", first[0][1])
    other = CustodyService(
        running.install.store, running.install.ledger, SystemClock(), pins=running.install.pins
    )
    assert other.execute(
        {
            "type": "unlock_container",
            "production": PRODUCTION,
            "actor": "hana",
            "container": "safe-main",
        }
    ).ok
    deadline = time.monotonic() + 5
    while (
        not any(n == "board" and d["version"] > first[0][1]["version"] for n, d in s.events)
        and time.monotonic() < deadline
    ):
        time.sleep(0.05)
    assert any(n == "board" and d["version"] > first[0][1]["version"] for n, d in s.events)
    c.close()


def test_streams_are_limited_per_login_and_need_a_login(running: Running) -> None:
    """Logged out, the stream is not served (the login page instead); a login may keep
    a few streams open, one more is answered 503 with Retry-After, and a closed
    stream's place is free again."""
    anon = httpx.Client(base_url=running.base, timeout=5)
    r = anon.get(EVENTS)
    assert r.status_code in (303, 401) and "text/event-stream" not in r.headers.get(
        "content-type", ""
    )
    hub = running.app.state.coldset.board_events
    hub.max_per_login = 2
    c = login(running.base)
    a, b = Stream(c), Stream(c)
    a.wait_for(1, 5)
    b.wait_for(1, 5)
    other = login(running.base)
    r = other.get(EVENTS)
    assert r.status_code == 503 and r.headers["retry-after"] == "30"
    assert "too many screens" in r.json()["error"]
    assert hub.open == 2
    other.close()
    a.close()  # both tablets go away: their places are free
    b.close()
    deadline = time.monotonic() + 5
    while hub.open and time.monotonic() < deadline:
        time.sleep(0.05)
    assert hub.open == 0
    again = login(running.base)
    s = Stream(again)
    assert s.wait_for(1, 5)[0][0] == "board"
    again.close()


def test_the_server_stops_within_seconds_with_open_streams(running: Running) -> None:
    """Three tablets follow the board; stopping the server ends their streams and the
    server is down within 3 s (uvicorn alone would wait for the streams forever)."""
    clients = [login(running.base, who) for who in ("hana", "dave", "jensen")]
    streams = [Stream(c) for c in clients]
    for s in streams:
        s.wait_for(1, 5)
    t0 = time.monotonic()
    running.server.should_exit = True
    running.thread.join(timeout=8)
    assert not running.thread.is_alive(), "the server did not stop"
    assert time.monotonic() - t0 < 3.0
    assert all(s.ended.wait(2) for s in streams)
    for c in clients:
        c.close()


def _children(pid: int) -> list[int]:
    kids = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        kids += [int(k) for k in (task / "children").read_text().split()]
    return kids


def test_coldset_serve_stops_on_ctrl_c_with_open_streams() -> None:
    """`coldset serve` as users run it, two tablets following the board: Ctrl-C stops
    it within a few seconds, exit status 0."""
    port = _free_port()
    exe = Path(sys.executable).with_name("coldset")
    proc = subprocess.Popen(
        [str(exe), "serve", "--demo", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    clients: list[httpx.Client] = []
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                httpx.get(f"{base}/login", timeout=1)
                break
            except httpx.TransportError:
                assert proc.poll() is None, proc.stdout.read()  # type: ignore[union-attr]
                time.sleep(0.1)
        for who in ("hana", "dave"):
            c = httpx.Client(base_url=base, timeout=10, follow_redirects=True)
            r = c.get("/login")
            csrf = re.search(r'name="csrf" value="([^"]+)"', r.text).group(1)  # type: ignore[union-attr]
            c.post(
                "/login", data={"login": who, "password": f"demo-{who}", "csrf": csrf, "next": "/"}
            )
            clients.append(c)
        streams = [Stream(c) for c in clients]
        for s in streams:
            assert s.wait_for(1, 10)[0][0] == "board"
        t0 = time.monotonic()
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=15) == 0, proc.stdout.read()  # type: ignore[union-attr]
        assert time.monotonic() - t0 < 4.0
        assert all(s.ended.wait(2) for s in streams)
    finally:
        for c in clients:
            c.close()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
