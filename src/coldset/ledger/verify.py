"""Full verification of a stored log, streaming and (on SQLite) on every core.

Re-hashes every entry, rebuilds every level of the tree and compares it with
every stored node row, checks every checkpoint's signature and text, and checks
that every checkpoint's root is the root of the entries before its size. The
last check makes consecutive checkpoints consistent: each is the root of a
prefix of the same entries, which is what an RFC 9162 consistency proof shows.

How the work is split. Leaf tasks take ranges of entries aligned to 2^15; each
reads its entries, hashes them, checks node rows of levels 0..7 (a row of 256
nodes at level L covers 2^(8+L) leaves, so those rows never cross a range) and
returns the level-8 hashes plus, for each checkpoint size s inside the range,
the hash of the incomplete subtree over leaves [s - s % 2^8, s). Checkpoint
tasks check signatures for ranges of checkpoints. The parent folds the level-8
hashes from level 8 up, checks those rows, and computes each checkpoint's root
as fold(perfect nodes above level 8, that tail hash). On SQLite the tasks run in
a process pool (one process per core); elsewhere, in order in this process.

Memory stays O(log n) per task: one block of entries and at most 256 hashes per
level; the parent holds the level-8 hashes of tasks not yet folded.
"""

from __future__ import annotations

import base64
import hashlib
import multiprocessing
import os
import sqlite3
import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from sqlalchemy import Connection

from coldset.ledger import merkle
from coldset.ledger.checkpoint import Checkpoint
from coldset.ledger.errors import LedgerError
from coldset.ledger.log import CHUNK, H, UnknownLog
from coldset.ledger.note import Verifier, open_note
from coldset.store.direct import RawDb

BLOCK = 4096
SPLIT = 8  # levels 0..SPLIT-1 are checked in leaf tasks, SPLIT and up in the parent
TASK_LEAVES = 1 << 17  # entries per leaf task (rounded to a multiple of 2^(SPLIT+7))
TASK_CHECKPOINTS = 2048  # checkpoints per signature task
PARALLEL_MIN = 1 << 16  # below this many entries, stay in one process


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
    workers: int = 1
    problems: list[Problem] = field(default_factory=list)
    root: bytes = b""

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict[str, Any]:
        return {
            "origin": self.origin,
            "ok": self.ok,
            "size": self.size,
            "entries_checked": self.entries,
            "node_rows_checked": self.node_rows,
            "checkpoints_checked": self.checkpoints,
            "root": base64.b64encode(self.root).decode() if self.root else None,
            "seconds": round(self.seconds, 3),
            "workers": self.workers,
            "problems": [p.as_dict() for p in self.problems],
        }


# -- database access without ORM rows (the hot loop reads a million of them) ------


_worker_db: RawDb | None = None


def _worker_init(path: str) -> None:
    global _worker_db
    raw = sqlite3.connect(f"file:{quote(path)}?mode=ro", uri=True, check_same_thread=False)
    _worker_db = RawDb(raw, "qmark")


def _db_for_task(db: RawDb | None) -> RawDb:
    if db is not None:
        return db
    assert _worker_db is not None, "worker not initialised"
    return _worker_db


# -- levels -------------------------------------------------------------------


