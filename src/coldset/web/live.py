"""Live board updates: server-sent events that say "the board changed".

How the web process learns of new entries: the writer process answers every batch
with one frame on the socket the web process reads on its event loop
(:mod:`coldset.service.writer_process`). Every answer that carries a new log entry
(a recorded command, allowed or refused, or a ``check_alerts`` the timer made)
names its production; :class:`BoardEvents` wakes the streams of that production
there and then. No stream polls the database for it: a stream that heard nothing
for :data:`HEARTBEAT` seconds reads the log size once (a single indexed read), which
also catches entries a process other than this server's writer appended, and sends
a ``ping`` so the tablet knows the server is still there.

Each event carries only the log size (``{"version": n}``); the page then fetches
``/board/fragment`` with its own session, so nothing a stream sends depends on who
is listening. At most one ``board`` event per :data:`MIN_GAP` seconds per stream:
a busy set costs each tablet at most one render a second.

Streams end when the server stops: :class:`Server` (what ``coldset serve`` runs)
closes every stream first, so uvicorn's graceful shutdown does not wait for them.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
from collections.abc import AsyncIterator, Callable, Iterable
from typing import Any

import uvicorn
from starlette.responses import StreamingResponse

#: seconds without news after which a stream checks the log size and sends a ping
HEARTBEAT = 15.0
#: seconds at least between two ``board`` events on one stream
MIN_GAP = 1.0
#: how long a tablet waits before it reconnects after the stream broke (milliseconds)
RETRY_MS = 3000
#: open streams for the whole server, and for one login
MAX_STREAMS = 200
MAX_STREAMS_PER_LOGIN = 8


class BoardEvents:
    """Who is waiting for which production's board, and the signal that wakes them.

    ``changed`` is called on the server's event loop (from any other thread it hands
    itself to that loop). Waiting costs nothing: one :class:`asyncio.Event` per
    production, replaced each time it fires.
    """

    def __init__(
        self, max_streams: int = MAX_STREAMS, max_per_login: int = MAX_STREAMS_PER_LOGIN
    ) -> None:
        self.max_streams, self.max_per_login = max_streams, max_per_login
        self._events: dict[str, asyncio.Event] = {}
        self._seq: dict[str, int] = {}
        self._closing: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._lock = threading.Lock()
        self._per_login: dict[str, int] = {}
        self.open = 0
        self.closed = False

    # ------------------------------------------------------------------ signals

    def seq(self, production: str) -> int:
        """How many times ``production`` changed since the server started."""
        return self._seq.get(production, 0)

    def changed(self, productions: Iterable[str]) -> None:
        loop = self._loop
        if loop is None:  # nobody has listened yet: only count
            for p in productions:
                self._seq[p] = self._seq.get(p, 0) + 1
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is not loop:
            prods = list(productions)
            loop.call_soon_threadsafe(self.changed, prods)
            return
        for p in productions:
            self._seq[p] = self._seq.get(p, 0) + 1
            ev = self._events.pop(p, None)
            if ev is not None:
                ev.set()

    def close(self) -> None:
        """End every stream (the server is stopping); new ones end at once."""
        self.closed = True
        loop, closing = self._loop, self._closing
        if loop is not None and closing is not None:
            loop.call_soon_threadsafe(closing.set)

    def _bind(self) -> asyncio.Event:
        self._loop = asyncio.get_running_loop()
        if self._closing is None:
            self._closing = asyncio.Event()
            if self.closed:
                self._closing.set()
        return self._closing

    async def wait(self, production: str, seen: int, timeout: float) -> str:
        """ "changed" (at once when it changed after ``seen``), "quiet" (``timeout``
        passed) or "closing"."""
        closing = self._bind()
        if self.closed:
            return "closing"
        if self.seq(production) != seen:
            return "changed"
        ev = self._events.get(production)
        if ev is None:
            ev = self._events[production] = asyncio.Event()
        waits = (asyncio.ensure_future(ev.wait()), asyncio.ensure_future(closing.wait()))
        try:
            done, _ = await asyncio.wait(
                waits, timeout=timeout, return_when=asyncio.FIRST_COMPLETED
            )
        finally:
            for w in waits:
                w.cancel()
        if self.closed:
            return "closing"
        return "changed" if waits[0] in done else "quiet"

    async def pause(self, seconds: float) -> bool:
        """Sleep ``seconds``; True when the server began stopping meanwhile."""
        closing = self._bind()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(closing.wait(), seconds)
        return self.closed

    # ------------------------------------------------------------------ limits

    def acquire(self, login: str) -> str | None:
        """Count a new stream in; None, or why it is refused."""
        with self._lock:
            if self.closed:
                return "The server is stopping."
            if self.open >= self.max_streams:
                return "Too many tablets are following the board right now."
            if self._per_login.get(login, 0) >= self.max_per_login:
                return "This login already follows the board on too many screens."
            self.open += 1
            self._per_login[login] = self._per_login.get(login, 0) + 1
            return None

    def release(self, login: str) -> None:
        with self._lock:
            self.open -= 1
            n = self._per_login.get(login, 1) - 1
            if n:
                self._per_login[login] = n
            else:
                self._per_login.pop(login, None)


def event(name: str, data: dict[str, Any]) -> bytes:
    return f"event: {name}\ndata: {json.dumps(data)}\n\n".encode()


async def board_stream(
    hub: BoardEvents, login: str, production: str, version: Callable[[], Any]
) -> AsyncIterator[bytes]:
    """The stream of one tablet's board: ``board`` when the log grew, ``ping`` when quiet.

    ``version``: an async callable giving the production's log size. The stream was
    counted in by :meth:`BoardEvents.acquire`; :class:`EventStream` counts it out.
    """
    loop = asyncio.get_running_loop()
    seen = hub.seq(production)
    last = await version()
    yield f"retry: {RETRY_MS}\n".encode() + event("board", {"version": last})
    sent_at = loop.time()
    while True:
        why = await hub.wait(production, seen, HEARTBEAT)
        if why == "closing":
            return
        if why == "changed":
            gap = MIN_GAP - (loop.time() - sent_at)
            if gap > 0 and await hub.pause(gap):  # a burst: one event for all of it
                return
        seen = hub.seq(production)  # before the read: a change after it wakes us
        now = await version()
        if now != last:
            last, sent_at = now, loop.time()
            yield event("board", {"version": now})
        elif why == "quiet":
            yield event("ping", {"version": now})


class EventStream(StreamingResponse):
    """A ``text/event-stream`` response that counts its stream out however it ends
    (finished, the client went away, cancelled), even when it never started."""

    def __init__(self, body: AsyncIterator[bytes], release: Callable[[], None]) -> None:
        super().__init__(
            body,
            media_type="text/event-stream",
            headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
        )
        self._release = release

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            self._release()


class Server(uvicorn.Server):
    """uvicorn's server, which first ends the app's live streams when it stops.

    uvicorn's graceful shutdown waits for every response to finish, and a stream
    never finishes by itself: without this, a server with tablets following the board
    would not stop (or only after ``timeout_graceful_shutdown``).
    """

    async def shutdown(self, sockets: Any = None) -> None:
        coldset = getattr(getattr(self.config.app, "state", None), "coldset", None)
        hub = getattr(coldset, "board_events", None)
        if hub is not None:
            hub.close()
        await super().shutdown(sockets)
