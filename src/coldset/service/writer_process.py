"""The one writer in a process of its own, for ``coldset serve``.

Python runs one thread at a time per process. In one process, the web server's
event loop (HTTP parsing, routing, authentication, JSON) and the writer thread
(rules, ledger, projection rows) take turns on that one lock, and each waits
for the other: on two cores the writer's batches took twice as long as the
same batches alone. So ``coldset serve`` runs :class:`CommandQueue` and the
alert timer in a child process and the web app forwards every command to it:
the web process parses and answers, the writer process decides and records,
each on its own core.

- The child is started with ``spawn`` (nothing of the parent's threads or open
  database connections is inherited); it opens the install itself, loads every
  production's state, and says it is ready. The parent waits for that before
  the server listens.
- Every command is validated against its model **in the web process**
  (:func:`coldset.service.core.validate`): a malformed one is answered there and
  never sent. The child only ever receives parsed command models, and an error
  while handling one message is answered to that message's requests and logged;
  it never ends the child.
- Messages are pickled, length-prefixed frames over a private socket pair (see
  :func:`_frame`); nothing else can write to it. In the parent the socket
  belongs to an asyncio transport on the server's event loop, which buffers
  what it cannot write at once and reassembles what arrives in pieces, so a
  message of any size goes through whole and never blocks the loop (uvloop makes
  the socket non-blocking; a plain ``Connection.send_bytes`` of a large message
  then failed half-way, and the parent took the writer for dead). In the child
  the socket stays blocking: one thread reads, the writer thread answers.
- The parent stays a reader (board, timeline, pages) and still writes its own
  accounts and sessions; every custody command goes through the child, so the
  service is still the only writer of custody state.
- If the child dies, every command waiting for it fails at once with
  :class:`WriterStopped` (the web app answers 503); a command in flight may or
  may not have been recorded, which is what idempotency keys are for. Then the
  parent reaps it (no zombie) and starts a new child (after 1 s, then 2, 5, 10
  and every 30 s while it keeps failing); commands fail fast with 503 until it is
  ready, and go through again after. Reads never stop. ``restart_delays=None``
  turns this off.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import itertools
import logging
import multiprocessing
import os
import pickle
import select
import signal
import socket
import struct
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import Any

from coldset.clock import Clock
from coldset.domain.commands import CommandBase
from coldset.service.core import CommandInput, Step, validate
from coldset.service.result import Result

log = logging.getLogger("coldset.web")
_PICKLE = pickle.HIGHEST_PROTOCOL
_HEADER = struct.Struct("!Q")  # every frame: its length, then its pickled message


#: What the fork server imports once, so that each writer it starts is ready in ~0.1 s
#: instead of importing everything again (~0.5 s with ``spawn``).
_PRELOAD = [
    "coldset.service.writer_process",
    "coldset.service.core",
    "coldset.service.command_queue",
    "coldset.install",
    "coldset.domain.rules",
    "sqlalchemy.dialects.sqlite",
    "sqlalchemy.dialects.postgresql",
    "argon2",
]


def _context() -> Any:
    """Children come from the standard library's fork server: a clean process (no threads,
    no open database connections of the parent) that has imported coldset once; where
    there is none, ``spawn``."""
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(_PRELOAD)
    return ctx


def _frame(msg: Any) -> bytes:
    data = pickle.dumps(msg, _PICKLE)
    return _HEADER.pack(len(data)) + data


class WriterStopped(RuntimeError):
    """The writer process is not running: nothing can be recorded until a restart."""


class _Channel(asyncio.Protocol):
    """The parent's end of one child's socket, on the event loop: frames in, frames out."""

    def __init__(self, owner: WriterProcess) -> None:
        self.owner = owner
        self.transport: asyncio.Transport | None = None
        self._buf = bytearray()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        buf = self._buf
        buf += data
        start, n = 0, len(buf)
        while n - start >= _HEADER.size:
            (size,) = _HEADER.unpack_from(buf, start)
            end = start + _HEADER.size + size
            if end > n:
                break
            try:
                answers = pickle.loads(buf[start + _HEADER.size : end])
            except Exception:  # cannot happen with our own child; never fatal
                log.exception("an answer from the writer process could not be read")
            else:
                self.owner._deliver(answers)
            start = end
        if start:
            del buf[:start]

    def connection_lost(self, exc: Exception | None) -> None:
        self.owner._writer_died(self)

    def send(self, msg: Any) -> None:
        assert self.transport is not None
        self.transport.write(_frame(msg))


class WriterProcess:
    """Run custody commands in a child process; the same ``run`` as :class:`CommandQueue`.

    ``start()`` returns at once (the child loads its state meanwhile);
    ``wait_ready()`` blocks until the child can take commands, or raises
    :class:`WriterStopped` with the child's own message; ``listen(loop)`` then hands
    the child's socket to ``loop`` (the server's), or to a loop on a thread of its own.
    ``run`` is called on that loop; ``submit``/``execute`` from any other thread.
    """

    #: Seconds before each new try after the child died (the last one repeats).
    RESTART_DELAYS = (1.0, 2.0, 5.0, 10.0, 30.0)

    def __init__(
        self,
        home: Path,
        database_url: str,
        *,
        clock: Clock | None = None,
        alert_interval: float | None = None,
        restart_delays: tuple[float, ...] | None = RESTART_DELAYS,
    ) -> None:
        """``clock``: None, and the writer keeps the wall clock; a clock (tests, replays),
        and every command is recorded at the time it gave when the command was sent.
        ``alert_interval``: seconds between checks for due alerts (None: no timer)."""
        self.home, self.database_url = home, database_url
        self.clock = clock
        self.alert_interval = alert_interval
        self._timer: threading.Thread | None = None
        self.alert_checks = 0  # ticks of the alert timer
        self.restart_delays = restart_delays
        self.restarts = 0  # children started again after one died
        self.last_exit: str | None = None  # how the last child ended, for health
        self.loaded: dict[str, int] = {}
        self._ctx = _context()
        self._proc: Any = None
        self._sock: socket.socket | None = None  # the running child's socket (ours)
        self._channel: _Channel | None = None  # its transport, once listening
        self._loop: asyncio.AbstractEventLoop | None = None
        self._own_loop: threading.Thread | None = None
        self._state_lock = threading.Lock()
        self._wake = threading.Event()  # set by stop(): no more waiting to restart
        self._restarter: threading.Thread | None = None
        self._waiters: dict[int, asyncio.Future[Any]] = {}  # request id -> its future
        self._outbox: list[tuple[int, Any, str | None, datetime | None]] = []
        self._ids = itertools.count()
        self._stopped: str | None = "the writer process has not been started"
        self._stopping = False
        self._ready = False
        #: called on the loop with the productions whose logs grew, after each answer
        #: frame (the board's live updates; :mod:`coldset.web.live`)
        self.on_written: Callable[[set[str]], None] | None = None

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> None:
        self._spawn()
        self._stopped = None

    def _spawn(self) -> None:
        """Start a child over a new socket pair; it loads its state meanwhile."""
        ours, theirs = socket.socketpair()
        self._proc = self._ctx.Process(
            target=_child_main,
            name="coldset-writer",
            daemon=True,
            args=(str(self.home), self.database_url, theirs),
        )
        self._proc.start()
        theirs.close()
        self._sock = ours
        self._ready = False

    def wait_ready(self, timeout: float = 900.0) -> dict[str, int]:
        """Block until the child has loaded every production; production id -> log size."""
        sock = self._sock
        assert sock is not None, "start() first"
        if self._ready:
            return self.loaded
        try:
            kind, payload = _read_frame(sock, timeout)
        except TimeoutError:
            self._reap()
            raise WriterStopped(
                f"the writer process did not get ready within {timeout:.0f} s"
            ) from None
        except (EOFError, OSError):
            self._reap()
            raise WriterStopped(
                "the writer process stopped while starting (exit code "
                f"{self._proc.exitcode}); see the messages above"
            ) from None
        if kind != "ready":
            self._reap()
            raise WriterStopped(f"the writer process could not start: {payload}")
        self.loaded = payload
        self._ready = True
        return self.loaded

    async def listen_here(self) -> None:
        """Read and write the child's socket on the running event loop (the server's).
        Call once, after :meth:`wait_ready`."""
        if self._loop is None:
            self._loop = asyncio.get_running_loop()
            await self._attach()

    def listen(self) -> None:
        """:meth:`listen_here` on an event loop of a thread of its own (scripts, tests)."""
        if self._loop is not None:
            return
        loop = asyncio.new_event_loop()
        self._own_loop = threading.Thread(
            target=loop.run_forever, daemon=True, name="coldset-writer-channel"
        )
        self._own_loop.start()
        self._loop = loop
        asyncio.run_coroutine_threadsafe(self._attach(), loop).result(timeout=30)

    async def _attach(self) -> None:
        """Hand the current child's socket to this loop: from now on frames flow."""
        assert self._loop is not None and self._sock is not None
        _t, channel = await self._loop.create_unix_connection(
            lambda: _Channel(self), sock=self._sock
        )
        with self._state_lock:
            self._channel = channel
            if not self._stopping:
                self._stopped = None
        if self.alert_interval and self._timer is None:
            self._timer = threading.Thread(
                target=self._alert_timer, daemon=True, name="coldset-alerts"
            )
            self._timer.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Let the child finish what it was given, then end it."""
        if self._proc is None:
            return
        with self._state_lock:
            self._stopping = True  # and no restart from now on
        self._wake.set()
        for thread in (self._restarter, self._timer):
            if thread is not None and thread is not threading.current_thread():
                thread.join(timeout)
        sock = self._sock
        if sock is not None:  # end of input: the child finishes its queue and exits
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_WR)
        self._proc.join(timeout)
        self._reap()
        self._stopped = "the server is shutting down"
        self._fail_all(self._stopped)
        channel = self._channel
        if channel is not None and channel.transport is not None and self._loop is not None:
            with contextlib.suppress(RuntimeError):
                if _running_loop() is self._loop:
                    channel.transport.close()
                else:
                    self._loop.call_soon_threadsafe(channel.transport.close)
        elif sock is not None:
            sock.close()
        if self._own_loop is not None and self._loop is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._own_loop.join(timeout)

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    def _reap(self) -> None:
        """End the current child if it still runs, and collect its exit (no zombie)."""
        proc = self._proc
        if proc is None:
            return
        if proc.is_alive():  # its socket is closed: it is finishing its queue
            proc.join(2.0)
        if proc.is_alive():
            proc.terminate()
            proc.join(5)
        if proc.is_alive():
            proc.kill()
            proc.join(5)
        self._stopped = self._stopped or "the writer process was ended"

    # ------------------------------------------------------------------ commands

    def submit(self, command: CommandInput, actor_pin: str | None = None) -> Future[Result]:
        """:meth:`run` from a thread that is not the channel's event loop."""
        if self._loop is None or self._stopped is not None or not self._loop.is_running():
            fut: Future[Result] = Future()
            fut.set_exception(WriterStopped(self._stopped or "listen() first"))
            return fut
        return asyncio.run_coroutine_threadsafe(self.run(command, actor_pin), self._loop)

    def execute(self, command: CommandInput, actor_pin: str | None = None) -> Result:
        return self.submit(command, actor_pin).result()

    async def run(self, command: CommandInput, actor_pin: str | None = None) -> Result:
        """Validate the command here, then queue it in the outbox; the loop sends the whole
        outbox in one frame when it next comes round (one write for the requests that
        arrived together, not one each)."""
        checked = validate(command)
        if isinstance(checked, Result):
            return checked  # malformed: answered here, the writer never sees it
        result: Result = await self._send(checked, actor_pin)
        return result

    async def run_steps(self, commands: Sequence[CommandInput]) -> list[Result]:
        """Run ``commands`` as ONE operation in the writer: in order, in one transaction,
        stopping at the first that is not allowed; the results of the steps tried (see
        :meth:`~coldset.service.core.CustodyService.execute_groups`).

        Each step is validated here first; a malformed step is answered here, and only the
        steps before it are sent (its answer follows theirs when they were all allowed)."""
        checked: list[CommandBase] = []
        bad: Result | None = None
        for command in commands:
            found = validate(command)
            if isinstance(found, Result):
                bad = found
                break
            checked.append(found)
        if not checked:
            return [bad] if bad is not None else []
        results: list[Result] = await self._send(checked, None)
        if bad is not None and len(results) == len(checked) and results[-1].ok:
            results.append(bad)
        return results

    async def _send(self, payload: Any, actor_pin: str | None) -> Any:
        """Queue ``payload`` (a parsed command, or a list of them: one operation's steps)
        in the outbox and wait for its answer."""
        if self._stopped is not None:
            raise WriterStopped(self._stopped)
        loop = asyncio.get_running_loop()
        if loop is not self._loop:  # another loop's task: hand it to the channel's
            if self._loop is None:
                raise WriterStopped("the writer process is starting")
            return await asyncio.wrap_future(
                asyncio.run_coroutine_threadsafe(self._send(payload, actor_pin), self._loop)
            )
        fut: asyncio.Future[Any] = loop.create_future()
        req = next(self._ids)
        self._waiters[req] = fut
        if not self._outbox:
            loop.call_soon(self._send_outbox)
        at = self.clock.now() if self.clock is not None else None
        self._outbox.append((req, payload, actor_pin, at))
        try:
            return await fut
        finally:
            self._waiters.pop(req, None)

    async def health(self, timeout: float = 5.0) -> dict[str, Any]:
        """The writer process's own figures (pid, batches, commands waiting, alert checks);
        raises :class:`WriterStopped` if it is gone or does not answer in ``timeout`` s."""
        if self._stopped is not None or self._channel is None:
            raise WriterStopped(self._stopped or "the writer process is starting")
        loop = asyncio.get_running_loop()
        if loop is not self._loop and self._loop is not None:
            return await asyncio.wrap_future(
                asyncio.run_coroutine_threadsafe(self.health(timeout), self._loop)
            )
        fut: asyncio.Future[Any] = loop.create_future()
        req = next(self._ids)
        self._waiters[req] = fut
        try:
            self._channel.send(("stats", req))
            found = await asyncio.wait_for(fut, timeout)
        except (WriterStopped, TimeoutError) as e:
            raise WriterStopped(str(e) or "the writer process does not answer") from None
        finally:
            self._waiters.pop(req, None)
        return {
            "writer": "process",
            **found,
            "restarts": self.restarts,
            "last_exit": self.last_exit,
            "alert_checks": self.alert_checks if self.alert_interval else None,
        }

    async def check_alerts(self) -> list[Result]:
        """Record the time-based alerts that have come due (the writer decides; at this
        process's clock's time when one was injected)."""
        if self._stopped is not None or self._channel is None:
            raise WriterStopped(self._stopped or "the writer process is starting")
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[list[Result]] = loop.create_future()
        req = next(self._ids)
        self._waiters[req] = fut
        try:
            self._channel.send(("alerts", req, self.clock.now() if self.clock else None))
            return await fut
        finally:
            self._waiters.pop(req, None)

    def _alert_timer(self) -> None:
        """Every ``alert_interval`` seconds, ask the writer to record what came due (a
        thread; a failed check is logged and the timer goes on)."""
        assert self.alert_interval is not None
        while not self._wake.wait(self.alert_interval):
            loop = self._loop
            if self._stopped is not None or loop is None:
                continue
            self.alert_checks += 1
            try:
                raised = asyncio.run_coroutine_threadsafe(self.check_alerts(), loop).result(60)
            except Exception as e:  # the writer restarting, the loop closing: next tick
                log.warning("checking for due alerts failed: %s", e)
                continue
            for r in raised:
                log.warning("alert raised on %s: %s", r.production, ", ".join(r.rules))

    def _send_outbox(self) -> None:
        box, self._outbox = self._outbox, []
        channel = self._channel
        if self._stopped is not None or channel is None:
            why = self._stopped or "the writer process is starting"
            for item in box:
                self._settle(item[0], "exc", WriterStopped(why))
            return
        channel.send(("cmds", box))

    def _deliver(self, answers: list[tuple[str, int, Any]]) -> None:
        for kind, req, payload in answers:
            self._settle(req, kind, payload)
        if self.on_written is not None:
            written = _productions_written(p for kind, _, p in answers if kind == "ok")
            if written:
                try:
                    self.on_written(written)
                except Exception:  # a listener's problem never stops the answers
                    log.exception("telling the board about new entries failed")

    def _settle(self, req: int, kind: str, payload: Any) -> None:
        fut = self._waiters.pop(req, None)
        if fut is None or fut.done():  # cancelled: the client went away
            return
        if kind == "ok":
            fut.set_result(payload)
        else:
            fut.set_exception(payload)

    def _writer_died(self, channel: _Channel) -> None:
        """``channel``'s child is gone (on the event loop; an old child's channel, closed
        late, says nothing about the one running now)."""
        with self._state_lock:
            if channel is not self._channel:
                return
            self._channel = None
            if self._stopping:
                self._stopped = "the server is shutting down"
                return
            proc = self._proc
            code = proc.exitcode if proc is not None else None
            self.last_exit = f"exit code {code}"
            restarting = self.restart_delays is not None
            self._stopped = (
                f"the writer process stopped ({self.last_exit}): nothing can be recorded "
                + (
                    "until it is running again; the server is restarting it, which takes a "
                    "few seconds"
                    if restarting
                    else "until coldset serve is restarted"
                )
                + ". A command sent just before may or may not have been recorded; resend "
                "it with the same idempotency key after the restart."
            )
            log.critical(self._stopped)
            self._restarter = threading.Thread(
                target=self._restart, daemon=True, name="coldset-writer-restart"
            )
            self._restarter.start()
        self._fail_all(self._stopped)

    def _restart(self) -> None:
        """Reap the dead child, then start a new one until one is ready (a thread)."""
        self._reap()
        if self.last_exit == "exit code None" and self._proc is not None:
            self.last_exit = f"exit code {self._proc.exitcode}"
        if self.restart_delays is None:
            return
        for attempt in itertools.count():
            delays = self.restart_delays
            delay = delays[min(attempt, len(delays) - 1)] if delays else 0.0
            self._wake.wait(delay)
            with self._state_lock:
                if self._stopping:
                    return
                old = self._sock
                self._spawn()
            if old is not None:
                with contextlib.suppress(OSError):
                    old.close()
            try:
                self.wait_ready()
            except (WriterStopped, OSError, ValueError) as e:  # (closed by stop())
                self.last_exit = str(e)
                log.error("restarting the writer process failed (try %d): %s", attempt + 1, e)
                continue
            with self._state_lock:
                if self._stopping:
                    self._reap()
                    return
                self.restarts += 1
            try:
                assert self._loop is not None
                asyncio.run_coroutine_threadsafe(self._attach(), self._loop).result(30)
            except Exception as e:  # the loop has closed: the server is ending
                log.error("the new writer process could not be attached: %s", e)
                return
            log.warning(
                "the writer process is running again (pid %s, restart %d)",
                self._proc.pid,
                self.restarts,
            )
            return

    def _fail_all(self, why: str) -> None:
        loop = self._loop
        if loop is None:
            return
        pending = list(self._waiters)

        def fail() -> None:
            for req in pending:
                self._settle(req, "exc", WriterStopped(why))

        if _running_loop() is loop:
            fail()
        else:
            with contextlib.suppress(RuntimeError):  # that loop has closed: nobody waits
                loop.call_soon_threadsafe(fail)


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


