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

from sqlalchemy import Connection, func, select, tuple_, update

from coldset.ledger import merkle
from coldset.ledger.checkpoint import Checkpoint, sign_checkpoint
from coldset.ledger.errors import LedgerError
from coldset.ledger.note import Signer, Verifier
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


Addr = tuple[int, int]


def read_nodes(conn: Connection, log_id: int, addrs: Iterable[Addr]) -> dict[Addr, bytes]:
    """The stored hashes of perfect subtrees ``(level, index)``, in one query."""
    want = set(addrs)
    if not want:
        return {}
    rows_needed = {(lvl, idx // CHUNK) for lvl, idx in want}
    rows = conn.execute(
        select(ledger_nodes.c.level, ledger_nodes.c.chunk, ledger_nodes.c.hashes).where(
            ledger_nodes.c.log_id == log_id,
            tuple_(ledger_nodes.c.level, ledger_nodes.c.chunk).in_(sorted(rows_needed)),
        )
    ).all()
    by_row = {(r.level, r.chunk): r.hashes for r in rows}
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

    def __init__(self, signer: Signer) -> None:
        self.signer = signer
        self.verifier = Verifier.from_text(signer.verifier_text)
        # Frontier cache for the single writer: origin -> (size, root, frontier
        # nodes, partial rows). Checked against the stored size and root on each
        # append, so a rolled-back transaction or another writer only costs a reload.
        self._frontier: dict[str, tuple[int, bytes, dict[Addr, bytes], dict[Addr, bytes]]] = {}

    # -- logs ---------------------------------------------------------------

    def create(self, conn: Connection, origin: str) -> LogInfo:
        origin_ok = origin and "\n" not in origin and origin == origin.strip()
        if not origin_ok:
            raise LedgerError(f"log origin {origin!r} must be one non-empty line")
        if conn.execute(
            select(ledger_logs.c.id).where(ledger_logs.c.origin == origin)
        ).first():
            raise LogExists(f"log {origin!r} already exists")
        res = conn.execute(ledger_logs.insert().values(origin=origin, size=0, root=merkle.EMPTY_ROOT))
        return LogInfo(int(res.inserted_primary_key[0]), origin, 0)

    def logs(self, conn: Connection) -> list[LogInfo]:
        rows = conn.execute(
            select(ledger_logs.c.id, ledger_logs.c.origin, ledger_logs.c.size).order_by(
                ledger_logs.c.origin
            )
        ).all()
        return [LogInfo(r.id, r.origin, r.size) for r in rows]

    def info(self, conn: Connection, origin: str) -> LogInfo:
        row = conn.execute(
            select(ledger_logs.c.id, ledger_logs.c.size).where(ledger_logs.c.origin == origin)
        ).first()
        if row is None:
            known = ", ".join(i.origin for i in self.logs(conn)) or "none"
            raise UnknownLog(f"no log named {origin!r} (logs here: {known})")
        return LogInfo(row.id, origin, row.size)

    def size(self, conn: Connection, origin: str) -> int:
        return self.info(conn, origin).size

    # -- append -------------------------------------------------------------

    def append(
        self, conn: Connection, origin: str, entries: Sequence[bytes], *, sign: bool = True
    ) -> list[int]:
        """Append ``entries`` in the caller's transaction; return their indices.

        With ``sign`` (the default) a checkpoint for the new size is signed and
        stored in the same transaction, after checking it is consistent with the
        last checkpoint this log signed.
        """
        if not entries:
            return []
        for i, e in enumerate(entries):
            if not isinstance(e, bytes | bytearray):
                raise LedgerError(f"entry {i} of the batch is {type(e).__name__}, not bytes")
        row = conn.execute(
            select(ledger_logs.c.id, ledger_logs.c.size, ledger_logs.c.root).where(
                ledger_logs.c.origin == origin
            )
        ).first()
        if row is None:
            raise UnknownLog(f"no log named {origin!r}")
        log_id, size, root = row.id, row.size, row.root
        frontier, partial = self._load_frontier(conn, origin, log_id, size, root)

        cr = merkle.CompactRange.from_nodes(size, frontier)
        new_nodes: dict[int, list[tuple[int, bytes]]] = defaultdict(list)
        leaf_hash = merkle.leaf_hash
        for e in entries:
            for level, index, h in cr.append(leaf_hash(bytes(e))):
                new_nodes[level].append((index, h))
        new_size = size + len(entries)
        new_root = cr.root()

        conn.execute(
            ledger_entries.insert(),
            [{"log_id": log_id, "idx": size + i, "data": bytes(e)} for i, e in enumerate(entries)],
        )
        # Rows to write: the partial row we extend (update) and new rows (insert).
        updates: list[dict[str, object]] = []
        inserts: list[dict[str, object]] = []
        new_partial: dict[Addr, bytes] = {}
        for level, nodes in new_nodes.items():
            rows: dict[int, bytearray] = {}
            for index, h in nodes:
                chunk = index // CHUNK
                buf = rows.get(chunk)
                if buf is None:
                    buf = rows[chunk] = bytearray(partial.get((level, chunk), b""))
                    if len(buf) != (index % CHUNK) * H:
                        raise LedgerError(
                            f"stored nodes of level {level} are out of step at index {index}"
                        )
                buf += h
            for chunk, buf in rows.items():
                values = {"log_id": log_id, "level": level, "chunk": chunk, "hashes": bytes(buf)}
                (updates if (level, chunk) in partial else inserts).append(values)
                if len(buf) < CHUNK * H:
                    new_partial[(level, chunk)] = bytes(buf)
        if inserts:
            conn.execute(ledger_nodes.insert(), inserts)
        for values in updates:
            conn.execute(
                update(ledger_nodes)
                .where(
                    ledger_nodes.c.log_id == log_id,
                    ledger_nodes.c.level == values["level"],
                    ledger_nodes.c.chunk == values["chunk"],
                )
                .values(hashes=values["hashes"])
            )
        conn.execute(
            update(ledger_logs)
            .where(ledger_logs.c.id == log_id, ledger_logs.c.size == size)
            .values(size=new_size, root=new_root)
        )
        # Remember the frontier for the next append: the perfect nodes of the
        # new root plan and the partial rows still open.
        plan = merkle.root_plan(new_size)
        keep = {a: frontier[a] for a in plan if a in frontier}
        for level, nodes in new_nodes.items():
            for index, h in nodes:
                if (level, index) in plan:
                    keep[(level, index)] = h
        carried = {k: v for k, v in partial.items() if k not in new_partial and _still_open(k, new_size)}
        carried.update(new_partial)
        self._frontier[origin] = (new_size, new_root, keep, carried)

        if sign:
            self._sign(conn, log_id, origin, new_size, new_root)
        return list(range(size, new_size))

    def _load_frontier(
        self, conn: Connection, origin: str, log_id: int, size: int, root: bytes
    ) -> tuple[dict[Addr, bytes], dict[Addr, bytes]]:
        cached = self._frontier.get(origin)
        if cached is not None and cached[0] == size and cached[1] == root:
            return cached[2], cached[3]
        plan = merkle.root_plan(size) if size else []
        frontier = read_nodes(conn, log_id, plan)
        open_rows = [
            (level, (size >> level) // CHUNK)
            for level in range(size.bit_length() + 1)
            if (size >> level) % CHUNK
        ]
        partial: dict[Addr, bytes] = {}
        if open_rows:
            for r in conn.execute(
                select(ledger_nodes.c.level, ledger_nodes.c.chunk, ledger_nodes.c.hashes).where(
                    ledger_nodes.c.log_id == log_id,
                    tuple_(ledger_nodes.c.level, ledger_nodes.c.chunk).in_(open_rows),
                )
            ):
                partial[(r.level, r.chunk)] = r.hashes
        if size and merkle.fold([frontier[a] for a in plan]) != root:
            raise LedgerError(f"log {origin!r}: stored nodes do not give the stored root")
        return frontier, partial

    # -- checkpoints ----------------------------------------------------------

    def _sign(self, conn: Connection, log_id: int, origin: str, size: int, root: bytes) -> None:
        last = conn.execute(
            select(ledger_checkpoints.c.seq, ledger_checkpoints.c.size, ledger_checkpoints.c.root)
            .where(ledger_checkpoints.c.log_id == log_id)
            .order_by(ledger_checkpoints.c.seq.desc())
            .limit(1)
        ).first()
        if last is not None:
            self._check_consistent(conn, log_id, origin, last.size, last.root, size, root)
        seq = 0 if last is None else last.seq + 1
        note = sign_checkpoint(Checkpoint(origin, size, root), self.signer)
        conn.execute(
            ledger_checkpoints.insert().values(
                log_id=log_id, seq=seq, size=size, root=root, note=note
            )
        )

    def _check_consistent(
        self, conn: Connection, log_id: int, origin: str,
        size1: int, root1: bytes, size2: int, root2: bytes,
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
        for r in conn.execution_options(yield_per=2048).execute(q.order_by(ledger_entries.c.idx)):
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
            raise IndexOutOfRange(
                f"consistency needs 0 < size1 <= size2 (got {size1} and {size2})"
            )
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
