"""The writer in a process of its own (what ``coldset serve`` runs): commands decided and
recorded by the child come back as the same results; a PIN is checked there; answers
reach concurrent requests; a writer that dies or cannot start is said plainly (503, a
one-line reason) and never hangs a request; a dead writer is started again and
commands go through after; stop ends the child."""

from __future__ import annotations

import asyncio
import os
import signal
import stat
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient

from coldset.clock import SystemClock
from coldset.domain.sample import PRODUCTION
from coldset.install import Install
from coldset.service.accounts import AccountService
from coldset.service.core import CustodyService
from coldset.service.demo import setup_demo
from coldset.service.result import Result
from coldset.service.writer_process import WriterProcess, WriterStopped
from coldset.web import create_app
from tests.web.conftest import PASSWORDS, PINS, csrf_of, make_install, text_of

A = f"/api/v1/productions/{PRODUCTION}/commands"


def _cmd(type_: str, actor: str = "hana", **fields: object) -> dict[str, object]:
    return {"type": type_, "production": PRODUCTION, "actor": actor, **fields}


def _inspect(firearm: str = "colt-1") -> dict[str, object]:
    return _cmd("inspect", firearm=firearm, chambers=["empty"] * 6, barrel_clear=True)


def _issue(pin: str | None = None) -> dict[str, object]:
    return _cmd(
        "issue",
        firearm="colt-1",
        to="alec",
        scene="sc-12",
        confirmations=[
            {"person": "alec", "pin": pin or PINS["alec"]},
            {"person": "dave", "pin": PINS["dave"]},
        ],
    )


@pytest.fixture
def live(tmp_path: Path) -> Iterator[Install]:
    """A demo install on today's date (the writer process keeps the wall clock)."""
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
    yield install
    install.close()


@pytest.fixture
def writer(live: Install) -> Iterator[WriterProcess]:
    w = WriterProcess(live.settings.home, live.settings.database_url)
    w.start()
    w.wait_ready(timeout=60)
    w.listen()
    yield w
    w.stop()


def test_commands_are_decided_and_recorded_by_the_child(
    live: Install, writer: WriterProcess
) -> None:
    """The child runs in another process; what it records, this process reads."""
    assert writer.pid is not None and writer.pid != os.getpid()
    assert writer.loaded == {
        PRODUCTION: CustodyService(live.store, live.ledger, SystemClock(), pins=live.pins)
        .state(PRODUCTION)
        .size
    }
    r1 = writer.execute(_cmd("unlock_container", container="safe-main"))
    r2 = writer.execute(_inspect())
    r3 = writer.execute(_issue())
    assert [r.status for r in (r1, r2, r3)] == ["allowed"] * 3, (r1, r2, r3)
    assert r3.index == r2.index + 1 == r1.index + 2  # type: ignore[operator]
    here = CustodyService(live.store, live.ledger, SystemClock(), pins=live.pins).state(PRODUCTION)
    assert here.size == r3.index + 1  # type: ignore[operator]
    assert here.firearms["colt-1"].custody.ref == "alec"


def test_refusals_and_rejections_come_back_as_results(writer: WriterProcess) -> None:
    """A rule's refusal (rule ids), a wrong PIN and a malformed command: results, not errors."""
    live_lot = writer.execute(
        _cmd(
            "receive_lot",
            lot="live-1",
            kind="live",
            caliber=".45 Colt",
            maker="X",
            count=10,
            receipt_date="2025-03-01",
            receipt_source="someone",
            container="safe-main",
        )
    )
    assert live_lot.status == "refused" and "no-live-ammo" in live_lot.rules
    writer.execute(_cmd("unlock_container", container="safe-main"))
    writer.execute(_inspect())
    wrong = writer.execute(_issue(pin="0000"))
    assert wrong.status == "rejected" and wrong.error_kind == "credential", wrong
    bad = writer.execute(_cmd("inspect", firearm="colt-1"))
    assert bad.status == "rejected" and bad.error_kind == "malformed"
    assert {f for f, _ in bad.field_errors} == {"barrel_clear"}


def _consent(pin: str) -> dict[str, object]:
    """A command that needs alec's PIN as a confirmation (repeatable)."""
    return _cmd(
        "record_consent",
        performer="alec",
        weapon_type="shotgun",
        confirmations=[{"person": "alec", "pin": pin}],
    )


