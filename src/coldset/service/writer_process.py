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
- Messages are pickled over a private socket pair between the server and the
  child it started; nothing else can write to it.
- The parent stays a reader (board, timeline, pages) and still writes its own
  accounts and sessions; every custody command goes through the child, so the
  service is still the only writer of custody state.
- If the child dies, every command waiting for it fails at once with
  :class:`WriterStopped` (the web app answers 503); a command in flight may or
  may not have been recorded, which is what idempotency keys are for. Then the
  parent starts a new child (after 1 s, then 2, 5, 10 and every 30 s while it
  keeps failing); commands fail fast with 503 until it is ready, and go through
  again after. Reads never stop. ``restart_delays=None`` turns this off.
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
import signal
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from coldset.service.core import CommandInput
from coldset.service.result import Result

log = logging.getLogger("coldset.web")
_PICKLE = pickle.HIGHEST_PROTOCOL


class WriterStopped(RuntimeError):
    """The writer process is not running: nothing can be recorded until a restart."""


class WriterProcess:
    """Run custody commands in a child process; the same ``run`` as :class:`CommandQueue`.

    ``start()`` returns at once (the child loads its state meanwhile);
    ``wait_ready()`` blocks until the child can take commands, or raises
    :class:`WriterStopped` with the child's own message.
    """

    #: Seconds before each new try after the child died (the last one repeats).
    RESTART_DELAYS = (1.0, 2.0, 5.0, 10.0, 30.0)

    def __init__(self, home: Path, database_url: str, *,
                 alert_interval: float | None = None,
                 restart_delays: tuple[float, ...] | None = RESTART_DELAYS) -> None:
        self.home, self.database_url = home, database_url
        self.alert_interval = alert_interval
        self.restart_delays = restart_delays
        self.restarts = 0                       # children started again after one died
        self.last_exit: str | None = None       # how the last child ended, for health
        self._restarter: threading.Thread | None = None
        self._wake = threading.Event()          # set by stop(): no more waiting to restart
        self._state_lock = threading.Lock()
        self._ctx = multiprocessing.get_context("spawn")
        self._conn: Connection | None = None
        self._proc: Any = None
        # request id -> a concurrent future (submit) or (event loop, asyncio future) (run)
        self._waiters: dict[int, Any] = {}
        # event loop -> commands its requests gave since it last sent (see run)
        self._outboxes: dict[asyncio.AbstractEventLoop, list[tuple[int, Any, Any]]] = {}
        self._ids = itertools.count()
        self._send_lock = threading.Lock()
        self._stopped: str | None = "the writer process has not been started"
        self._ready = False
        self._listening: threading.Thread | asyncio.AbstractEventLoop | None = None
        self._stopping = False
        self.loaded: dict[str, int] = {}

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> None:
        self._spawn()
        self._stopped = None

    def _spawn(self) -> None:
        """Start a child over a new socket pair; it loads its state meanwhile."""
        parent, child = self._ctx.Pipe(duplex=True)
        self._proc = self._ctx.Process(
            target=_child_main, name="coldset-writer", daemon=True,
            args=(str(self.home), self.database_url, child, self.alert_interval))
        self._proc.start()
        child.close()
        self._conn = parent
        self._ready = False

    def wait_ready(self, timeout: float = 900.0) -> dict[str, int]:
        """Block until the child has loaded every production; production id -> log size."""
        assert self._conn is not None, "start() first"
        if self._ready:
            return self.loaded
        if not self._conn.poll(timeout):
            self._kill()
            raise WriterStopped(f"the writer process did not get ready within {timeout:.0f} s")
        try:
            kind, payload = pickle.loads(self._conn.recv_bytes())
        except (EOFError, OSError):
            self._kill()
            raise WriterStopped("the writer process stopped while starting (exit code "
                                f"{self._proc.exitcode}); see the messages above") from None
        if kind != "ready":
            self._kill()
            raise WriterStopped(f"the writer process could not start: {payload}")
        self.loaded = payload
        self._ready = True
        return self.loaded

    def listen(self, loop: asyncio.AbstractEventLoop | None = None) -> None:
        """Start reading the writer's answers: on ``loop`` itself (the server: no thread, so
        no wait for the GIL between a reader thread and the busy event loop), or, with
        no loop, on a thread of its own. Call once, after :meth:`wait_ready`."""
        assert self._ready and self._conn is not None, "wait_ready() first"
        if self._listening is not None:
            return
        if loop is not None:
            loop.add_reader(self._conn.fileno(), self._on_readable, loop, self._conn)
            self._listening = loop
        else:
            self._listening = threading.Thread(target=self._read, args=(self._conn,),
                                               daemon=True, name="coldset-writer-replies")
            self._listening.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Let the child finish what it was given, then end it."""
        if self._proc is None:
            return
        with self._state_lock:
            self._stopping = True       # and no restart from now on
        self._wake.set()
        restarter = self._restarter
        if restarter is not None and restarter is not threading.current_thread():
            restarter.join(timeout)
        if self._stopped is None:
            self._stopping = True
            with contextlib.suppress(WriterStopped):
                self._send(("stop",))
        if isinstance(self._listening, asyncio.AbstractEventLoop) and self._conn is not None:
            with contextlib.suppress(Exception):     # the loop may be closing
                self._listening.remove_reader(self._conn.fileno())
        self._proc.join(timeout)
        if self._proc.is_alive():
            self._kill()
        self._fail_all("the server is shutting down")
        if self._conn is not None:
            self._conn.close()

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    def _kill(self) -> None:
        if self._proc is not None and self._proc.is_alive():
            self._proc.terminate()
            self._proc.join(5)
        self._stopped = self._stopped or "the writer process was ended"

    # ------------------------------------------------------------------ commands

    def submit(self, command: CommandInput, actor_pin: str | None = None) -> Future[Result]:
        fut: Future[Result] = Future()
        req = next(self._ids)
        self._waiters[req] = fut
        try:
            self._send(("cmds", [(req, command, actor_pin)]))
        except WriterStopped as e:
            self._waiters.pop(req, None)
            fut.set_exception(e)
        return fut

    def execute(self, command: CommandInput, actor_pin: str | None = None) -> Result:
        return self.submit(command, actor_pin).result()

    async def run(self, command: CommandInput, actor_pin: str | None = None) -> Result:
        """Queue the command in this event loop's outbox; the loop sends the whole outbox
        in one message when it next comes round (one write for the requests that
        arrived together, not one each)."""
        if self._stopped is not None:
            raise WriterStopped(self._stopped)
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[Result] = loop.create_future()
        req = next(self._ids)
        self._waiters[req] = (loop, fut)
        box = self._outboxes.get(loop)
        if box is None:
            box = self._outboxes[loop] = []
            loop.call_soon(self._send_outbox, loop)
        box.append((req, command, actor_pin))
        return await fut

    async def health(self, timeout: float = 5.0) -> dict[str, Any]:
        """The writer process's own figures (pid, batches, commands waiting, alert checks);
        raises :class:`WriterStopped` if it is gone or does not answer in ``timeout`` s."""
        if self._stopped is not None:
            raise WriterStopped(self._stopped)
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[Any] = loop.create_future()
        req = next(self._ids)
        self._waiters[req] = (loop, fut)
        try:
            self._send(("stats", req))
            found = await asyncio.wait_for(fut, timeout)
        except (WriterStopped, TimeoutError) as e:
            self._waiters.pop(req, None)
            raise WriterStopped(str(e) or "the writer process does not answer") from None
        return {"writer": "process", **found, "restarts": self.restarts,
                "last_exit": self.last_exit}

    def _send_outbox(self, loop: asyncio.AbstractEventLoop) -> None:
        box = self._outboxes.pop(loop, [])
        try:
            self._send(("cmds", box))
        except WriterStopped as e:
            for req, _c, _p in box:
                waiter = self._waiters.pop(req, None)
                if waiter is not None and not waiter[1].done():
                    waiter[1].set_exception(WriterStopped(str(e)))

    def _send(self, msg: tuple[Any, ...]) -> None:
        if self._stopped is not None:
            raise WriterStopped(self._stopped)
        data = pickle.dumps(msg, _PICKLE)
        conn = self._conn
        try:
            with self._send_lock:
                conn.send_bytes(data)  # type: ignore[union-attr]
        except (OSError, ValueError):
            self._writer_died(conn)
            raise WriterStopped(self._stopped or "the writer process stopped") from None

    def _read(self, conn: Connection) -> None:
        """The reader thread (no event loop to read on), for one child's connection."""
        while True:
            try:
                answers = pickle.loads(conn.recv_bytes())
            except (EOFError, OSError):
                break
            self._deliver(answers, None)
        self._writer_died(conn)

    def _on_readable(self, loop: asyncio.AbstractEventLoop, conn: Connection) -> None:
        """The event loop's reader: every answer already here, without blocking."""
        try:
            while conn.poll():
                self._deliver(pickle.loads(conn.recv_bytes()), loop)
        except (EOFError, OSError):
            with contextlib.suppress(Exception):
                loop.remove_reader(conn.fileno())
            self._writer_died(conn)

    def _deliver(self, answers: list[tuple[str, int, Any]],
                 here: asyncio.AbstractEventLoop | None) -> None:
        """Settle each answer's waiter: at once on ``here`` (the loop we run on), else one
        wake-up of each other event loop per batch."""
        by_loop: dict[asyncio.AbstractEventLoop, list[Any]] = {}
        for kind, req, payload in answers:
            waiter = self._waiters.pop(req, None)
            if isinstance(waiter, Future):
                if kind == "ok":
                    waiter.set_result(payload)
                else:
                    waiter.set_exception(payload)
            elif waiter is not None:
                by_loop.setdefault(waiter[0], []).append((waiter[1], kind, payload))
        for loop, items in by_loop.items():
            if loop is here:
                _settle(items)
            else:
                _call_in(loop, _settle, items)

    def _writer_died(self, conn: Connection | None) -> None:
        """``conn``'s child is gone (said by whoever noticed first; an old child's
        connection, noticed late, says nothing about the one running now)."""
        with self._state_lock:
            if self._stopped is not None or conn is not self._conn:
                return
            if self._stopping:
                self._stopped = "the server is shutting down"
                return
            proc = self._proc
            if proc is not None:
                proc.join(0.1)      # for its exit code; a dead child is reaped at once
            code = proc.exitcode if proc is not None else None
            self.last_exit = f"exit code {code}"
            restarting = self.restart_delays is not None
            self._stopped = (
                f"the writer process stopped ({self.last_exit}): nothing can be recorded "
                + ("until it is running again; the server is restarting it, which takes a "
                   "few seconds" if restarting else "until coldset serve is restarted")
                + ". A command sent just before may or may not have been recorded; resend "
                "it with the same idempotency key after the restart.")
            log.critical(self._stopped)
            if restarting:
                self._restarter = threading.Thread(target=self._restart, daemon=True,
                                                   name="coldset-writer-restart")
                self._restarter.start()
        self._fail_all(self._stopped)

    def _restart(self) -> None:
        """Start a new child until one is ready (the restart thread); then take commands."""
        assert self.restart_delays is not None
        dead = self._conn           # the stopped child's connection: closed once replaced
        for attempt in itertools.count():
            delays = self.restart_delays
            delay = delays[min(attempt, len(delays) - 1)] if delays else 0.0
            self._wake.wait(delay)
            with self._state_lock:
                if self._stopping:
                    return
                failed = self._conn if self._conn is not dead else None
                self._spawn()
            if failed is not None:      # the last try's, which never got ready
                with contextlib.suppress(OSError):
                    failed.close()
            try:
                self.wait_ready()
            except (WriterStopped, OSError, ValueError) as e:   # (closed by stop())
                self.last_exit = str(e)
                log.error("restarting the writer process failed (try %d): %s", attempt + 1, e)
                continue
            with self._state_lock:
                if self._stopping:
                    self._kill()
                    return
                self.restarts += 1
                listening = self._listening
                if isinstance(listening, asyncio.AbstractEventLoop):
                    try:
                        listening.call_soon_threadsafe(self._listen_again, listening, dead)
                    except RuntimeError:        # the loop has closed: the server is ending
                        return
                else:
                    if dead is not None:    # its reader thread ended on end-of-file
                        with contextlib.suppress(OSError):
                            dead.close()
                    self._listening = None
                    self.listen()
                    self._stopped = None
            log.warning("the writer process is running again (pid %s, restart %d)",
                        self._proc.pid, self.restarts)
            return

    def _listen_again(self, loop: asyncio.AbstractEventLoop, old: Connection | None) -> None:
        """On the event loop: forget the dead child's connection, read the new one's
        answers, then let commands through."""
        if old is not None:
            with contextlib.suppress(Exception):
                loop.remove_reader(old.fileno())
            with contextlib.suppress(OSError):
                old.close()
        with self._state_lock:
            if self._stopping or self._conn is None:
                return
            loop.add_reader(self._conn.fileno(), self._on_readable, loop, self._conn)
            self._stopped = None

    def _fail_all(self, why: str) -> None:
        for req in list(self._waiters):
            waiter = self._waiters.pop(req, None)
            if isinstance(waiter, Future):
                if not waiter.done():
                    waiter.set_exception(WriterStopped(why))
            elif waiter is not None:
                _call_in(waiter[0], _settle, [(waiter[1], "exc", WriterStopped(why))])


