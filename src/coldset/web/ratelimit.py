"""How many anonymous concerns the form takes, per client address and per production.

Every concern is a permanent signed entry that can hold up issuing until it is
answered, and the form needs no login, so one script could fill a production's
log with them. Two token buckets on the app's (injected) clock decide: one per
(production, client address) and one per production. A concern goes through
only when both have a token, and takes one from each; a submission that wrote
nothing (rejected, or a resend of one already recorded) gives them back.
Defaults: 5 a minute from one address (several people on a set's shared Wi-Fi
can each send one at once), 30 a minute to one production.

What was held back is counted per production for an hour, so the Safety page can
say so (counts only: the addresses themselves are never shown; an anonymous
sender stays anonymous). This is kept in the web process's memory: a restart of
the server starts the count again; each held-back minute is also logged as a
warning by the ``coldset.web`` logger.
"""

from __future__ import annotations

import logging
import math
import threading
from collections import deque
from dataclasses import dataclass

from coldset.clock import Clock

log = logging.getLogger("coldset.web")

HOUR = 3600.0
#: distinct addresses remembered per production and minute (beyond: "at least")
_ADDRESSES_PER_MINUTE = 1000
#: buckets kept before full (idle) ones are dropped
_PRUNE_ABOVE = 2000
_EPS = 1e-9


@dataclass(frozen=True)
class ConcernLimits:
    """``per_address`` and ``per_production`` concerns per ``period`` seconds; each is
    also the burst (that many at once)."""

    per_address: int = 5
    per_production: int = 30
    period: float = 60.0

    def __post_init__(self) -> None:
        if self.per_address < 1 or self.per_production < 1:
            raise ValueError("concern limits must allow at least 1 concern per period")
        if not self.period > 0:
            raise ValueError("the concern limits' period must be positive")


@dataclass(frozen=True)
class HeldBack:
    """Concern submissions held back in the last hour on one production."""

    count: int
    addresses: int
    more_addresses: bool  # more distinct addresses than were remembered


@dataclass(frozen=True)
class Wait:
    """A concern held back: the seconds until it can go through, and whether the
    production's limit (not the sender's address's) held it."""

    seconds: float
    production_wide: bool


@dataclass
class _Bucket:
    tokens: float
    at: float


@dataclass
class _Minute:
    minute: int
    count: int
    addresses: set[int]
    overflow: bool = False


class ConcernLimiter:
    """Token buckets for the concern form; thread-safe; times from ``clock``."""

    def __init__(self, clock: Clock, limits: ConcernLimits | None = None) -> None:
        self.clock = clock
        self.limits = limits or ConcernLimits()
        self._lock = threading.Lock()
        self._buckets: dict[tuple[str, str | None], _Bucket] = {}
        self._held: dict[str, deque[_Minute]] = {}
        self._warned: dict[str, int] = {}

    def _now(self) -> float:
        return self.clock.now().timestamp()

    def _level(self, key: tuple[str, str | None], capacity: int, now: float) -> float:
        b = self._buckets.get(key)
        if b is None:
            return float(capacity)
        rate = capacity / self.limits.period
        return min(float(capacity), b.tokens + max(0.0, now - b.at) * rate)

    def take(self, production: str, address: str) -> Wait | None:
        """Take one concern for ``address`` on ``production``: None when it may go
        through, otherwise how long to wait (and it is counted as held back)."""
        lim = self.limits
        with self._lock:
            now = self._now()
            akey, pkey = (production, address), (production, None)
            a = self._level(akey, lim.per_address, now)
            p = self._level(pkey, lim.per_production, now)
            if a >= 1 - _EPS and p >= 1 - _EPS:
                self._buckets[akey] = _Bucket(a - 1, now)
                self._buckets[pkey] = _Bucket(p - 1, now)
                if len(self._buckets) > _PRUNE_ABOVE:
                    self._prune(now)
                return None
            wait = max(
                (1 - a) * lim.period / lim.per_address if a < 1 - _EPS else 0.0,
                (1 - p) * lim.period / lim.per_production if p < 1 - _EPS else 0.0,
            )
            self._record(production, address, now)
            return Wait(wait, production_wide=a >= 1 - _EPS)

    def give_back(self, production: str, address: str) -> None:
        """A submission that wrote nothing returns what it took."""
        lim = self.limits
        with self._lock:
            now = self._now()
            for key, cap in (
                ((production, address), lim.per_address),
                ((production, None), lim.per_production),
            ):
                if key in self._buckets:
                    self._buckets[key] = _Bucket(
                        min(float(cap), self._level(key, cap, now) + 1), now
                    )

    def held_back(self, production: str) -> HeldBack:
        """What was held back on ``production`` in the last hour."""
        with self._lock:
            minutes = self._trim(production, self._now())
            addresses: set[int] = set()
            for m in minutes:
                addresses |= m.addresses
            return HeldBack(
                sum(m.count for m in minutes), len(addresses), any(m.overflow for m in minutes)
            )

    def _record(self, production: str, address: str, now: float) -> None:
        minute = int(now // 60)
        minutes = self._trim(production, now)
        if not minutes or minutes[-1].minute != minute:
            minutes.append(_Minute(minute, 0, set()))
        m = minutes[-1]
        m.count += 1
        if len(m.addresses) < _ADDRESSES_PER_MINUTE:
            m.addresses.add(hash(address))
        else:
            m.overflow = True
        if self._warned.get(production) != minute:
            self._warned[production] = minute
            log.warning(
                "concern form of %s: submissions held back by the rate limit (%d in the last hour)",
                production,
                sum(x.count for x in minutes),
            )

    def _trim(self, production: str, now: float) -> deque[_Minute]:
        minutes = self._held.setdefault(production, deque())
        oldest = int((now - HOUR) // 60) + 1
        while minutes and minutes[0].minute < oldest:
            minutes.popleft()
        return minutes

    def _prune(self, now: float) -> None:
        """Drop buckets that are full again: a fresh one is the same."""
        lim = self.limits
        for key in list(self._buckets):
            cap = lim.per_address if key[1] is not None else lim.per_production
            if self._level(key, cap, now) >= cap - _EPS:
                del self._buckets[key]


def retry_after(seconds: float) -> int:
    """Whole seconds for a Retry-After header (at least 1)."""
    return max(1, math.ceil(seconds - _EPS))