def test_a_changed_pin_is_never_served_stale_by_the_writer_process(
    live: Install, writer: WriterProcess
) -> None:
    """Through the writer process the server runs (warm-up off the writer, then the
    writer's check): a PIN reset there, or by another process on the same database (the
    CLI), refuses the old PIN on the very next command and accepts the new one."""
    for _ in range(2):  # the second one is a cache hit
        assert writer.execute(_consent(PINS["alec"])).ok
    assert writer.execute(_cmd("reset_pin", person="alec", pin="5555")).ok
    r = writer.execute(_consent(PINS["alec"]))
    assert r.error_kind == "credential", r
    assert writer.execute(_consent("5555")).ok
    assert writer.execute(_consent("5555")).ok
    # another process (here: a service of its own on the same database) changes it
    cli = CustodyService(live.store, live.ledger, SystemClock(), pins=live.pins)
    assert cli.execute(_cmd("set_pin", actor="alec", person="alec", pin="86420")).ok
    r = writer.execute(_consent("5555"))
    assert r.error_kind == "credential", r
    assert writer.execute(_consent("86420")).ok


def test_concurrent_requests_each_get_their_own_answer(writer: WriterProcess) -> None:
    """Forty inspections at once from one event loop: forty answers, forty ledger entries,
    none lost or crossed (each answer names the firearm it inspected)."""
    guns = ["colt-1", "colt-2"]

    async def many() -> list[Result]:
        return await asyncio.gather(*(writer.run(_inspect(guns[i % 2])) for i in range(40)))

    assert writer.execute(_cmd("unlock_container", container="safe-main")).ok
    results = asyncio.run(many())
    assert all(r.ok for r in results), [(r.rules, r.error) for r in results if not r.ok][:2]
    assert len({r.index for r in results}) == 40
    for i, r in enumerate(results):
        assert r.events[0]["firearm"] == guns[i % 2]


def test_answers_read_on_the_event_loop_itself(live: Install) -> None:
    """As the server runs it: the loop reads the answers (no reader thread); concurrent
    requests each get theirs, and a dead writer fails the ones still waiting."""
    w = WriterProcess(live.settings.home, live.settings.database_url)
    w.start()
    w.wait_ready(timeout=60)

    async def go() -> tuple[list[Result], BaseException | None]:
        await w.listen_here()
        assert (await w.run(_cmd("unlock_container", container="safe-main"))).ok
        results = await asyncio.gather(
            *(w.run(_inspect(("colt-1", "colt-2")[i % 2])) for i in range(20))
        )
        os.kill(w.pid, signal.SIGKILL)  # type: ignore[arg-type]
        try:
            for _ in range(50):
                await asyncio.wait_for(w.run(_inspect()), timeout=10)
        except WriterStopped as e:
            return list(results), e
        return list(results), None

    try:
        results, died = asyncio.run(go())
    finally:
        w.stop()
    assert [r.events[0]["firearm"] for r in results] == [
        ("colt-1", "colt-2")[i % 2] for i in range(20)
    ]
    assert isinstance(died, WriterStopped) and "restart" in str(died)


def test_a_writer_that_dies_fails_waiting_and_later_commands(writer: WriterProcess) -> None:
    """SIGKILL the child: the next command fails at once with WriterStopped (never hangs),
    and the message says to restart and resend with the same idempotency key."""
    assert writer.execute(_cmd("unlock_container", container="safe-main")).ok
    os.kill(writer.pid, signal.SIGKILL)  # type: ignore[arg-type]
    with pytest.raises(WriterStopped, match="restart"):
        for _ in range(50):  # the pipe may take a moment to report the death
            writer.submit(_inspect()).result(timeout=10)
    with pytest.raises(WriterStopped, match="same idempotency key"):
        writer.execute(_inspect())


def test_stop_ends_the_child_and_refuses_later_commands(live: Install) -> None:
    w = WriterProcess(live.settings.home, live.settings.database_url)
    w.start()
    w.wait_ready(timeout=60)
    w.listen()
    proc = w._proc
    w.stop()
    assert not proc.is_alive()
    with pytest.raises(WriterStopped):
        w.execute(_inspect())


