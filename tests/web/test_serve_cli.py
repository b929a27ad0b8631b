"""``coldset serve`` as users run it: a real server process with its writer process beside
it; a form command goes through the writer and lands in the log; Ctrl-C ends both."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from coldset.clock import SystemClock
from coldset.config import Settings
from coldset.domain.events import parse_entry
from coldset.domain.sample import PRODUCTION
from coldset.install import open_install


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _children(pid: int) -> list[int]:
    kids: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        kids += [int(k) for k in (task / "children").read_text().split()]
    return kids


def _gone(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return True
    return state == "Z"


def test_serve_demo_runs_commands_in_its_writer_process_and_stops_cleanly() -> None:
    port = _free_port()
    exe = Path(sys.executable).with_name("coldset")
    proc = subprocess.Popen(
        [str(exe), "serve", "--demo", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    out: list[str] = []
    try:
        assert proc.stdout is not None
        home = None
        deadline = time.monotonic() + 120
        while home is None and time.monotonic() < deadline:
            line = proc.stdout.readline()
            assert line, "the server stopped: " + "".join(out)
            out.append(line)
            m = re.search(r"data in (\S+),", line)
            home = m.group(1) if m else None
        base = f"http://127.0.0.1:{port}"
        with httpx.Client(base_url=base, timeout=10) as c:
            while time.monotonic() < deadline:
                try:
                    login = c.get("/login")
                    break
                except httpx.TransportError:
                    time.sleep(0.1)
            writers = _children(proc.pid)
            assert writers, "no writer process beside the server"
            csrf = re.search(r'name="csrf" value="([^"]+)"', login.text).group(1)  # type: ignore[union-attr]
            r = c.post(
                "/login",
                data={"login": "hana", "password": "demo-hana", "csrf": csrf, "next": "/"},
                follow_redirects=True,
            )
            assert r.status_code == 200, r.text[-500:]
            board = c.get(f"/p/{PRODUCTION}/board")
            csrf = re.search(r'name="csrf" value="([^"]+)"', board.text).group(1)  # type: ignore[union-attr]
            r = c.post(
                f"/p/{PRODUCTION}/do/unlock_container",
                data={"container": "safe-main", "csrf": csrf, "next": f"/p/{PRODUCTION}/board"},
                follow_redirects=True,
            )
            assert r.status_code == 200, r.text[-500:]
        inst = open_install(Settings.load(home))
        try:
            from coldset.service.core import CustodyService

            svc = CustodyService(inst.store, inst.ledger, SystemClock(), pins=inst.pins)
            size = svc.state(PRODUCTION).size
            with inst.store.read() as conn:
                last = parse_entry(inst.ledger.entry(conn, svc.origin(PRODUCTION), size - 1))
        finally:
            inst.close()
        assert (last["command"]["type"], last["actor"], last["outcome"]) == (
            "unlock_container",
            "hana",
            "allowed",
        )
        proc.send_signal(signal.SIGINT)  # Ctrl-C
        assert proc.wait(timeout=30) == 0, proc.stdout.read()
        deadline = time.monotonic() + 10
        while not all(_gone(w) for w in writers) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert all(_gone(w) for w in writers), "the writer process outlived the server"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
