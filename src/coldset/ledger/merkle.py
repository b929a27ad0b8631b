"""RFC 6962 / RFC 9162 Merkle trees over SHA-256.

Hashing, proof verification, and proof *plans*: which stored perfect subtrees
a root or a proof element is the fold of.

A perfect subtree is addressed ``(level, index)``: it covers the leaves
``[index << level, (index + 1) << level)``; level 0 holds the leaf hashes.
A store keeps only perfect subtrees; the incomplete subtrees along the right
border of a tree are computed by :func:`fold`-ing perfect ones.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence

from .errors import ProofError

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()

Plan = list[list[tuple[int, int]]]

_sha256 = hashlib.sha256


def leaf_hash(entry: bytes) -> bytes:
    """Return the RFC 6962 leaf hash SHA-256(0x00 || entry)."""
    return _sha256(b"\x00" + entry).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """Return the RFC 6962 interior node hash SHA-256(0x01 || left || right)."""
    return _sha256(b"\x01" + left + right).digest()


def root_of(leaf_hashes: Sequence[bytes]) -> bytes:
    """Return the tree head MTH of a full list of leaf hashes (reference algorithm)."""
    n = len(leaf_hashes)
    if n == 0:
        return EMPTY_ROOT
    if n == 1:
        return bytes(leaf_hashes[0])
    k = 1 << ((n - 1).bit_length() - 1)
    return node_hash(root_of(leaf_hashes[:k]), root_of(leaf_hashes[k:]))


# --- checks shared by the verifiers -------------------------------------------------


def _proof_int(what: str, value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ProofError(f"{what} {value!r} is not an integer")
    if value < 0:
        raise ProofError(f"{what} {value} is negative")


def _proof_hash(what: str, value: bytes) -> None:
    if not isinstance(value, bytes | bytearray | memoryview):
        raise ProofError(f"{what} is {type(value).__name__}, want bytes")
    if len(value) != HASH_SIZE:
        raise ProofError(f"{what} is {len(value)} bytes, want {HASH_SIZE}")


def _proof_hashes(proof: Sequence[bytes]) -> None:
    for i, h in enumerate(proof):
        _proof_hash(f"proof hash {i}", h)


def inclusion_proof_size(index: int, size: int) -> int:
    """Return how many hashes the inclusion proof of leaf ``index`` in a tree of ``size`` has."""
    if not 0 <= index < size:
        raise ProofError(f"leaf index {index} is outside a tree of size {size}")
    inner = (index ^ (size - 1)).bit_length()
    return inner + (index >> inner).bit_count()


def consistency_proof_size(size1: int, size2: int) -> int:
    """Return how many hashes the consistency proof from ``size1`` to ``size2`` has."""
    if size1 <= 0:
        raise ProofError(f"consistency proof from tree size {size1} proves nothing")
    if size1 > size2:
        raise ProofError(f"tree size1 {size1} is greater than size2 {size2}")
    if size1 == size2:
        return 0
    shift = (size1 & -size1).bit_length() - 1
    first = (size1 - 1) >> shift
    last = (size2 - 1) >> shift
    inner = (first ^ last).bit_length()
    seed = 0 if size1 == 1 << shift else 1
    return seed + inner + (first >> inner).bit_count()


# --- verification (RFC 9162 sections 2.1.3.2 and 2.1.4.2) ---------------------------


def root_from_inclusion_proof(
    leaf_hash: bytes, index: int, size: int, proof: Sequence[bytes]
) -> bytes:
    """Return the root that an inclusion proof of ``leaf_hash`` at ``index`` leads to."""
    _proof_int("leaf index", index)
    _proof_int("tree size", size)
    if index >= size:
        raise ProofError(f"leaf index {index} is outside a tree of size {size}")
    _proof_hash("leaf hash", leaf_hash)
    _proof_hashes(proof)
    want = inclusion_proof_size(index, size)
    if len(proof) != want:
        raise ProofError(
            f"inclusion proof has {len(proof)} hashes, want {want} "
            f"for leaf {index} in a tree of size {size}"
        )
    fn, sn = index, size - 1
    r = bytes(leaf_hash)
    for p in proof:
        if sn == 0:
            raise ProofError("inclusion proof is longer than the path to the root")
        if fn & 1 or fn == sn:
            r = _sha256(b"\x01" + p + r).digest()
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = _sha256(b"\x01" + r + p).digest()
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("inclusion proof is shorter than the path to the root")
    return r


def verify_inclusion(
    leaf_hash: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes
) -> None:
    """Check that ``leaf_hash`` is leaf ``index`` of the tree of ``size`` with head ``root``."""
    _proof_int("leaf index", index)
    _proof_int("tree size", size)
    if index >= size:
        raise ProofError(f"leaf index {index} is outside a tree of size {size}")
    _proof_hash("root hash", root)
    got = root_from_inclusion_proof(leaf_hash, index, size, proof)
    if got != root:
        raise ProofError(
            f"inclusion proof for leaf {index} in a tree of size {size} does not lead to the root"
        )


def root_from_consistency_proof(
    size1: int, size2: int, proof: Sequence[bytes], root1: bytes
) -> bytes:
    """Check a consistency proof against ``root1`` and return the root of the ``size2`` tree."""
    _proof_int("tree size1", size1)
    _proof_int("tree size2", size2)
    if size1 == 0:
        raise ProofError("consistency proof from an empty tree (size1 0) proves nothing")
    if size1 > size2:
        raise ProofError(f"tree size1 {size1} is greater than size2 {size2}")
    _proof_hash("root1", root1)
    _proof_hashes(proof)
    want = consistency_proof_size(size1, size2)
    if len(proof) != want:
        raise ProofError(
            f"consistency proof has {len(proof)} hashes, want {want} "
            f"from tree size {size1} to {size2}"
        )
    if size1 == size2:
        return bytes(root1)
    path = list(proof)
    if size1 & (size1 - 1) == 0:
        path.insert(0, bytes(root1))
    fn, sn = size1 - 1, size2 - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise ProofError("consistency proof is longer than the path to the root")
        if fn & 1 or fn == sn:
            fr = _sha256(b"\x01" + c + fr).digest()
            sr = _sha256(b"\x01" + c + sr).digest()
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = _sha256(b"\x01" + sr + c).digest()
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("consistency proof is shorter than the path to the root")
    if fr != root1:
        raise ProofError(f"consistency proof does not reproduce the root of tree size {size1}")
    return bytes(sr)


def verify_consistency(
    size1: int, size2: int, proof: Sequence[bytes], root1: bytes, root2: bytes
) -> None:
    """Check that the tree of ``size2`` with head ``root2`` extends the one of ``size1``/``root1``.

    Equal sizes need an empty proof and equal roots; as in the upstream vectors,
    the roots are then only compared, not length-checked.
    """
    _proof_int("tree size1", size1)
    _proof_int("tree size2", size2)
    if size1 == 0:
        raise ProofError("consistency proof from an empty tree (size1 0) proves nothing")
    if size1 > size2:
        raise ProofError(f"tree size1 {size1} is greater than size2 {size2}")
    if size1 == size2:
        if len(proof) != 0:
            raise ProofError(
                f"consistency proof between equal sizes has {len(proof)} hashes, want 0"
            )
        if root1 != root2:
            raise ProofError(f"roots of the same tree size {size1} differ")
        return
    _proof_hash("root1", root1)
    _proof_hash("root2", root2)
    got = root_from_consistency_proof(size1, size2, proof, root1)
    if got != root2:
        raise ProofError(
            f"consistency proof from tree size {size1} to {size2} does not lead to root2"
        )


# --- proof plans over stored perfect subtrees ----------------------------------------


def fold(hashes: Sequence[bytes]) -> bytes:
    """Return the hash of consecutive perfect subtrees of strictly decreasing size."""
    if not hashes:
        raise ProofError("cannot fold an empty list of hashes")
    h = hashes[-1]
    for j in range(len(hashes) - 2, -1, -1):
        h = _sha256(b"\x01" + hashes[j] + h).digest()
    return bytes(h)


def range_nodes(start: int, end: int) -> list[tuple[int, int]]:
    """Return the perfect subtrees, left to right, of the RFC 9162 subtree of leaves [start, end).

    ``start`` must be aligned as in an RFC 9162 tree (a subtree met in the MTH recursion).
    """
    n = end - start
    if start < 0 or n <= 0:
        raise ProofError(f"leaf range [{start}, {end}) is empty or negative")
    top = n.bit_length() - 1
    if start & ((1 << top) - 1):
        raise ProofError(f"leaf range [{start}, {end}) is not a subtree of an RFC 9162 tree")
    out = []
    pos = start
    for level in range(top, -1, -1):
        if n >> level & 1:
            out.append((level, pos >> level))
            pos += 1 << level
    return out


def root_plan(size: int) -> list[tuple[int, int]]:
    """Return the perfect subtrees whose fold is the root of a tree of ``size`` >= 1 leaves."""
    if size < 1:
        raise ProofError(f"tree size {size} has no root to plan (the empty root is a constant)")
    return range_nodes(0, size)


def inclusion_plan(index: int, size: int) -> Plan:
    """Return the nodes of each inclusion proof hash of leaf ``index``, leaf to root."""
    if not 0 <= index < size:
        raise ProofError(f"leaf index {index} is outside a tree of size {size}")
    plan: Plan = []
    start, end = 0, size
    while end - start > 1:
        level = (end - start - 1).bit_length() - 1
        mid = start + (1 << level)
        if index < mid:
            plan.append(range_nodes(mid, end))
            end = mid
        else:
            plan.append([(level, start >> level)])
            start = mid
    plan.reverse()
    return plan


def consistency_plan(size1: int, size2: int) -> Plan:
    """Return the nodes of each consistency proof hash from ``size1`` to ``size2`` (RFC 9162)."""
    if size1 <= 0:
        raise ProofError(f"consistency proof from tree size {size1} proves nothing")
    if size1 > size2:
        raise ProofError(f"tree size1 {size1} is greater than size2 {size2}")
    plan: Plan = []
    start, end, m, whole = 0, size2, size1, True
    while m != end - start:
        level = (end - start - 1).bit_length() - 1
        k = 1 << level
        if m <= k:
            plan.append(range_nodes(start + k, end))
            end = start + k
        else:
            plan.append([(level, start >> level)])
            start += k
            m -= k
            whole = False
    if not whole:
        plan.append(range_nodes(start, end))
    plan.reverse()
    return plan


def nodes_of(plan: Plan) -> set[tuple[int, int]]:
    """Return every node address a plan needs."""
    return {address for element in plan for address in element}


def build(plan: Plan, nodes: Mapping[tuple[int, int], bytes]) -> list[bytes]:
    """Return the proof hashes of ``plan``, folding the given perfect subtree hashes."""
    out = []
    for element in plan:
        try:
            hashes = [nodes[address] for address in element]
        except KeyError as exc:
            raise ProofError(f"node {exc.args[0]} is missing") from None
        out.append(fold(hashes))
    return out


# --- trees in memory -----------------------------------------------------------------


class CompactRange:
    """The right border of a tree: the O(log n) perfect subtrees of ``root_plan(size)``."""

    __slots__ = ("_hashes", "_size")

    def __init__(self) -> None:
        self._hashes: list[bytes] = []
        self._size = 0

    @classmethod
    def from_nodes(cls, size: int, nodes: Mapping[tuple[int, int], bytes]) -> CompactRange:
        """Resume at ``size`` from the perfect subtree hashes named by ``root_plan(size)``."""
        _proof_int("tree size", size)
        cr = cls()
        if size:
            hashes = build([[address] for address in root_plan(size)], nodes)
            for (level, index), h in zip(root_plan(size), hashes, strict=True):
                _proof_hash(f"node ({level}, {index})", h)
            cr._hashes = hashes
        cr._size = size
        return cr

    @property
    def size(self) -> int:
        """Number of leaves appended so far."""
        return self._size

    def border(self) -> list[tuple[int, int, bytes]]:
        """Return the perfect subtrees held, left to right, as (level, index, hash)."""
        if not self._size:
            return []
        return [
            (level, index, h)
            for (level, index), h in zip(root_plan(self._size), self._hashes, strict=True)
        ]

    def append(self, leaf_hash: bytes) -> list[tuple[int, int, bytes]]:
        """Add a leaf hash; return the perfect nodes it completes, the leaf itself first."""
        if len(leaf_hash) != 32:
            raise ProofError(f"leaf hash is {len(leaf_hash)} bytes, want 32")
        h = leaf_hash if type(leaf_hash) is bytes else bytes(leaf_hash)
        index = self._size
        self._size = index + 1
        hashes = self._hashes
        if not index & 1:  # a left child: nothing completes above it
            hashes.append(h)
            return [(0, index, h)]
        completed = [(0, index, h)]
        pop = hashes.pop
        sha256 = _sha256
        level = 0
        while index & 1:
            h = sha256(b"\x01" + pop() + h).digest()
            index >>= 1
            level += 1
            completed.append((level, index, h))
        hashes.append(h)
        return completed

    def extend(self, leaf_hashes: Iterable[bytes]) -> None:
        """Add many leaf hashes without reporting the completed nodes (the fast path)."""
        hashes = self._hashes
        pop = hashes.pop
        push = hashes.append
        sha256 = _sha256
        size = self._size
        try:
            for h in leaf_hashes:
                if len(h) != 32:
                    raise ProofError(f"leaf hash {size} is {len(h)} bytes, want 32")
                index = size
                while index & 1:
                    h = sha256(b"\x01" + pop() + h).digest()
                    index >>= 1
                push(h if type(h) is bytes else bytes(h))
                size += 1
        finally:
            self._size = size

    def root(self) -> bytes:
        """Return the root of the tree of the leaves appended so far."""
        if not self._hashes:
            return EMPTY_ROOT
        return fold(self._hashes)


class MemoryTree:
    """A whole tree in memory keeping every perfect node, for tests and the standalone verifier."""

    def __init__(self, leaf_hashes: Iterable[bytes] = ()) -> None:
        self.nodes: dict[tuple[int, int], bytes] = {}
        self._range = CompactRange()
        for h in leaf_hashes:
            self.append(h)

    @property
    def size(self) -> int:
        """Number of leaves."""
        return self._range.size

    def append(self, leaf_hash: bytes) -> int:
        """Add a leaf hash and return its index."""
        nodes = self.nodes
        for level, index, h in self._range.append(leaf_hash):
            nodes[(level, index)] = h
        return self._range.size - 1

    def append_entry(self, entry: bytes) -> int:
        """Add an entry (hashed as a leaf) and return its index."""
        return self.append(leaf_hash(entry))

    def _size_or_current(self, size: int | None) -> int:
        if size is None:
            return self.size
        _proof_int("tree size", size)
        if size > self.size:
            raise ProofError(f"tree size {size} is beyond the {self.size} leaves held")
        return size

    def root(self, size: int | None = None) -> bytes:
        """Return the root of the first ``size`` leaves (default: all)."""
        size = self._size_or_current(size)
        if size == 0:
            return EMPTY_ROOT
        return build([root_plan(size)], self.nodes)[0]

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        """Return the inclusion proof of leaf ``index`` in the tree of ``size``."""
        size = self._size_or_current(size)
        return build(inclusion_plan(index, size), self.nodes)

    def consistency_proof(self, size1: int, size2: int | None = None) -> list[bytes]:
        """Return the consistency proof from tree size ``size1`` to ``size2``."""
        size2 = self._size_or_current(size2)
        return build(consistency_plan(size1, size2), self.nodes)