class _Levels:
    """Per-level buffers of recomputed hashes, compared with stored rows as they fill.

    Handles levels ``base`` .. ``top - 1``; hashes paired up beyond ``top - 1``
    are collected in ``out`` instead. Rows are compared when full; the open
    (partial) rows are left in ``buf`` for the caller.
    """

    def __init__(
        self,
        db: RawDb,
        log_id: int,
        base: int,
        top: int | None,
        first: int,
        problems: list[Problem],
    ) -> None:
        self.db, self.log_id, self.base, self.top = db, log_id, base, top
        self.problems = problems
        self.buf: dict[int, list[bytes]] = {}
        self.chunk: dict[int, int] = {}
        self.carry: dict[int, bytes | None] = {}
        self.first = first  # index at level ``base`` of the first hash pushed
        self.out: list[bytes] = []
        self.rows = 0
        self.sql = db.q(
            "SELECT hashes FROM ledger_nodes WHERE log_id = ? AND level = ? AND chunk = ?"
        )
        self.cur = db.raw.cursor()

    def _open(self, level: int) -> None:
        if level not in self.buf:
            self.buf[level] = []
            self.chunk[level] = (self.first >> (level - self.base)) // CHUNK
            self.carry[level] = None

    def push(self, level: int, hashes: list[bytes]) -> None:
        sha = hashlib.sha256
        while hashes:
            if self.top is not None and level >= self.top:
                self.out.extend(hashes)
                return
            self._open(level)
            buf = self.buf[level]
            buf.extend(hashes)
            while len(buf) >= CHUNK:
                self.compare(level, self.chunk[level], buf[:CHUNK])
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

    def carries(self) -> list[bytes]:
        """The unpaired hashes, highest level first: the right border below ``top``."""
        return [c for lvl in sorted(self.carry, reverse=True) if (c := self.carry[lvl]) is not None]

    def compare(self, level: int, chunk: int, hashes: list[bytes]) -> None:
        self.cur.execute(self.sql, (self.log_id, level, chunk))
        row = self.cur.fetchone()
        self.rows += 1
        got = b"".join(hashes)
        stored = bytes(row[0]) if row is not None else b""
        if stored == got:
            return
        base = chunk * CHUNK
        for i, h in enumerate(hashes):
            if stored[i * H : (i + 1) * H] != h:
                idx = base + i
                if level == 0:
                    self.problems.append(
                        Problem(
                            "entry",
                            f"entry {idx} does not match its stored leaf hash: the entry "
                            f"or stored node (level 0, index {idx}) was changed",
                            index=idx,
                            level=0,
                        )
                    )
                else:
                    self.problems.append(
                        Problem(
                            "node",
                            f"stored node (level {level}, index {idx}) differs from the "
                            "hash recomputed from the entries",
                            index=idx,
                            level=level,
                        )
                    )
                return
        self.problems.append(
            Problem(
                "node",
                f"stored node row (level {level}, chunk {chunk}) has {len(stored) // H} "
                f"hashes where {len(hashes)} were expected",
                level=level,
            )
        )


# -- tasks (run in a worker process, or inline) ------------------------------------


@dataclass
class _LeafResult:
    start: int
    end: int
    entries: int
    rows: int
    upper: list[bytes]  # hashes at level SPLIT, in order
    tails: dict[int, bytes]  # checkpoint size -> hash of leaves [s - s % 2^SPLIT, s)
    open_rows: dict[int, tuple[int, list[bytes]]]  # level -> (chunk, hashes) still open
    problems: list[Problem]


def _leaf_task(db: RawDb | None, log_id: int, start: int, end: int, last: bool) -> _LeafResult:
    d = _db_for_task(db)
    problems: list[Problem] = []
    cut_sizes = _sizes(d, log_id, start, end)
    lv = _Levels(d, log_id, 0, SPLIT, start, problems)
    sha = hashlib.sha256
    tails: dict[int, bytes] = {}
    cuts = deque(cut_sizes)
    done = start
    for rows in d.stream(
        "SELECT data FROM ledger_entries WHERE log_id = ? AND idx >= ? AND idx < ? ORDER BY idx",
        log_id,
        start,
        end,
    ):
        hashes = [sha(b"\x00" + d).digest() for (d,) in rows]
        pos = 0
        while cuts and cuts[0] <= done + len(hashes):
            cut = cuts.popleft() - done
            if cut > pos:
                lv.push(0, hashes[pos:cut])
                pos = cut
            tails[done + cut] = merkle.fold(lv.carries())
        if pos < len(hashes):
            lv.push(0, hashes[pos:] if pos else hashes)
        done += len(hashes)
    if done != end:
        problems.append(
            Problem(
                "log",
                f"entries {start}..{end - 1} should be {end - start} "
                f"but the store has {done - start}: entries are missing",
                index=done,
            )
        )
    open_rows: dict[int, tuple[int, list[bytes]]] = {}
    for level, buf in lv.buf.items():
        if buf:
            if last:
                open_rows[level] = (lv.chunk[level], buf)
            else:  # an aligned range ends on full rows: anything left is a short range
                problems.append(Problem("log", f"entries {start}..{end - 1} are incomplete"))
                break
    return _LeafResult(start, done, done - start, lv.rows, lv.out, tails, open_rows, problems)


def _sizes(d: RawDb, log_id: int, start: int, end: int) -> list[int]:
    out: list[int] = []
    for rows in d.stream(
        "SELECT DISTINCT size FROM ledger_checkpoints WHERE log_id = ? AND "
        "size > ? AND size <= ? ORDER BY size",
        log_id,
        start,
        end,
    ):
        out.extend(r[0] for r in rows if r[0] % (1 << SPLIT))
    return out


