"""Crash durability of the server as it runs on set: tablets send commands to a real
``coldset serve`` (writer process, uvicorn, loopback); the writer and then the server are
killed with SIGKILL in the middle. Every command the server acknowledged (200) is in the
log afterwards, at the index it was given, and the log verifies."""

from __future__ import annotations

import json
import os
import random
import signal
import threading
import time
from pathlib import Path

import httpx

from coldset.config import Settings
from coldset.domain.sample import PRODUCTION
from coldset.install import open_install
from coldset.service.records import Records
from tests.web.test_hostile import _replay_module

CMD = f"/api/v1/productions/{PRODUCTION}/commands"


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        text = (task / "children").read_text().split()
        found.extend(int(x) for x in text)
    return found


def test_kill_9_loses_no_acknowledged_command(tmp_path: Path) -> None:
    hostile = _replay_module()
    server = hostile.start_server(tmp_path / "home")
    acked: dict[str, int] = {}
    lock = threading.Lock()
    stop = threading.Event()

    def tablet(n: int) -> None:
        h = {"Authorization": "Bearer " + server.tokens["lee"]}
        with httpx.Client(base_url=server.base, timeout=10) as client:
            for i in range(10_000):
                if stop.is_set():
                    return
                key = f"t{n}-{i}"
                try:
                    r = client.post(
                        f"{CMD}/raise_concern",
                        headers={**h, "Idempotency-Key": key},
                        json={"text": f"tablet {n} note {i}"},
                    )
                except httpx.HTTPError:
                    return  # the server is gone
                if r.status_code == 200:
                    with lock:
                        acked[key] = r.json()["index"]

    tablets = [threading.Thread(target=tablet, args=(n,)) for n in range(4)]
    try:
        for t in tablets:
            t.start()
        time.sleep(random.uniform(1.0, 2.0))
        writers = _children(server.proc.pid)
        assert writers, "the writer runs in a child process"
        for pid in writers:  # the recorder first, mid-batch
            os.kill(pid, signal.SIGKILL)
        os.kill(server.proc.pid, signal.SIGKILL)
        server.proc.wait(10)
    finally:
        stop.set()
        for t in tablets:
            t.join(15)
        if server.proc.poll() is None:
            server.proc.kill()
    assert len(acked) > 20, "the tablets got commands through before the kill"
    install = open_install(Settings.load(server.home))
    try:
        records = Records(install)
        origin = install.origin(PRODUCTION)
        report = records.verify(origin)
        assert report.ok, report.problems
        with install.store.read() as conn:
            stored = {
                json.loads(data)["command"].get("idempotency_key"): idx
                for idx, data in install.ledger.entries(conn, origin)
            }
    finally:
        install.close()
    lost = {k: i for k, i in acked.items() if stored.get(k) != i}
    assert not lost, f"{len(lost)} acknowledged commands lost or moved: {list(lost)[:5]}"
