"""Replay the whole hostile set of issue 15 against a real ``coldset serve`` while a
bystander (the safety contact) records commands, and print the bystander's success rate
and the writer's restarts. Both must be perfect: 100 % and 0.

    .venv/bin/python benchmarks/hostile_replay.py               # full run (about a minute)
    .venv/bin/python benchmarks/hostile_replay.py --quick       # what the test suite runs
    .venv/bin/python benchmarks/hostile_replay.py --json

It makes its own throw-away install (the demo western, on today's date), starts the
server as ``coldset serve`` does (the writer in its own process, uvicorn on a free
loopback port), and sends only to 127.0.0.1. The hostile set:

- malformed PIN lists (``confirmations`` / ``override.confirmers`` as true, 5, 1.5, a
  string, a list of numbers) on every command type that takes them;
- bodies of 900 KB to the anonymous concern form and of 1 MB to the API, declared and
  chunked (no Content-Length), several at once;
- JSON nested 1,000 deep, not JSON, not UTF-8, NaN, a huge number, a duplicate key;
- a NUL and other control characters in names and texts;
- no login, a wrong token, a forged CSRF token;
- Hypothesis: random JSON for every command schema, and valid bodies with one field
  replaced by random JSON.

Exit code 0 when the bystander got every command recorded and the writer never
restarted; 1 otherwise.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from coldset.clock import SystemClock
from coldset.config import Settings
from coldset.domain.commands import COMMAND_TYPES
from coldset.domain.sample import PEOPLE, PRODUCTION
from coldset.install import init_install, open_install
from coldset.service.accounts import AccountService
from coldset.service.core import CustodyService
from coldset.service.demo import setup_demo

PINS = {pid: f"{3000 + i}" for i, pid in enumerate(sorted(PEOPLE))}
PASSWORDS = {pid: f"pw-{pid}-hostile" for pid in PEOPLE}
CMD = f"/api/v1/productions/{PRODUCTION}/commands"


@dataclass
class Server:
    base: str
    proc: subprocess.Popen[bytes]
    tokens: dict[str, str]
    home: Path

    def health(self) -> dict[str, Any]:
        return dict(httpx.get(f"{self.base}/api/v1/health", timeout=10).json())

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(home: Path) -> Server:
    """A fresh install in ``home`` with the demo western and API tokens; ``coldset serve``."""
    settings = Settings.load(home)
    init_install(settings, "hostile.local")
    install = open_install(settings)
    clock = SystemClock()
    day = datetime.now(ZoneInfo("America/Denver")).date()
    accounts = AccountService(install.store, clock)
    setup_demo(
        CustodyService(install.store, install.ledger, clock, pins=install.pins),
        accounts,
        day,
        pins=PINS,
        passwords=PASSWORDS,
    )
    for who in PEOPLE:  # real passwords: a production server refuses demo logins
        accounts.set_password(who, PASSWORDS[who] + "-real")
    tokens = {who: accounts.create_token(who, "hostile") for who in ("hana", "lee", "alec")}
    install.close()
    port = _free_port()
    exe = Path(sys.executable).with_name("coldset")
    proc = subprocess.Popen(
        [str(exe), "--home", str(home), "serve", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    for _ in range(600):
        try:
            if httpx.get(f"{base}/api/v1/health", timeout=1).status_code == 200:
                return Server(base, proc, tokens, home)
        except httpx.HTTPError:
            pass
        if proc.poll() is not None:
            raise SystemExit("the server stopped: " + proc.stderr.read().decode()[-2000:])  # type: ignore[union-attr]
        time.sleep(0.1)
    proc.kill()
    raise SystemExit("the server did not start within 60 s")


@dataclass
class Bystander:
    """The safety contact raising concerns through the API, as fast as answers come."""

    server: Server
    pause: float = 0.02
    codes: Counter[int] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(60)

    def _run(self) -> None:
        h = {"Authorization": "Bearer " + self.server.tokens["lee"]}
        with httpx.Client(base_url=self.server.base, timeout=30) as client:
            i = 0
            while not self._stop.is_set():
                i += 1
                try:
                    r = client.post(
                        f"{CMD}/raise_concern",
                        headers={**h, "Idempotency-Key": f"bystander-{os.getpid()}-{i}"},
                        json={"text": f"bystander check {i}: the cart is locked"},
                    )
                    self.codes[r.status_code] += 1
                    if r.status_code != 200:
                        self.failures.append(f"{r.status_code} {r.text[:160]}")
                except httpx.HTTPError as e:
                    self.codes[0] += 1
                    self.failures.append(f"no answer: {e!r}")
                self._stop.wait(self.pause)

    @property
    def sent(self) -> int:
        return sum(self.codes.values())

    @property
    def ok(self) -> int:
        return self.codes[200]


# ----------------------------------------------------------------------- the hostile set

Attack = Callable[[httpx.Client, Server], int]


def _api(
    client: httpx.Client,
    server: Server,
    type_: str,
    content: bytes | Any,
    who: str = "alec",
    headers: dict[str, str] | None = None,
) -> int:
    h = {
        "Authorization": "Bearer " + server.tokens[who],
        "Content-Type": "application/json",
        **(headers or {}),
    }
    body = content if isinstance(content, (bytes, bytearray)) else json.dumps(content).encode()
    return client.post(f"{CMD}/{type_}", content=body, headers=h).status_code


def malformed_pins() -> list[tuple[str, Attack]]:
    """Every command that takes confirmations, with a PIN list of every wrong shape."""
    shapes: list[Any] = [
        True,
        5,
        1.5,
        "1234",
        [1, 2],
        [None],
        [{"person": 1, "pin": 2}],
        {"person": "alec", "pin": "1234"},
    ]
    out: list[tuple[str, Attack]] = []
    for type_ in ("raise_concern", "issue", "call_stop_work", "inspect"):
        for shape in shapes:
            out.append(
                (
                    f"{type_} confirmations={shape!r}",
                    lambda c, s, t=type_, v=shape: _api(c, s, t, {"text": "t", "confirmations": v}),
                )
            )
            out.append(
                (
                    f"{type_} override.confirmers={shape!r}",
                    lambda c, s, t=type_, v=shape: _api(
                        c, s, t, {"text": "t", "override": {"reason": "r", "confirmers": v}}
                    ),
                )
            )
    return out


def big_bodies(n_form: int, n_api: int) -> list[tuple[str, Attack]]:
    def concern_form(client: httpx.Client, server: Server) -> int:
        page = client.get(f"/c/{PRODUCTION}")
        csrf = page.text.split('name="csrf" value="', 1)[-1].split('"', 1)[0]
        return client.post(
            f"/c/{PRODUCTION}", data={"text": "x" * 900_000, "csrf": csrf}
        ).status_code

    def api_declared(client: httpx.Client, server: Server) -> int:
        return _api(client, server, "raise_concern", b'{"text": "' + b"x" * 1_000_000 + b'"}')

    def api_chunked(client: httpx.Client, server: Server) -> int:
        def gen() -> Any:
            yield b'{"text": "'
            for _ in range(80):
                yield b"x" * 65536
            yield b'"}'

        h = {"Authorization": "Bearer " + server.tokens["alec"], "Content-Type": "application/json"}
        try:
            return client.post(f"{CMD}/raise_concern", content=gen(), headers=h).status_code
        except httpx.HTTPError:  # the server closed the connection mid-body: refused
            return 413

    return (
        [("900 KB concern form", concern_form)] * n_form
        + [("1 MB API body", api_declared)] * n_api
        + [("5 MB chunked API body", api_chunked)] * max(1, n_api // 2)
    )


def odd_bodies() -> list[tuple[str, Attack]]:
    deep = b"[" * 1000 + b"]" * 1000
    cases: list[tuple[str, bytes | Any]] = [
        ("1,000-deep array", b'{"text": ' + deep + b"}"),
        ("1,000-deep object", b'{"a":' * 1000 + b"1" + b"}" * 1000),
        ("not JSON", b"{text: nope"),
        ("not UTF-8", '{"text": "caf\u00e9"}'.encode("utf-16")),
        ("NaN", b'{"text": NaN}'),
        ("huge number", b'{"text": "t", "unit": 1' + b"0" * 5000 + b"}"),
        ("duplicate key", b'{"text": "a", "text": "b"}'),
        ("a JSON array", b"[1, 2, 3]"),
        ("empty body", b""),
        ("NUL in text", {"text": "cart\u0000open"}),
        ("C1 control in text", {"text": "cart\u0085open"}),
        ("lone surrogate", b'{"text": "\\ud800"}'),
    ]
    out: list[tuple[str, Attack]] = [
        (name, lambda c, s, b=body: _api(c, s, "raise_concern", b)) for name, body in cases
    ]
    out.append(
        (
            "NUL in a person's name",
            lambda c, s: _api(
                c,
                s,
                "add_person",
                {"person": "nul-1", "name": "A\u0000B", "roles": ["performer"]},
                who="hana",
            ),
        )
    )
    out.append(
        (
            "NUL in the URL",
            lambda c, s: (
                c.get(
                    "/api/v1/productions/dusty%00trail/board",
                    headers={"Authorization": "Bearer " + s.tokens["alec"]},
                ).status_code
            ),
        )
    )
    out.append(
        ("no login", lambda c, s: c.post(f"{CMD}/call_stop_work", json={"reason": "x"}).status_code)
    )
    out.append(
        (
            "wrong token",
            lambda c, s: (
                c.post(
                    f"{CMD}/call_stop_work",
                    json={"reason": "x"},
                    headers={"Authorization": "Bearer cst_nope"},
                ).status_code
            ),
        )
    )

    def forged_csrf(client: httpx.Client, server: Server) -> int:
        with httpx.Client(base_url=server.base, cookies={"coldset_csrf": "forged"}) as other:
            return other.post(f"/c/{PRODUCTION}", data={"text": "x", "csrf": "forged"}).status_code

    out.append(("forged CSRF", forged_csrf))
    return out


def fuzzed(examples: int) -> list[tuple[str, Attack]]:
    """Hypothesis: random JSON objects for every command, and valid-looking bodies with one
    field replaced by random JSON (run as one attack)."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    json_values = st.recursive(
        st.none()
        | st.booleans()
        | st.integers()
        | st.floats(allow_nan=False)
        | st.text(max_size=40),
        lambda kids: (
            st.lists(kids, max_size=4) | st.dictionaries(st.text(max_size=10), kids, max_size=4)
        ),
        max_leaves=20,
    )
    types = sorted(COMMAND_TYPES)
    fields = sorted(
        {f for cls in COMMAND_TYPES.values() for f in cls.model_fields}
        - {"type", "production", "actor"}
    )

    def run(client: httpx.Client, server: Server) -> int:
        worst = [0]

        @settings(
            max_examples=examples,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(
            st.sampled_from(types),
            st.dictionaries(st.sampled_from(fields), json_values, max_size=6),
        )
        def one(type_: str, body: dict[str, Any]) -> None:
            worst.append(_api(client, server, type_, body, who="hana"))

        one()
        return max(worst)  # the highest status seen: a 5xx if there was any

    return [(f"Hypothesis: {examples} random bodies over every command", run)]


def hostile_set(quick: bool) -> list[tuple[str, Attack]]:
    if quick:
        return malformed_pins()[::3] + big_bodies(2, 2) + odd_bodies() + fuzzed(40)
    return malformed_pins() + big_bodies(8, 5) + odd_bodies() + fuzzed(400)


def replay(server: Server, quick: bool, concurrency: int = 4) -> dict[str, Any]:
    """Run the hostile set (``concurrency`` at once) while the bystander records."""
    attacks = hostile_set(quick)
    bystander = Bystander(server)
    bystander.start()
    time.sleep(0.5)
    results: list[tuple[str, int]] = []
    lock = threading.Lock()
    todo = list(attacks)

    def worker() -> None:
        with httpx.Client(base_url=server.base, timeout=60) as client:
            while True:
                with lock:
                    if not todo:
                        return
                    name, attack = todo.pop(0)
                try:
                    code = attack(client, server)
                except httpx.HTTPError as e:
                    code = -1
                    name = f"{name} ({type(e).__name__})"
                with lock:
                    results.append((name, code))

    t0 = time.perf_counter()
    workers = [threading.Thread(target=worker) for _ in range(concurrency)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    seconds = time.perf_counter() - t0
    time.sleep(0.5)
    bystander.stop()
    health = server.health()
    server_errors = [(n, c) for n, c in results if c >= 500 or c < 0]
    return {
        "attacks": len(results),
        "seconds": round(seconds, 1),
        "answers": dict(Counter(c for _n, c in results)),
        "server_errors": server_errors,
        "bystander_sent": bystander.sent,
        "bystander_recorded": bystander.ok,
        "bystander_success": round(100.0 * bystander.ok / max(1, bystander.sent), 2),
        "bystander_failures": bystander.failures[:5],
        "writer_restarts": health.get("restarts"),
        "writer_ok": health.get("ok"),
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="a smaller set (the test suite's)")
    ap.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="coldset-hostile-") as tmp:
        server = start_server(Path(tmp) / "home")
        try:
            out = replay(server, args.quick)
        finally:
            server.stop()
    if args.json:
        print(json.dumps(out, indent=2))
    else:
        print(
            f"hostile requests: {out['attacks']} in {out['seconds']} s; answers "
            + ", ".join(f"{k}: {v}" for k, v in sorted(out["answers"].items()))
        )
        print(f"server errors (5xx or no answer): {len(out['server_errors'])}")
        for name, code in out["server_errors"]:
            print(f"  {code}  {name}")
        print(
            f"bystander: {out['bystander_recorded']} of {out['bystander_sent']} commands "
            f"recorded ({out['bystander_success']} %)"
        )
        for f in out["bystander_failures"]:
            print(f"  {f}")
        print(f"writer restarts: {out['writer_restarts']}")
    good = (
        out["bystander_recorded"] == out["bystander_sent"]
        and out["bystander_sent"] > 0
        and out["writer_restarts"] == 0
        and not out["server_errors"]
    )
    return 0 if good else 1


if __name__ == "__main__":
    raise SystemExit(main())