def _read_exact(sock: socket.socket, n: int, deadline: float | None = None) -> bytes:
    """``n`` bytes from a blocking socket (EOFError when it closes first)."""
    buf = bytearray(n)
    view, got = memoryview(buf), 0
    while got < n:
        if deadline is not None:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([sock], [], [], left)[0]:
                raise TimeoutError
        k = sock.recv_into(view[got:])
        if k == 0:
            raise EOFError
        got += k
    return bytes(buf)


def _read_frame(sock: socket.socket, timeout: float | None = None) -> Any:
    deadline = None if timeout is None else time.monotonic() + timeout
    (size,) = _HEADER.unpack(_read_exact(sock, _HEADER.size, deadline))
    return pickle.loads(_read_exact(sock, size, deadline))


# ---------------------------------------------------------------------- the child


def _child_main(home: str, database_url: str, sock: socket.socket) -> None:
    """The writer process: open the install, load it, then run what the parent sends."""
    # Ctrl-C reaches the whole process group; the parent ends the child in order.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    from coldset.clock import SystemClock
    from coldset.config import Settings
    from coldset.install import open_install
    from coldset.service.command_queue import CommandQueue, warm_up
    from coldset.service.core import CustodyService

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s: %(message)s")
    sock.setblocking(True)
    send_lock = threading.Lock()

    def send(msg: Any) -> None:
        data = _frame(msg)
        try:
            with send_lock:
                sock.sendall(data)
        except OSError:
            pass  # the parent is gone; the loop below ends on EOF

    try:
        install = open_install(
            Settings(home=Path(home), database_url=database_url), background_checkpoints=True
        )
        custody = CustodyService(install.store, install.ledger, SystemClock(), pins=install.pins)
        sizes = warm_up(custody)
    except Exception as e:  # said to the parent, which refuses to start the server
        send(("error", str(e) or type(e).__name__))
        return
    gc.collect()
    gc.freeze()  # the loaded state: out of the collector's sight (see serve)
    answers: list[tuple[str, int, Any]] = []  # the batch being finished (writer thread)

    def flush() -> None:  # after every batch: its answers in one frame
        if answers:
            batch = answers[:]
            answers.clear()
            send(batch)

    queue = CommandQueue(custody, after_batch=flush)
    pins = ThreadPoolExecutor(max_workers=4, thread_name_prefix="coldset-pins")

    def reply(req: int) -> Callable[[Future[Any]], None]:
        def done(fut: Future[Any]) -> None:  # runs on the writer thread
            exc = fut.exception()
            answers.append(
                ("ok", req, fut.result()) if exc is None else ("exc", req, _portable(exc))
            )

        return done

    def warm_then_submit(req: int, command: Any, pin: str | None, at: datetime | None) -> None:
        try:
            for one in command if isinstance(command, list) else [command]:
                queue.warm_pins(one, pin)
        except Exception:  # the writer checks the PINs again and decides
            log.exception("checking PINs ahead of the writer failed")
        try:
            submit(req, command, pin, at)
        except Exception as e:  # the queue has stopped: say so to that request
            send([("exc", req, WriterStopped(str(e)))])

    def submit(req: int, command: Any, pin: str | None, at: datetime | None) -> None:
        """A command, or (a list) one operation's steps, all at the time it arrived."""
        if isinstance(command, list):
            queue.submit_steps([Step(one, pin, at) for one in command], done=reply(req))
        else:
            queue.submit(command, pin, done=reply(req), at=at)

    def needs_pins(command: Any, pin: str | None) -> bool:
        return any(
            queue.needs_pin_check(one, pin)
            for one in (command if isinstance(command, list) else [command])
        )

    def alerts(req: int, now: datetime | None) -> None:
        try:
            send([("ok", req, custody.check_due_alerts(now))])
        except Exception as e:
            log.exception("checking for due alerts failed")
            send([("exc", req, _portable(e))])

    def handle(msg: Any) -> None:
        kind = msg[0]
        if kind == "stats":
            send([("ok", msg[1], {"pid": os.getpid(), **queue.stats()})])
        elif kind == "alerts":  # off this thread: it reads the state and may write
            pins.submit(alerts, int(msg[1]), msg[2])
        elif kind == "cmds":
            ready = []
            for req, command, pin, at in msg[1]:
                if needs_pins(command, pin):  # argon2 first, off the writer
                    pins.submit(warm_then_submit, req, command, pin, at)
                elif isinstance(command, list):
                    submit(req, command, pin, at)
                else:
                    ready.append((command, pin, reply(req), at))
            queue.submit_all(ready)
        else:
            raise ValueError(f"unknown message {kind!r}")

    send(("ready", sizes))
    try:
        while True:
            try:
                msg = _read_frame(sock)
            except (EOFError, OSError):
                break
            except Exception:  # a frame that does not unpickle: nobody to answer
                log.exception("a message to the writer process could not be read")
                continue
            try:
                if msg[0] == "stop":
                    break
                handle(msg)
            except Exception as e:  # never fatal: that message's requests hear why
                log.exception("the writer process could not take a message")
                why = RuntimeError(f"the writer could not take this command: {e}")
                send([("exc", req, why) for req in _request_ids(msg)])
    finally:
        pins.shutdown(wait=True)
        queue.stop()
        install.close()
        sock.close()


def _productions_written(payloads: Any) -> set[str]:
    """The productions whose logs grew, from the writer's answers (a Result, or a list
    of them for an alert check); a replay or an unrecorded rejection wrote nothing."""
    out: set[str] = set()
    for payload in payloads:
        for r in payload if isinstance(payload, list) else [payload]:
            if isinstance(r, Result) and r.production and r.index is not None and not r.replayed:
                out.add(r.production)
    return out


def _request_ids(msg: Any) -> list[int]:
    """The request ids a message carries, as far as they can be read at all."""
    try:
        if msg[0] in ("stats", "alerts"):
            return [int(msg[1])]
        return [int(item[0]) for item in msg[1]]
    except Exception:
        return []


def _portable(exc: BaseException) -> BaseException:
    """``exc`` if it survives pickling, else a RuntimeError with its text."""
    try:
        pickle.loads(pickle.dumps(exc, _PICKLE))
        return exc
    except Exception:
        return RuntimeError(f"{type(exc).__name__}: {exc}")
