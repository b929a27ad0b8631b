"""The log over the store: create, append (group commit), roots, proofs, checkpoints.

Knows nothing about firearms: entries are bytes. Every method takes the caller's
connection, so an append commits (or rolls back) together with whatever else the
caller wrote in the same transaction; the caller opens it with ``Store.write()``.

Node storage is described in :mod:`coldset.store.schema` (``ledger_nodes``):
every perfect subtree hash, 256 to a row, so a proof or a root needs one
indexed read per level involved and never rehashes leaves.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, bindparam, func, select, update

from coldset.ledger import merkle
from coldset.ledger.checkpoint import Checkpoint, sign_checkpoint
from coldset.ledger.errors import LedgerError
from coldset.ledger.note import Signer, Verifier
from coldset.store.direct import Direct, RawDb
from coldset.store.schema import ledger_checkpoints, ledger_entries, ledger_logs, ledger_nodes

CHUNK = 256
H = merkle.HASH_SIZE


class UnknownLog(LedgerError):
    pass


class LogExists(LedgerError):
    pass


class IndexOutOfRange(LedgerError):
    pass


class InconsistentCheckpoint(LedgerError):
    pass


@dataclass(frozen=True)
class SignedCheckpoint:
    seq: int
    size: int
    root: bytes
    note: str


@dataclass(frozen=True)
class LogInfo:
    id: int
    origin: str
    size: int
    root: bytes | None = None  # set by ``info`` (the stored root at ``size``)


Addr = tuple[int, int]


@dataclass(frozen=True)
class _Frontier:
    """What the writer needs to append: O(log n) hashes, kept between appends."""

    size: int
    root: bytes
    nodes: dict[Addr, bytes]  # the perfect nodes of root_plan(size)
    open_rows: dict[Addr, bytes]  # (level, chunk) -> hashes of rows not yet full
    last_checkpoint: tuple[int, int, bytes] | None  # (seq, size, root)


# Statements built once: the append path runs them hundreds of times a second, on
# the driver's cursor (see coldset.store.direct).
_SELECT_LOG = Direct(
    select(ledger_logs.c.id, ledger_logs.c.size, ledger_logs.c.root).where(
        ledger_logs.c.origin == bindparam("b_origin")
    )
)
_INSERT_ENTRY = Direct(ledger_entries.insert())
_INSERT_NODE = Direct(ledger_nodes.insert())
_UPDATE_NODE = Direct(
    update(ledger_nodes)
    .where(
        ledger_nodes.c.log_id == bindparam("b_log"),
        ledger_nodes.c.level == bindparam("b_level"),
        ledger_nodes.c.chunk == bindparam("b_chunk"),
    )
    .values(hashes=bindparam("b_hashes"))
)
_UPDATE_LOG = Direct(
    update(ledger_logs)
    .where(ledger_logs.c.id == bindparam("b_id"), ledger_logs.c.size == bindparam("b_size"))
    .values(size=bindparam("n_size"), root=bindparam("n_root"))
)
_SELECT_LAST_CP = (
    select(ledger_checkpoints.c.seq, ledger_checkpoints.c.size, ledger_checkpoints.c.root)
    .where(ledger_checkpoints.c.log_id == bindparam("b_log"))
    .order_by(ledger_checkpoints.c.seq.desc())
    .limit(1)
)
_INSERT_CP = Direct(ledger_checkpoints.insert())


_ROW_SQL = "SELECT hashes FROM ledger_nodes WHERE log_id = ? AND level = ? AND chunk = ?"


def read_rows(conn: Connection, log_id: int, rows: Iterable[Addr]) -> dict[Addr, bytes]:
    """Node rows by (level, chunk): one primary-key probe each on the raw cursor.

    (One statement with an OR of the probes is answered by SQLite with a scan of
    the log's rows once it has more than a few terms.)
    """
    db = RawDb.of(conn)
    cur = db.raw.cursor()
    sql = db.q(_ROW_SQL)
    out: dict[Addr, bytes] = {}
    try:
        for lvl, chunk in rows:
            cur.execute(sql, (log_id, lvl, chunk))
            r = cur.fetchone()
            if r is not None:
                out[(lvl, chunk)] = bytes(r[0])
    finally:
        cur.close()
    return out


def read_nodes(conn: Connection, log_id: int, addrs: Iterable[Addr]) -> dict[Addr, bytes]:
    """The stored hashes of perfect subtrees ``(level, index)``."""
    want = set(addrs)
    if not want:
        return {}
    by_row = read_rows(conn, log_id, {(lvl, idx // CHUNK) for lvl, idx in want})
    out: dict[Addr, bytes] = {}
    for lvl, idx in want:
        blob = by_row.get((lvl, idx // CHUNK))
        off = (idx % CHUNK) * H
        h = blob[off : off + H] if blob is not None else b""
        if len(h) != H:
            raise LedgerError(f"stored node (level {lvl}, index {idx}) is missing or short")
        out[(lvl, idx)] = h
    return out


class Ledger:
    """Append-only logs signed by one key (the install's)."""

    def __init__(self, signer: Signer, verifier: Verifier | None = None) -> None:
        """``verifier``: the key the log's checkpoints must be signed by, when it is
        pinned elsewhere (the install's); default: the signer's own."""
        self.signer = signer
        self.verifier = verifier or Verifier.from_text(signer.verifier_text)
        # Frontier cache for the single writer: origin -> (size, root, frontier
        # nodes, partial rows). Checked against the stored size and root on each
        # append, so a rolled-back transaction or another writer only costs a reload.
        self._frontier: dict[str, _Frontier] = {}

    # -- logs ---------------------------------------------------------------

    def create(self, conn: Connection, origin: str) -> LogInfo:
        origin_ok = origin and "\n" not in origin and origin == origin.strip()
        if not origin_ok:
            raise LedgerError(f"log origin {origin!r} must be one non-empty line")
        if conn.execute(select(ledger_logs.c.id).where(ledger_logs.c.origin == origin)).first():
            raise LogExists(f"log {origin!r} already exists")
        res = conn.execute(
            ledger_logs.insert().values(origin=origin, size=0, root=merkle.EMPTY_ROOT)
        )
        key = res.inserted_primary_key
        assert key is not None
        return LogInfo(int(key[0]), origin, 0)

    def logs(self, conn: Connection) -> list[LogInfo]:
        rows = conn.execute(
            select(ledger_logs.c.id, ledger_logs.c.origin, ledger_logs.c.size).order_by(
                ledger_logs.c.origin
            )
        ).all()
        return [LogInfo(r.id, r.origin, r.size) for r in rows]

    def info(self, conn: Connection, origin: str) -> LogInfo:
        row = _SELECT_LOG.first(conn, {"b_origin": origin})
        if row is None:
            known = ", ".join(i.origin for i in self.logs(conn)) or "none"
            raise UnknownLog(f"no log named {origin!r} (logs here: {known})")
        log_id, size, root = row
        return LogInfo(log_id, origin, size, bytes(root))

    def size(self, conn: Connection, origin: str) -> int:
        return self.info(conn, origin).size

    # -- append -------------------------------------------------------------

    def append(
        self,
        conn: Connection,
        origin: str,
        entries: Sequence[bytes],
        *,
        sign: bool = True,
        head: LogInfo | None = None,
    ) -> list[int]:
        """Append ``entries`` in the caller's transaction; return their indices.

        With ``sign`` (the default) a checkpoint for the new size is signed and
        stored in the same transaction, after checking it is consistent with the
        last checkpoint this log signed. ``head``: what :meth:`info` returned for
        this log earlier in the SAME write transaction (nothing else can have
        appended since); it saves reading the log's row again.
        """
        if not entries:
            return []
        for i, e in enumerate(entries):
            if not isinstance(e, bytes):
                raise LedgerError(f"entry {i} of the batch is {type(e).__name__}, not bytes")
        if head is not None and head.origin == origin and head.root is not None:
            log_id, size, root = head.id, head.size, head.root
        else:
            row = _SELECT_LOG.first(conn, {"b_origin": origin})
            if row is None:
                raise UnknownLog(f"no log named {origin!r}")
            log_id, size, root = row[0], row[1], bytes(row[2])
        front = self._load_frontier(conn, origin, log_id, size, root)

        cr = merkle.CompactRange.from_nodes(size, front.nodes)
        new_nodes: dict[int, list[tuple[int, bytes]]] = defaultdict(list)
        leaf_hash = merkle.leaf_hash
        for e in entries:
            for level, index, h in cr.append(leaf_hash(e)):
                new_nodes[level].append((index, h))
        new_size = size + len(entries)
        new_root = cr.root()

        _INSERT_ENTRY.many(
            conn, [{"log_id": log_id, "idx": size + i, "data": e} for i, e in enumerate(entries)]
        )
        # Rows to write: partial rows we extend (update) and new rows (insert).
        updates: list[dict[str, object]] = []
        inserts: list[dict[str, object]] = []
        open_rows: dict[Addr, bytes] = {}
        for level, nodes in new_nodes.items():
            rows: dict[int, bytearray] = {}
            for index, h in nodes:
                chunk = index // CHUNK
                buf = rows.get(chunk)
                if buf is None:
                    buf = rows[chunk] = bytearray(front.open_rows.get((level, chunk), b""))
                    if len(buf) != (index % CHUNK) * H:
                        raise LedgerError(
                            f"stored nodes of level {level} are out of step at index {index}"
                        )
                buf += h
            for chunk, buf in rows.items():
                blob = bytes(buf)
                if (level, chunk) in front.open_rows:
                    updates.append(
                        {"b_log": log_id, "b_level": level, "b_chunk": chunk, "b_hashes": blob}
                    )
                else:
                    inserts.append(
                        {"log_id": log_id, "level": level, "chunk": chunk, "hashes": blob}
                    )
                if len(blob) < CHUNK * H:
                    open_rows[(level, chunk)] = blob
        _INSERT_NODE.many(conn, inserts)
        _UPDATE_NODE.many(conn, updates)
        done = _UPDATE_LOG.one(
            conn, {"b_id": log_id, "b_size": size, "n_size": new_size, "n_root": new_root}
        )
        if done != 1:
            raise LedgerError(f"log {origin!r} changed during the append; try again")

        last = front.last_checkpoint
        if sign:
            last = self._sign(conn, log_id, origin, front, new_size, new_root)
        # Remember the frontier for the next append: the perfect nodes of the new
        # root plan and the rows still open. Only valid if this transaction
        # commits; the next append checks the stored size and root first.
        plan = merkle.root_plan(new_size)
        fresh = {(lvl, idx): h for lvl, nodes in new_nodes.items() for idx, h in nodes}
        keep = {a: fresh[a] if a in fresh else front.nodes[a] for a in plan}
        for k, v in front.open_rows.items():
            if k not in open_rows and _still_open(k, new_size):
                open_rows[k] = v
        self._frontier[origin] = _Frontier(new_size, new_root, keep, open_rows, last)
        return list(range(size, new_size))

    def _load_frontier(
        self, conn: Connection, origin: str, log_id: int, size: int, root: bytes
    ) -> _Frontier:
        cached = self._frontier.get(origin)
        if cached is not None and cached.size == size and cached.root == root:
            return cached
        plan = merkle.root_plan(size) if size else []
        nodes = read_nodes(conn, log_id, plan)
        want = [
            (level, (size >> level) // CHUNK)
            for level in range(size.bit_length() + 1)
            if (size >> level) % CHUNK
        ]
        open_rows = read_rows(conn, log_id, want)
        if size and merkle.fold([nodes[a] for a in plan]) != root:
            raise LedgerError(f"log {origin!r}: stored nodes do not give the stored root")
        last = conn.execute(_SELECT_LAST_CP, {"b_log": log_id}).first()
        last_cp = None if last is None else (last.seq, last.size, last.root)
        return _Frontier(size, root, nodes, open_rows, last_cp)

    # -- checkpoints ----------------------------------------------------------

    def _sign(
        self,
        conn: Connection,
        log_id: int,
        origin: str,
        front: _Frontier,
        size: int,
        root: bytes,
    ) -> tuple[int, int, bytes]:
        last = front.last_checkpoint
        if last is not None:
            seq1, size1, root1 = last
            if size1 == front.size and root1 == front.root:
                # The new tree was built by appending to exactly the frontier whose
                # root is the one last signed: consistent by construction.
                pass
            else:
                self._check_consistent(conn, log_id, origin, size1, root1, size, root)
        seq = 0 if last is None else last[0] + 1
        note = sign_checkpoint(Checkpoint(origin, size, root), self.signer)
        _INSERT_CP.one(
            conn, {"log_id": log_id, "seq": seq, "size": size, "root": root, "note": note}
        )
        return seq, size, root

    def _check_consistent(
        self,
        conn: Connection,
        log_id: int,
        origin: str,
        size1: int,
        root1: bytes,
        size2: int,
        root2: bytes,
    ) -> None:
        if size2 < size1:
            raise InconsistentCheckpoint(
                f"log {origin!r}: refusing to sign size {size2}, smaller than the last "
                f"signed checkpoint ({size1})"
            )
        if size1 == 0:
            return
        try:
            plan = merkle.consistency_plan(size1, size2)
            proof = merkle.build(plan, read_nodes(conn, log_id, merkle.nodes_of(plan)))
            merkle.verify_consistency(size1, size2, proof, root1, root2)
        except LedgerError as e:
            raise InconsistentCheckpoint(
                f"log {origin!r}: refusing to sign a checkpoint at size {size2} that is not "
                f"consistent with the last one signed (size {size1}): {e}"
            ) from e

    def checkpoints(self, conn: Connection, origin: str) -> Iterator[SignedCheckpoint]:
        info = self.info(conn, origin)
        for r in conn.execute(
            select(ledger_checkpoints)
            .where(ledger_checkpoints.c.log_id == info.id)
            .order_by(ledger_checkpoints.c.seq)
        ):
            yield SignedCheckpoint(r.seq, r.size, r.root, r.note)

    def latest_checkpoint(self, conn: Connection, origin: str) -> SignedCheckpoint:
        info = self.info(conn, origin)
        r = conn.execute(
            select(ledger_checkpoints)
            .where(ledger_checkpoints.c.log_id == info.id)
            .order_by(ledger_checkpoints.c.seq.desc())
            .limit(1)
        ).first()
        if r is None:
            raise LedgerError(f"log {origin!r} has no checkpoint yet (it is empty)")
        return SignedCheckpoint(r.seq, r.size, r.root, r.note)

    def checkpoint_count(self, conn: Connection, origin: str) -> int:
        info = self.info(conn, origin)
        return int(
            conn.execute(
                select(func.count()).where(ledger_checkpoints.c.log_id == info.id)
            ).scalar_one()
        )

    # -- reads and proofs -----------------------------------------------------

    def entry(self, conn: Connection, origin: str, index: int) -> bytes:
        info = self.info(conn, origin)
        _check_index(index, info.size, origin)
        data = conn.execute(
            select(ledger_entries.c.data).where(
                ledger_entries.c.log_id == info.id, ledger_entries.c.idx == index
            )
        ).scalar_one_or_none()
        if data is None:
            raise LedgerError(f"entry {index} of {origin!r} is missing from the store")
        return bytes(data)

    def entries(
        self, conn: Connection, origin: str, start: int = 0, end: int | None = None
    ) -> Iterator[tuple[int, bytes]]:
        info = self.info(conn, origin)
        q = select(ledger_entries.c.idx, ledger_entries.c.data).where(
            ledger_entries.c.log_id == info.id, ledger_entries.c.idx >= start
        )
        if end is not None:
            q = q.where(ledger_entries.c.idx < end)
        # Per statement: Connection.execution_options() would change the caller's
        # connection for every later statement too.
        for r in conn.execute(q.order_by(ledger_entries.c.idx).execution_options(yield_per=2048)):
            yield r.idx, bytes(r.data)

    def nodes(self, conn: Connection, origin: str, addrs: Iterable[Addr]) -> Mapping[Addr, bytes]:
        return read_nodes(conn, self.info(conn, origin).id, addrs)

    def root(self, conn: Connection, origin: str, size: int | None = None) -> bytes:
        info = self.info(conn, origin)
        size = info.size if size is None else size
        _check_size(size, info.size, origin)
        if size == 0:
            return merkle.EMPTY_ROOT
        plan = merkle.root_plan(size)
        return merkle.fold([read_nodes(conn, info.id, plan)[a] for a in plan])

    def inclusion_proof(
        self, conn: Connection, origin: str, index: int, size: int | None = None
    ) -> list[bytes]:
        info = self.info(conn, origin)
        size = info.size if size is None else size
        _check_size(size, info.size, origin)
        _check_index(index, size, origin)
        plan = merkle.inclusion_plan(index, size)
        return merkle.build(plan, read_nodes(conn, info.id, merkle.nodes_of(plan)))

    def consistency_proof(
        self, conn: Connection, origin: str, size1: int, size2: int | None = None
    ) -> list[bytes]:
        info = self.info(conn, origin)
        size2 = info.size if size2 is None else size2
        _check_size(size2, info.size, origin)
        if not 0 < size1 <= size2:
            raise IndexOutOfRange(f"consistency needs 0 < size1 <= size2 (got {size1} and {size2})")
        plan = merkle.consistency_plan(size1, size2)
        return merkle.build(plan, read_nodes(conn, info.id, merkle.nodes_of(plan)))

    def leaf_hash_at(self, conn: Connection, origin: str, index: int) -> bytes:
        info = self.info(conn, origin)
        _check_index(index, info.size, origin)
        return read_nodes(conn, info.id, [(0, index)])[(0, index)]


def _still_open(row: Addr, size: int) -> bool:
    level, chunk = row
    n = size >> level
    return n // CHUNK == chunk and n % CHUNK != 0


def _check_index(index: int, size: int, origin: str) -> None:
    if not isinstance(index, int) or index < 0 or index >= size:
        raise IndexOutOfRange(
            f"index {index} is out of range: log {origin!r} has entries 0..{size - 1}"
            if size
            else f"index {index} is out of range: log {origin!r} is empty"
        )


def _check_size(size: int, current: int, origin: str) -> None:
    if not isinstance(size, int) or size < 0 or size > current:
        raise IndexOutOfRange(
            f"tree size {size} is out of range: log {origin!r} has {current} entries"
        )
