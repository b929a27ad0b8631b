"""Full verification of a stored log, streaming.

Re-hashes every entry, rebuilds every level of the tree and compares it with
every stored node row, checks every checkpoint's signature and text, and checks
that every checkpoint's root is the root of the entries before its size (which
makes consecutive checkpoints consistent: each is a prefix of the same entries).

Memory is O(log n): one block of entries, and at most 256 hashes per level.
The hot loop reads entries through the DB-API cursor directly (one tuple per
row, no ORM row objects): at a million entries that overhead is the difference.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection

from coldset.ledger import merkle
from coldset.ledger.checkpoint import Checkpoint
from coldset.ledger.errors import LedgerError
from coldset.ledger.log import CHUNK, H, UnknownLog
from coldset.ledger.note import Verifier, open_note

BLOCK = 4096


@dataclass(frozen=True)
class Problem:
    kind: str  # "log" | "entry" | "node" | "root" | "checkpoint"
    message: str
    index: int | None = None  # entry index, or node index at ``level``
    level: int | None = None
    seq: int | None = None  # checkpoint sequence number

    def as_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"kind": self.kind, "message": self.message}
        for k in ("index", "level", "seq"):
            v = getattr(self, k)
            if v is not None:
                d[k] = v
        return d


@dataclass
class VerifyReport:
    origin: str
    size: int = 0
    entries: int = 0
    node_rows: int = 0
    checkpoints: int = 0
    seconds: float = 0.0
    problems: list[Problem] = field(default_factory=list)
    root: bytes = b""

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict[str, Any]:
        import base64

        return {
            "origin": self.origin,
            "ok": self.ok,
            "size": self.size,
            "entries_checked": self.entries,
            "node_rows_checked": self.node_rows,
            "checkpoints_checked": self.checkpoints,
            "root": base64.b64encode(self.root).decode() if self.root else None,
            "seconds": round(self.seconds, 3),
            "problems": [p.as_dict() for p in self.problems],
        }


class _Cursor:
    """Raw DB-API access with the right placeholder style for the dialect."""

    def __init__(self, conn: Connection) -> None:
        self.raw = conn.connection.driver_connection
        self.ph = "?" if conn.dialect.paramstyle == "qmark" else "%s"

    def q(self, sql: str) -> str:
        return sql.replace("?", self.ph)

    def one(self, sql: str, *args: Any) -> Any:
        cur = self.raw.cursor()
        cur.execute(self.q(sql), args)
        row = cur.fetchone()
        cur.close()
        return row

    def stream(self, sql: str, *args: Any, block: int = BLOCK) -> Iterator[list[Any]]:
        cur = self.raw.cursor()
        cur.execute(self.q(sql), args)
        while True:
            rows = cur.fetchmany(block)
            if not rows:
                break
            yield rows
        cur.close()


def verify_log(
    conn: Connection,
    origin: str,
    verifier: Verifier,
    *,
    progress: Callable[[int, int], None] | None = None,
    max_problems: int = 20,
) -> VerifyReport:
    """Verify log ``origin`` stored behind ``conn`` against ``verifier``'s key."""
    started = time.perf_counter()
    rep = VerifyReport(origin)
    db = _Cursor(conn)
    row = db.one("SELECT id, size, root FROM ledger_logs WHERE origin = ?", origin)
    if row is None:
        raise UnknownLog(f"no log named {origin!r}")
    log_id, size, stored_root = row[0], int(row[1]), bytes(row[2])
    rep.size = size

    counts: dict[str, int] = {}

    def problem(p: Problem) -> None:
        # Keep going (a later problem may be the more telling one) but keep at
        # most ``max_problems`` of each kind.
        counts[p.kind] = counts.get(p.kind, 0) + 1
        if counts[p.kind] <= max_problems:
            rep.problems.append(p)

    _verify(db, log_id, origin, size, stored_root, verifier, rep, problem, progress)
    # The first problem named is the most specific: a bad entry explains the
    # nodes and checkpoint roots above it.
    order = {"log": 0, "entry": 1, "node": 2, "root": 3, "checkpoint": 4}
    rep.problems.sort(key=lambda p: order[p.kind])
    rep.seconds = time.perf_counter() - started
    return rep