def test_a_child_that_cannot_start_says_why(live: Install) -> None:
    """The child opens the install itself: a signing key readable by others stops it,
    and the parent gets the child's one-line reason."""
    key = live.settings.key_path
    os.chmod(key, 0o644)
    try:
        w = WriterProcess(live.settings.home, live.settings.database_url)
        w.start()
        with pytest.raises(WriterStopped, match="chmod 600"):
            w.wait_ready(timeout=60)
        assert not w._proc.is_alive()
    finally:
        os.chmod(key, stat.S_IRUSR | stat.S_IWUSR)


def test_the_api_answers_503_when_the_writer_is_gone(live: Install) -> None:
    """Through the app as ``coldset serve`` builds it (writer="process"): a command works,
    then with the writer killed the API says 503 writer-stopped (a problem, as health
    says too), and a page says the same in words; reads still work."""
    app = create_app(live, demo=True)
    with TestClient(app) as client:
        tok = app.state.coldset.accounts.create_token("hana", "t")
        h = {"Authorization": f"Bearer {tok}"}
        r = client.post(f"{A}/unlock_container", json={"container": "safe-main"}, headers=h)
        assert r.status_code == 200, r.text
        r = client.post(
            "/login",
            data={
                "login": "hana",
                "password": PASSWORDS["hana"],
                "csrf": csrf_of(client.get("/login").text),
                "next": "/",
            },
            follow_redirects=True,
        )
        csrf = csrf_of(client.get(f"/p/{PRODUCTION}/board").text)
        health = client.get("/api/v1/health")
        assert health.status_code == 200 and health.json()["writer"] == "process"
        assert health.json()["commands"] >= 1 and "pid" not in health.json()
        os.kill(app.state.coldset.queue.pid, signal.SIGKILL)
        for _ in range(50):
            r = client.post(
                f"{A}/inspect",
                headers=h,
                json={"firearm": "colt-1", "chambers": ["empty"] * 6, "barrel_clear": True},
            )
            if r.status_code == 503:
                break
        assert r.status_code == 503, r.text
        assert r.headers["content-type"] == "application/problem+json"
        assert r.json()["error_kind"] == "writer-stopped" and r.json()["status"] == 503
        assert r.json()["type"] == "urn:coldset:problem:writer-stopped"
        assert "restart" in r.json()["detail"]
        form = f"/p/{PRODUCTION}/handoff?firearm=colt-1"
        page = client.post(
            f"/p/{PRODUCTION}/do/inspect",
            headers={"referer": f"http://testserver{form}"},
            data={
                "csrf": csrf,
                "firearm": "colt-1",
                "barrel_clear": "1",
                **{f"chamber-{i}": "empty" for i in range(1, 7)},
            },
        )
        assert page.status_code == 503
        words = text_of(page.text)
        assert "Nothing can be recorded right now" in words
        assert "go back to the form and send it again" in words
        assert "idempotency" not in words
        assert f'href="{form.replace("&", "&amp;")}" data-back' in page.text
        elsewhere = client.post(
            f"/p/{PRODUCTION}/do/inspect",
            headers={"referer": "http://evil.example/p/x"},
            data={
                "csrf": csrf,
                "firearm": "colt-1",
                "barrel_clear": "1",
                **{f"chamber-{i}": "empty" for i in range(1, 7)},
            },
        )
        assert elsewhere.status_code == 503 and "data-back" not in elsewhere.text
        board = client.get(f"/api/v1/productions/{PRODUCTION}/board", headers=h)
        assert board.status_code == 200
        health = client.get("/api/v1/health")
        assert health.status_code == 503 and health.json()["writer"] == "stopped"
        assert health.headers["content-type"] == "application/problem+json"
        assert health.json()["error_kind"] == "writer-stopped"
        assert health.json()["ok"] is False and health.json()["detail"]