@dataclass
class _CheckpointResult:
    first_seq: int
    checked: list[tuple[int, int, bytes]]  # (seq, size, root) of sound checkpoints
    seqs: list[int]  # every seq seen, in order
    problems: list[Problem]


def _checkpoint_task(
    db: RawDb | None, log_id: int, origin: str, vkey: str, first_seq: int, end_seq: int
) -> _CheckpointResult:
    d = _db_for_task(db)
    verifier = Verifier.from_text(vkey)
    problems: list[Problem] = []
    checked: list[tuple[int, int, bytes]] = []
    seqs: list[int] = []
    for rows in d.stream(
        "SELECT seq, size, root, note FROM ledger_checkpoints WHERE "
        "log_id = ? AND seq >= ? AND seq < ? ORDER BY seq",
        log_id,
        first_seq,
        end_seq,
        block=512,
    ):
        for seq, cp_size, cp_root, note in rows:
            seqs.append(seq)
            try:
                cp = Checkpoint.parse(open_note(note, [verifier]).text)
            except LedgerError as e:
                problems.append(Problem("checkpoint", f"checkpoint {seq}: {e}", seq=seq))
                continue
            if cp.origin != origin:
                problems.append(
                    Problem(
                        "checkpoint",
                        f"checkpoint {seq} names log {cp.origin!r}, not {origin!r}",
                        seq=seq,
                    )
                )
                continue
            if cp.size != cp_size or cp.root != bytes(cp_root):
                problems.append(
                    Problem(
                        "checkpoint",
                        f"checkpoint {seq}: stored size/root columns differ from its signed text",
                        seq=seq,
                    )
                )
                continue
            checked.append((seq, cp.size, cp.root))
    return _CheckpointResult(first_seq, checked, seqs, problems)


# -- the parent ---------------------------------------------------------------------