def _verify(
    db: _Cursor, log_id: int, origin: str, size: int, stored_root: bytes,
    verifier: Verifier, rep: VerifyReport, problem: Callable[[Problem], None],
    progress: Callable[[int, int], None] | None,
) -> None:
    # -- shape: entry count and index range, node row count --------------------
    n, lo, hi = db.one(
        "SELECT count(*), min(idx), max(idx) FROM ledger_entries WHERE log_id = ?", log_id
    )
    if n != size or (size and (lo != 0 or hi != size - 1)):
        problem(Problem("log", f"the log says it has {size} entries but the store holds {n} "
                        f"(indices {lo}..{hi}): entries were added, dropped or renumbered"))
    want_rows = sum(-(-(size >> lvl) // CHUNK) for lvl in range(size.bit_length()))
    (have_rows,) = db.one("SELECT count(*) FROM ledger_nodes WHERE log_id = ?", log_id)
    if have_rows != want_rows:
        problem(Problem("log", f"{have_rows} stored node rows where a tree of {size} entries "
                        f"has {want_rows}: node rows were added or removed"))

    # -- checkpoints: signature, text, order; roots are checked while streaming --
    cps = _checkpoints(db, log_id, origin, size, verifier, rep, problem)
    next_cp = next(cps, None)

    # -- the stream -------------------------------------------------------------
    levels = _Levels(db, log_id, rep, problem)
    sha = hashlib.sha256
    done = 0
    last_report = 0.0
    for rows in db.stream(
        "SELECT data FROM ledger_entries WHERE log_id = ? ORDER BY idx", log_id
    ):
        hashes = [sha(b"\x00" + r[0]).digest() for r in rows]
        # Split the block where checkpoints fall, to check each root in passing.
        start = 0
        while next_cp is not None and next_cp[1] <= done + len(hashes):
            cut = next_cp[1] - done
            if cut > start:
                levels.push(0, hashes[start:cut])
            start = max(start, cut)
            _check_cp_root(next_cp, levels.root(), problem)
            next_cp = next(cps, None)
        if start < len(hashes):
            levels.push(0, hashes[start:] if start else hashes)
        done += len(hashes)
        rep.entries = done
        if progress is not None:
            now = time.perf_counter()
            if now - last_report > 0.1:
                progress(done, size)
                last_report = now
    while next_cp is not None:  # checkpoints beyond the entries we have
        if next_cp[1] == done:
            _check_cp_root(next_cp, levels.root(), problem)
        else:
            problem(Problem("checkpoint", f"checkpoint {next_cp[0]} is for size {next_cp[1]} "
                            f"but only {done} entries are stored: entries are missing",
                            seq=next_cp[0]))
        next_cp = next(cps, None)
    levels.finish()
    rep.root = levels.root() if done else merkle.EMPTY_ROOT
    if done == size and rep.root != stored_root:
        problem(Problem("root", "the stored tree root differs from the root of the entries"))
    if progress is not None:
        progress(done, size)


def _check_cp_root(cp: tuple[int, int, bytes], root: bytes,
                   problem: Callable[[Problem], None]) -> None:
    seq, cp_size, cp_root = cp
    if cp_root != root:
        problem(Problem("checkpoint", f"checkpoint {seq} (size {cp_size}): its signed root is "
                        f"not the root of entries 0..{cp_size - 1}", seq=seq))


def _checkpoints(
    db: _Cursor, log_id: int, origin: str, size: int, verifier: Verifier,
    rep: VerifyReport, problem: Callable[[Problem], None],
) -> Iterator[tuple[int, int, bytes]]:
    """Yield (seq, size, signed root) of every checkpoint whose note is sound."""
    expect_seq, prev_size, last_size = 0, 0, 0
    for rows in db.stream(
        "SELECT seq, size, root, note FROM ledger_checkpoints WHERE log_id = ? ORDER BY seq",
        log_id, block=512,
    ):
        for seq, cp_size, cp_root, note in rows:
            rep.checkpoints += 1
            if seq != expect_seq:
                problem(Problem("checkpoint", f"checkpoint {expect_seq} is missing (next stored "
                                f"is {seq})", seq=expect_seq))
            expect_seq = seq + 1
            try:
                opened = open_note(note, [verifier])
                cp = Checkpoint.parse(opened.text)
            except LedgerError as e:
                problem(Problem("checkpoint", f"checkpoint {seq}: {e}", seq=seq))
                continue
            if cp.origin != origin:
                problem(Problem("checkpoint", f"checkpoint {seq} names log {cp.origin!r}, "
                                f"not {origin!r}", seq=seq))
                continue
            if cp.size != cp_size or cp.root != bytes(cp_root):
                problem(Problem("checkpoint", f"checkpoint {seq}: stored size/root columns "
                                "differ from its signed text", seq=seq))
            if cp.size < prev_size:
                problem(Problem("checkpoint", f"checkpoint {seq} (size {cp.size}) is smaller than "
                                f"the one before it ({prev_size})", seq=seq))
                continue
            prev_size = last_size = cp.size
            yield seq, cp.size, cp.root
    if size and last_size != size:
        problem(Problem("checkpoint", f"the latest checkpoint covers {last_size} entries but the "
                        f"log has {size}: the newest entries are not signed"))


class _Levels:
    """Per-level buffers of recomputed hashes, compared a stored row at a time."""

    def __init__(self, db: _Cursor, log_id: int, rep: VerifyReport,
                 problem: Callable[[Problem], None]) -> None:
        self.db, self.log_id, self.rep, self.problem = db, log_id, rep, problem
        self.buf: list[list[bytes]] = []  # level -> hashes of the open row
        self.chunk: list[int] = []  # level -> index of the open row
        self.carry: list[bytes | None] = []  # level -> unpaired last hash
        self.sql = db.q("SELECT hashes FROM ledger_nodes WHERE log_id = ? AND level = ? "
                        "AND chunk = ?")
        self.cur = db.raw.cursor()

    def _level(self, level: int) -> None:
        while len(self.buf) <= level:
            self.buf.append([])
            self.chunk.append(0)
            self.carry.append(None)

    def push(self, level: int, hashes: list[bytes]) -> None:
        sha = hashlib.sha256
        while hashes:
            self._level(level)
            buf = self.buf[level]
            buf.extend(hashes)
            while len(buf) >= CHUNK:
                self._compare(level, buf[:CHUNK])
                del buf[:CHUNK]
                self.chunk[level] += 1
            carry = self.carry[level]
            if carry is not None:
                hashes = [carry, *hashes]
            if len(hashes) % 2:
                self.carry[level] = hashes[-1]
                hashes = hashes[:-1]
            else:
                self.carry[level] = None
            if not hashes:
                return
            it = iter(hashes)
            hashes = [sha(b"\x01" + a + b).digest() for a, b in zip(it, it, strict=True)]
            level += 1

    def root(self) -> bytes:
        parts = [c for c in reversed(self.carry) if c is not None]
        return merkle.fold(parts)

    def finish(self) -> None:
        for level, buf in enumerate(self.buf):
            if buf:
                self._compare(level, buf)

    def _compare(self, level: int, hashes: list[bytes]) -> None:
        chunk = self.chunk[level]
        self.cur.execute(self.sql, (self.log_id, level, chunk))
        row = self.cur.fetchone()
        self.rep.node_rows += 1
        got = b"".join(hashes)
        stored = bytes(row[0]) if row is not None else b""
        if stored == got:
            return
        base = chunk * CHUNK
        for i, h in enumerate(hashes):
            if stored[i * H : (i + 1) * H] != h:
                idx = base + i
                if level == 0:
                    self.problem(Problem(
                        "entry", f"entry {idx} does not match its stored leaf hash: the entry "
                        f"or stored node (level 0, index {idx}) was changed", index=idx, level=0))
                else:
                    self.problem(Problem(
                        "node", f"stored node (level {level}, index {idx}) differs from the hash "
                        "recomputed from the entries", index=idx, level=level))
                return
        self.problem(Problem("node", f"stored node row (level {level}, chunk {chunk}) has "
                             f"{len(stored) // H} hashes where {len(hashes)} were expected",
                             level=level))
