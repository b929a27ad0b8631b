"""The record, for the people who check it: logs, verify, receipts, entries, exports.

The read side of the ledger as the CLI (and any other adapter) needs it: each
method opens its own read transaction on the install's store, so adapters
never touch the store.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from coldset.install import Install
from coldset.ledger import merkle, tlogproof
from coldset.ledger.export import ExportResult, export_log
from coldset.ledger.log import IndexOutOfRange, Ledger, LogInfo, SignedCheckpoint, UnknownLog
from coldset.ledger.verify import VerifyReport, verify_log
from coldset.store.db import Store

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class Receipt:
    origin: str
    index: int
    tree_size: int
    leaf_hash: bytes
    text: str  # c2sp.org/tlog-proof@v1

    def as_dict(self) -> dict[str, object]:
        return {
            "origin": self.origin,
            "index": self.index,
            "tree_size": self.tree_size,
            "leaf_hash": base64.b64encode(self.leaf_hash).decode(),
            "tlog_proof": self.text,
        }


def signed_entries(
    store: Store, ledger: Ledger, origin: str
) -> tuple[SignedCheckpoint, list[tuple[int, bytes]]]:
    """The latest signed checkpoint and every entry it covers, read in one transaction
    (what a report is made from: the two always agree)."""
    with store.read() as conn:
        cp = ledger.latest_checkpoint(conn, origin)
        return cp, list(ledger.entries(conn, origin, 0, cp.size))


class Records:
    def __init__(self, install: Install) -> None:
        self.install = install
        self.store, self.ledger = install.store, install.ledger

    def logs(self) -> list[LogInfo]:
        with self.store.read() as conn:
            return self.ledger.logs(conn)

    def resolve(self, log: str) -> str:
        """A log's origin from its origin or its production's short name."""
        names = {i.origin for i in self.logs()}
        for candidate in (log, self.install.origin(log)):
            if candidate in names:
                return candidate
        raise UnknownLog(f"no log named {log!r} (logs here: {', '.join(sorted(names)) or 'none'})")

    def verify(self, origin: str, progress: Progress | None = None) -> VerifyReport:
        with self.store.read() as conn:
            # the key pinned at init, never one derived from signing.key
            return verify_log(conn, origin, self.install.verifier, progress=progress)

    def receipt(self, origin: str, index: int) -> Receipt:
        """A C2SP tlog-proof for entry ``index`` against the latest checkpoint."""
        with self.store.read() as conn:
            cp = self.ledger.latest_checkpoint(conn, origin)
            if index >= cp.size:
                raise IndexOutOfRange(
                    f"index {index} is out of range: the latest checkpoint of "
                    f"{origin!r} covers entries 0..{cp.size - 1}"
                )
            path = self.ledger.inclusion_proof(conn, origin, index, cp.size)
            leaf = self.ledger.leaf_hash_at(conn, origin, index)
        return Receipt(origin, index, cp.size, leaf, tlogproof.format_proof(index, path, cp.note))

    def signed_entries(self, origin: str) -> tuple[SignedCheckpoint, list[tuple[int, bytes]]]:
        return signed_entries(self.store, self.ledger, origin)

    def entry(self, origin: str, index: int) -> bytes:
        with self.store.read() as conn:
            return self.ledger.entry(conn, origin, index)

    @staticmethod
    def leaf_hash(data: bytes) -> bytes:
        return merkle.leaf_hash(data)

    def export(
        self, origin: str, directory: Path, progress: Progress | None = None
    ) -> ExportResult:
        with self.store.read() as conn:
            return export_log(conn, self.ledger, origin, directory, progress=progress)