def test_an_injected_clock_reaches_the_writer_process(live: Install) -> None:
    """One writer mode, also in tests: with an injected clock, the writer process records
    each command at the time that clock gave when the command arrived."""
    from coldset.clock import FixedClock

    at = datetime(2031, 5, 6, 7, 8, 9, tzinfo=ZoneInfo("UTC"))
    clock = FixedClock(at)
    app = create_app(live, demo=True, clock=clock)
    with TestClient(app) as client:
        assert app.state.coldset.queue.pid != os.getpid()
        tok = app.state.coldset.accounts.create_token("lee", "t")
        r = client.post(
            f"{A}/raise_concern",
            json={"text": "the cart is open"},
            headers={"Authorization": f"Bearer {tok}"},
        )
        assert r.status_code == 200, r.text
        assert r.json()["at"] == "2031-05-06T07:08:09.000Z"
        clock.advance(hours=1)
        r = client.post(
            f"{A}/raise_concern",
            json={"text": "still open"},
            headers={"Authorization": f"Bearer {tok}"},
        )
        assert r.json()["at"] == "2031-05-06T08:08:09.000Z"


def test_the_writer_process_runs_the_alert_timer(live: Install) -> None:
    """The time-based alerts are checked in the writer process, on its own timer: its
    health figures count the checks."""
    w = WriterProcess(live.settings.home, live.settings.database_url, alert_interval=0.1)
    w.start()
    w.wait_ready(timeout=60)
    w.listen()
    try:

        async def checks_after(seconds: float) -> int:
            await asyncio.sleep(seconds)
            found = await w.health()
            assert found["writer"] == "process" and found["pid"] == w.pid
            return int(found["alert_checks"])

        first = asyncio.run(checks_after(0.0))
        later = asyncio.run(checks_after(0.6))
        assert later >= first + 3
    finally:
        w.stop()


def _until(check: object, seconds: float = 60.0) -> None:
    deadline = time.monotonic() + seconds
    while not check():  # type: ignore[operator]
        assert time.monotonic() < deadline, "gave up waiting"
        time.sleep(0.05)


def _answers(w: WriterProcess) -> bool:
    """True once the writer decides a command again (recorded or not)."""
    try:
        w.execute(_inspect())
        return True
    except WriterStopped:
        return False


def _is_zombie(pid: int | None) -> bool:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False  # reaped: gone from the process table
    return "State:\tZ" in status


def test_a_channel_error_on_a_live_child_reaps_it(live: Install) -> None:
    """The parent decides a child is gone when its socket closes (say the channel broke
    while the process still ran): that child is ended and reaped, never left running or as
    a zombie beside the new one."""
    w = WriterProcess(live.settings.home, live.settings.database_url, restart_delays=(0.1,))
    w.start()
    w.wait_ready(timeout=60)
    w.listen()
    try:
        first = w.pid
        assert w._channel is not None and w._loop is not None
        transport = w._channel.transport
        assert transport is not None
        w._loop.call_soon_threadsafe(transport.abort)  # the channel breaks
        _until(lambda: _answers(w))
        assert w.pid != first and w.restarts == 1
        assert not _is_zombie(first) and not Path(f"/proc/{first}").exists()
    finally:
        w.stop()


def test_a_dead_writer_is_started_again(live: Install) -> None:
    """SIGKILL the child: commands fail fast while it is down, then a new child (a new
    pid) takes them, and what it records continues the same log."""
    w = WriterProcess(live.settings.home, live.settings.database_url, restart_delays=(0.1,))
    w.start()
    w.wait_ready(timeout=60)
    w.listen()
    try:
        before = w.execute(_cmd("unlock_container", container="safe-main"))
        assert before.ok and w.restarts == 0
        first = w.pid
        os.kill(first, signal.SIGKILL)  # type: ignore[arg-type]
        with pytest.raises(WriterStopped, match="restarting it"):
            for _ in range(50):
                w.submit(_inspect()).result(timeout=10)
        _until(lambda: _answers(w))
        assert w.pid != first and w.restarts == 1
        assert w.last_exit == f"exit code {-signal.SIGKILL}"
        assert not _is_zombie(first), "the dead writer was reaped"
        after = w.execute(_inspect("colt-2"))
        assert after.ok and after.index is not None and before.index is not None
        assert after.index > before.index
    finally:
        w.stop()