def _ranges(size: int) -> list[tuple[int, int]]:
    # A row of 256 nodes at level SPLIT-1 covers 2^(SPLIT+7) leaves: ranges start
    # on such boundaries so no row below SPLIT is split between two tasks.
    align = 1 << (SPLIT + 7)
    step = max(align, TASK_LEAVES // align * align)
    return [(a, min(a + step, size)) for a in range(0, size, step)]


def verify_log(
    conn: Connection,
    origin: str,
    verifier: Verifier,
    *,
    progress: Callable[[int, int], None] | None = None,
    max_problems: int = 20,
    workers: int | None = None,
) -> VerifyReport:
    """Verify log ``origin`` behind ``conn`` against ``verifier``'s key.

    ``workers``: processes to use (default: one per core on SQLite for logs of
    more than 65,536 entries; 1 means in this process).
    """
    started = time.perf_counter()
    rep = VerifyReport(origin)
    db = RawDb.of(conn)
    row = db.one("SELECT id, size, root FROM ledger_logs WHERE origin = ?", origin)
    if row is None:
        raise UnknownLog(f"no log named {origin!r}")
    log_id, size, stored_root = row[0], int(row[1]), bytes(row[2])
    rep.size = size
    problems: list[Problem] = []

    # Shape: index range (O(log n) on the primary key; each leaf task checks its
    # range is complete), node row count, checkpoint seqs.
    lo, hi = db.one("SELECT min(idx), max(idx) FROM ledger_entries WHERE log_id = ?", log_id)
    if (size and (lo != 0 or hi != size - 1)) or (not size and lo is not None):
        problems.append(
            Problem(
                "log",
                f"the log says it has {size} entries but the store "
                f"holds indices {lo}..{hi}: entries were added, dropped "
                "or renumbered",
            )
        )
    want_rows = sum(-(-(size >> lvl) // CHUNK) for lvl in range(size.bit_length()))
    (have_rows,) = db.one("SELECT count(*) FROM ledger_nodes WHERE log_id = ?", log_id)
    if have_rows != want_rows:
        problems.append(
            Problem(
                "log",
                f"{have_rows} stored node rows where a tree of {size} "
                f"entries has {want_rows}: node rows were added or removed",
            )
        )
    (max_seq,) = db.one("SELECT max(seq) FROM ledger_checkpoints WHERE log_id = ?", log_id)
    n_seq = -1 if max_seq is None else int(max_seq)

    path = _sqlite_path(conn)
    if workers is None:
        workers = (os.cpu_count() or 1) if path and size >= PARALLEL_MIN else 1
    if not path:
        workers = 1
    rep.workers = workers
    executor: Executor | None = None
    if workers > 1:
        executor = ProcessPoolExecutor(
            max_workers=workers,
            mp_context=multiprocessing.get_context("fork"),
            initializer=_worker_init,  # type: ignore[arg-type]
            initargs=(path,),  # type: ignore[arg-type]
        )
    try:
        _run(
            db,
            executor,
            log_id,
            origin,
            size,
            stored_root,
            n_seq,
            verifier,
            rep,
            problems,
            progress,
        )
    finally:
        if executor is not None:
            executor.shutdown(cancel_futures=True)

    # The first problem named is the most specific: a bad entry explains the
    # nodes and checkpoint roots above it. Keep at most ``max_problems`` a kind.
    order = {"log": 0, "entry": 1, "node": 2, "root": 3, "checkpoint": 4}
    kept: dict[str, int] = {}
    for p in sorted(problems, key=lambda p: order[p.kind]):
        kept[p.kind] = kept.get(p.kind, 0) + 1
        if kept[p.kind] <= max_problems:
            rep.problems.append(p)
    rep.seconds = time.perf_counter() - started
    return rep


def _sqlite_path(conn: Connection) -> str | None:
    if conn.dialect.name != "sqlite":
        return None
    db = conn.engine.url.database
    return db if db and db != ":memory:" else None


class _Inline:
    """Runs a task at once in this process; same interface as an executor's submit."""

    def __init__(self, db: RawDb) -> None:
        self.db = db

    def submit(self, fn: Callable[..., Any], *args: Any) -> Future[Any]:
        f: Future[Any] = Future()
        f.set_result(fn(self.db, *args))
        return f


def _run(
    db: RawDb,
    executor: Executor | None,
    log_id: int,
    origin: str,
    size: int,
    stored_root: bytes,
    n_seq: int,
    verifier: Verifier,
    rep: VerifyReport,
    problems: list[Problem],
    progress: Callable[[int, int], None] | None,
) -> None:
    vkey = verifier.to_text()
    ranges = _ranges(size)
    cp_ranges = [
        (a, min(a + TASK_CHECKPOINTS, n_seq + 1)) for a in range(0, n_seq + 1, TASK_CHECKPOINTS)
    ]
    if executor is None:
        # Inline: create the tasks lazily, so memory stays one task's worth.
        inline = _Inline(db)
        leaf_futs: Iterator[Future[Any]] = (
            inline.submit(_leaf_task, log_id, a, b, b == size) for a, b in ranges
        )
        cp_futs: Iterator[Future[Any]] = (
            inline.submit(_checkpoint_task, log_id, origin, vkey, a, b) for a, b in cp_ranges
        )
    else:
        # Interleave submissions so leaf and signature work share the cores.
        lf: list[Future[Any]] = []
        cf: list[Future[Any]] = []
        for i in range(max(len(ranges), len(cp_ranges))):
            if i < len(ranges):
                a, b = ranges[i]
                lf.append(executor.submit(_leaf_task, None, log_id, a, b, b == size))
            if i < len(cp_ranges):
                a, b = cp_ranges[i]
                cf.append(executor.submit(_checkpoint_task, None, log_id, origin, vkey, a, b))
        leaf_futs, cp_futs = iter(lf), iter(cf)

    merge = _Merge(
        _Levels(db, log_id, SPLIT, None, 0, problems), leaf_futs, problems, rep, size, progress
    )
    upper, receive_until, push_until, root_at = (
        merge.upper,
        merge.receive_until,
        merge.push_until,
        merge.root_at,
    )
    tails = merge.tails

    expect_seq, prev_size, last_size = 0, 0, 0
    for fut in cp_futs:
        cres: _CheckpointResult = fut.result()
        problems.extend(cres.problems)
        rep.checkpoints += len(cres.seqs)
        for seq in cres.seqs:
            if seq != expect_seq:
                problems.append(
                    Problem(
                        "checkpoint",
                        f"checkpoint {expect_seq} is missing (next stored is {seq})",
                        seq=expect_seq,
                    )
                )
            expect_seq = seq + 1
        for seq, cp_size, cp_root in cres.checked:
            if cp_size < prev_size:
                problems.append(
                    Problem(
                        "checkpoint",
                        f"checkpoint {seq} (size {cp_size}) is "
                        f"smaller than the one before it ({prev_size})",
                        seq=seq,
                    )
                )
                continue
            prev_size = last_size = cp_size
            if cp_size > size:
                problems.append(
                    Problem(
                        "checkpoint",
                        f"checkpoint {seq} is for size {cp_size} "
                        f"but only {size} entries are stored: entries are "
                        "missing",
                        seq=seq,
                    )
                )
                continue
            receive_until(cp_size)
            push_until(cp_size >> SPLIT)
            try:
                ok = root_at(cp_size) == cp_root
            except LookupError:
                ok = False
            if not ok:
                problems.append(
                    Problem(
                        "checkpoint",
                        f"checkpoint {seq} (size {cp_size}): its "
                        "signed root is not the root of entries "
                        f"0..{cp_size - 1}",
                        seq=seq,
                    )
                )
        for s in [s for s in tails if s <= prev_size]:
            del tails[s]
    if size and last_size != size:
        problems.append(
            Problem(
                "checkpoint",
                f"the latest checkpoint covers {last_size} "
                f"entries but the log has {size}: the newest entries are not "
                "signed",
            )
        )
    receive_until(size)
    push_until(size >> SPLIT)
    # The open rows: levels below SPLIT from the last leaf task, the rest here.
    last = merge.last
    if last is not None:
        for level, (chunk, hashes) in sorted(last.open_rows.items()):
            upper.compare(level, chunk, hashes)
    for level, buf in sorted(upper.buf.items()):
        if buf:
            upper.compare(level, upper.chunk[level], buf)
    rep.node_rows += upper.rows
    if size:
        lower = last.open_rows if last is not None else {}
        parts = upper.carries()
        # The root's lower part: fold of the open level<SPLIT carries = tail at size.
        tail = _tail_from_open_rows(lower)
        if tail is not None:
            parts.append(tail)
        rep.root = merkle.fold(parts) if parts else merkle.EMPTY_ROOT
    else:
        rep.root = merkle.EMPTY_ROOT
    if rep.entries == size and size and rep.root != stored_root:
        problems.append(
            Problem("root", "the stored tree root differs from the root of the entries")
        )
    if progress is not None:
        progress(rep.entries, size)


class _Merge:
    """Folds the level-SPLIT hashes of leaf tasks, in order, as checkpoints need them."""

    def __init__(
        self,
        upper: _Levels,
        leaf_futs: Iterator[Future[Any]],
        problems: list[Problem],
        rep: VerifyReport,
        size: int,
        progress: Callable[[int, int], None] | None,
    ) -> None:
        self.upper, self.leaf_futs, self.problems, self.rep = upper, leaf_futs, problems, rep
        self.size, self.progress = size, progress
        self.pending: deque[list[bytes]] = deque()  # hashes received, not yet pushed
        self.tails: dict[int, bytes] = {}
        self.received_to = 0
        self.pushed = 0
        self.last: _LeafResult | None = None

    def receive_until(self, leaves: int) -> None:
        while self.received_to < leaves:
            fut = next(self.leaf_futs, None)
            if fut is None:
                return
            res: _LeafResult = fut.result()
            self.problems.extend(res.problems)
            self.rep.entries += res.entries
            self.rep.node_rows += res.rows
            self.pending.append(res.upper)
            self.tails.update(res.tails)
            self.received_to = res.end
            self.last = res
            if self.progress is not None:
                self.progress(self.rep.entries, self.size)

    def push_until(self, count: int) -> None:
        while self.pushed < count and self.pending:
            head = self.pending[0]
            take = min(len(head), count - self.pushed)
            self.upper.push(SPLIT, head[:take])
            self.pushed += take
            if take == len(head):
                self.pending.popleft()
            else:
                self.pending[0] = head[take:]

    def root_at(self, s: int) -> bytes:
        parts = self.upper.carries()
        if s % (1 << SPLIT):
            tail = self.tails.get(s)
            if tail is None:
                raise LookupError(s)
            parts.append(tail)
        return merkle.fold(parts)


def _tail_from_open_rows(open_rows: dict[int, tuple[int, list[bytes]]]) -> bytes | None:
    """Fold the right border below SPLIT: at each level an odd count leaves one carry."""
    parts = []
    for level in sorted(open_rows, reverse=True):
        chunk, hashes = open_rows[level]
        if len(hashes) % 2:
            parts.append(hashes[-1])
    return merkle.fold(parts) if parts else None