def _call_in(loop: asyncio.AbstractEventLoop, fn: Callable[..., None], *args: Any) -> None:
    with contextlib.suppress(RuntimeError):   # that loop has closed: nobody waits
        loop.call_soon_threadsafe(fn, *args)


def _settle(items: list[tuple[asyncio.Future[Result], str, Any]]) -> None:
    for fut, kind, payload in items:
        if fut.done():      # the request was cancelled (the client went away)
            continue
        if kind == "ok":
            fut.set_result(payload)
        else:
            fut.set_exception(payload)


# ---------------------------------------------------------------------- the child

def _child_main(home: str, database_url: str, conn: Connection,
                alert_interval: float | None) -> None:
    """The writer process: open the install, load it, then run what the parent sends."""
    # Ctrl-C reaches the whole process group; the parent ends the child in order.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    from coldset.clock import SystemClock
    from coldset.config import Settings
    from coldset.install import open_install
    from coldset.service.core import CustodyService
    from coldset.service.web_support import AlertTimer, CommandQueue, warm_up

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s: %(message)s")
    try:
        install = open_install(Settings(home=Path(home), database_url=database_url),
                               background_checkpoints=True)
        custody = CustodyService(install.store, install.ledger, SystemClock(), pins=install.pins)
        sizes = warm_up(custody)
    except Exception as e:  # said to the parent, which refuses to start the server
        conn.send_bytes(pickle.dumps(("error", str(e) or type(e).__name__), _PICKLE))
        return
    gc.collect()
    gc.freeze()     # the loaded state: out of the collector's sight (see serve)
    answers: list[tuple[str, int, Any]] = []    # the batch being finished (writer thread)
    send_lock = threading.Lock()

    def send(data: bytes) -> None:
        try:
            with send_lock:
                conn.send_bytes(data)
        except (OSError, ValueError):
            pass            # the parent is gone; the loop below ends on EOF

    def flush() -> None:    # after every batch: its answers in one message
        if answers:
            data = pickle.dumps(answers, _PICKLE)
            answers.clear()
            send(data)

    queue = CommandQueue(custody, after_batch=flush)
    timer = AlertTimer(custody, alert_interval) if alert_interval else None
    pins = ThreadPoolExecutor(max_workers=4, thread_name_prefix="coldset-pins")

    def reply(req: int) -> Callable[[Future[Result]], None]:
        def done(fut: Future[Result]) -> None:   # runs on the writer thread
            exc = fut.exception()
            answers.append(("ok", req, fut.result()) if exc is None
                           else ("exc", req, _portable(exc)))
        return done

    def warm_then_submit(req: int, command: CommandInput, pin: str | None) -> None:
        try:
            queue.warm_pins(command, pin)
        except Exception:   # the writer checks the PINs again and decides
            log.exception("checking PINs ahead of the writer failed")
        queue.submit(command, pin, done=reply(req))

    conn.send_bytes(pickle.dumps(("ready", sizes), _PICKLE))
    if timer is not None:
        timer.start()
    try:
        while True:
            try:
                msg = pickle.loads(conn.recv_bytes())
            except (EOFError, OSError):
                break
            if msg[0] == "stop":
                break
            if msg[0] == "stats":
                send(pickle.dumps([("ok", msg[1], {
                    "pid": os.getpid(), **queue.stats(),
                    "alert_checks": timer.ticks if timer is not None else None})], _PICKLE))
                continue
            ready = []
            for req, command, pin in msg[1]:
                if queue.needs_pin_check(command, pin):   # argon2 first, off the writer
                    pins.submit(warm_then_submit, req, command, pin)
                else:
                    ready.append((command, pin, reply(req)))
            queue.submit_all(ready)
    finally:
        if timer is not None:
            timer.stop()
        pins.shutdown(wait=True)
        queue.stop()
        install.close()
        conn.close()


def _portable(exc: BaseException) -> BaseException:
    """``exc`` if it survives pickling, else a RuntimeError with its text."""
    try:
        pickle.loads(pickle.dumps(exc, _PICKLE))
        return exc
    except Exception:
        return RuntimeError(f"{type(exc).__name__}: {exc}")