def test_a_restart_that_fails_is_tried_again_until_it_works(live: Install) -> None:
    """While the new child cannot start (a signing key others can read), the parent keeps
    trying and says why; once the key is fixed the writer is back."""
    w = WriterProcess(live.settings.home, live.settings.database_url, restart_delays=(0.1, 0.2))
    w.start()
    w.wait_ready(timeout=60)
    w.listen()
    key = live.settings.key_path
    try:
        assert w.execute(_cmd("unlock_container", container="safe-main")).ok
        fds = len(os.listdir("/proc/self/fd"))
        os.chmod(key, 0o644)
        os.kill(w.pid, signal.SIGKILL)  # type: ignore[arg-type]
        _until(lambda: "chmod 600" in (w.last_exit or ""))
        time.sleep(1.0)  # a few more tries, each a new child and connection
        with pytest.raises(WriterStopped):
            w.execute(_inspect())
        os.chmod(key, stat.S_IRUSR | stat.S_IWUSR)
        _until(lambda: _answers(w))
        assert w.restarts == 1 and w.execute(_inspect("colt-2")).ok
        # no descriptor left behind by the dead child or the failed tries
        assert len(os.listdir("/proc/self/fd")) <= fds
    finally:
        os.chmod(key, stat.S_IRUSR | stat.S_IWUSR)
        w.stop()


def test_stop_while_waiting_to_restart_ends_at_once(live: Install) -> None:
    """Stopping the server while the writer is down ends the wait: no new child starts."""
    w = WriterProcess(live.settings.home, live.settings.database_url, restart_delays=(30.0,))
    w.start()
    w.wait_ready(timeout=60)
    w.listen()
    first = w._proc
    os.kill(w.pid, signal.SIGKILL)  # type: ignore[arg-type]
    _until(lambda: w.last_exit is not None)
    t = time.monotonic()
    w.stop()
    assert time.monotonic() - t < 5
    assert w._proc is first and w.restarts == 0


def test_the_api_is_back_after_the_writer_restarts(live: Install) -> None:
    """As the server runs it (answers read on the event loop): 503 while the writer is
    down, then 200 again, and health counts the restart."""
    app = create_app(live, demo=True)
    with TestClient(app) as client:
        tok = app.state.coldset.accounts.create_token("hana", "t")
        h = {"Authorization": f"Bearer {tok}"}
        assert (
            client.post(
                f"{A}/unlock_container", json={"container": "safe-main"}, headers=h
            ).status_code
            == 200
        )
        os.kill(app.state.coldset.queue.pid, signal.SIGKILL)
        seen: list[int] = []

        def recorded() -> bool:
            r = client.post(
                f"{A}/inspect",
                headers=h,
                json={"firearm": "colt-1", "chambers": ["empty"] * 6, "barrel_clear": True},
            )
            seen.append(r.status_code)
            return r.status_code == 200

        _until(recorded)
        assert 503 in seen and set(seen) <= {200, 503}
        health = client.get("/api/v1/health").json()
        assert health["ok"] and health["restarts"] == 1
        assert health["last_exit"] == f"exit code {-signal.SIGKILL}"


def test_no_message_can_end_the_writer(writer: WriterProcess) -> None:
    """Frames the web process would never send (a raw client dict with a PIN list of the
    wrong type, a message of an unknown kind, a non-tuple, a body of 5 MB) are answered or
    logged; the same child then records the next command."""
    pid = writer.pid
    assert writer._channel is not None and writer._loop is not None
    channel, loop = writer._channel, writer._loop
    for msg in [
        ("cmds", [(10_001, _cmd("raise_concern", text="t", confirmations=True), None)]),
        ("cmds", 5),
        ("bogus",),
        42,
        ("cmds", [(10_002, "not a command", None)]),
        ("cmds", [(10_003, _cmd("raise_concern", text="x" * 5_000_000), None)]),
    ]:
        loop.call_soon_threadsafe(channel.send, msg)
    r = writer.execute(_cmd("raise_concern", text="still recording"))
    assert r.ok, r.error
    assert writer.pid == pid and writer._proc.is_alive() and writer.restarts == 0


def test_a_command_too_big_for_a_socket_buffer_goes_through_whole(writer: WriterProcess) -> None:
    """Forty 2,000-character concerns at once (one frame far larger than the socket's
    buffer, both ways): all recorded, on the same child."""
    pid = writer.pid

    async def many() -> list[Result]:
        return await asyncio.gather(
            *(writer.run(_cmd("raise_concern", text=f"{i:02d}" + "y" * 1998)) for i in range(40))
        )

    results = asyncio.run(many())
    assert all(r.ok for r in results), {r.error for r in results if not r.ok}
    assert writer.pid == pid and writer.restarts == 0
