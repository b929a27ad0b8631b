"""RFC 6962 hashing, proof plans, proof verification and the in-memory trees."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from coldset.ledger.errors import ProofError
from coldset.ledger.merkle import (
    EMPTY_ROOT,
    HASH_SIZE,
    CompactRange,
    MemoryTree,
    build,
    consistency_plan,
    consistency_proof_size,
    fold,
    inclusion_plan,
    inclusion_proof_size,
    leaf_hash,
    node_hash,
    nodes_of,
    range_nodes,
    root_from_consistency_proof,
    root_from_inclusion_proof,
    root_of,
    root_plan,
    verify_consistency,
    verify_inclusion,
)

MAX = 300
LEAVES = [leaf_hash(i.to_bytes(4, "big")) for i in range(MAX)]
TREE = MemoryTree(LEAVES)
ROOTS = [root_of(LEAVES[:n]) for n in range(MAX + 1)]

sizes = st.integers(min_value=1, max_value=MAX)
huge_sizes = st.integers(min_value=1, max_value=2**63)


def _flip(proof: list[bytes], element: int, bit: int) -> list[bytes]:
    changed = bytearray(proof[element])
    changed[bit // 8] ^= 1 << (bit % 8)
    return [*proof[:element], bytes(changed), *proof[element + 1 :]]


def _bound(size: int) -> int:
    return 2 * size.bit_length() + 2


# --- hashing -------------------------------------------------------------------------


def test_hashes_match_rfc6962_known_answers() -> None:
    """Leaf and tree hashes equal the RFC 6962 reference tree (root 5dc9da79...)."""
    data = [
        b"",
        b"\x00",
        b"\x10",
        b"\x20\x21",
        b"\x30\x31",
        b"\x40\x41\x42\x43",
        bytes(range(0x50, 0x58)),
        bytes(range(0x60, 0x70)),
    ]
    assert leaf_hash(b"").hex() == (
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"
    )
    assert root_of([leaf_hash(d) for d in data]).hex() == (
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"
    )
    assert node_hash(b"a", b"b") == hashlib.sha256(b"\x01ab").digest()


def test_empty_tree_root_is_sha256_of_nothing() -> None:
    """The empty tree's root is SHA-256 of the empty string, in every tree type."""
    assert hashlib.sha256(b"").digest() == EMPTY_ROOT
    assert root_of([]) == EMPTY_ROOT
    assert MemoryTree().root() == EMPTY_ROOT
    assert CompactRange().root() == EMPTY_ROOT
    assert TREE.root(0) == EMPTY_ROOT
    assert HASH_SIZE == 32


# --- plans ---------------------------------------------------------------------------


@given(sizes)
def test_root_plan_fold_is_root_of(size: int) -> None:
    """Folding the perfect subtrees of root_plan(size) gives the reference root."""
    assert fold([TREE.nodes[a] for a in root_plan(size)]) == ROOTS[size]
    assert TREE.root(size) == ROOTS[size]


@given(huge_sizes)
def test_root_plan_is_the_binary_decomposition(size: int) -> None:
    """root_plan has one perfect subtree per set bit of size, largest first, covering [0, size)."""
    plan = root_plan(size)
    assert len(plan) == size.bit_count()
    pos = 0
    for level, index in plan:
        assert index << level == pos
        pos += 1 << level
    assert pos == size
    assert [level for level, _ in plan] == sorted({level for level, _ in plan}, reverse=True)


@given(huge_sizes, st.data())
def test_plans_need_only_logarithmic_nodes(size: int, data: st.DataObject) -> None:
    """Inclusion and consistency plans name at most 2*log2(n)+2 nodes, all inside the tree."""
    index = data.draw(st.integers(min_value=0, max_value=size - 1))
    size1 = data.draw(st.integers(min_value=1, max_value=size))
    for plan in (inclusion_plan(index, size), consistency_plan(size1, size), [root_plan(size)]):
        nodes = nodes_of(plan)
        assert sum(len(element) for element in plan) <= _bound(size)
        assert all((i + 1) << level <= size for level, i in nodes)
    assert len(inclusion_plan(index, size)) == inclusion_proof_size(index, size)
    assert len(consistency_plan(size1, size)) == consistency_proof_size(size1, size)


def test_range_nodes_refuses_a_range_that_is_not_a_subtree() -> None:
    """range_nodes refuses empty ranges and ranges not aligned as in an RFC 9162 tree."""
    assert range_nodes(4, 7) == [(1, 2), (0, 6)]
    for start, end in [(3, 5), (2, 2), (5, 4)]:
        with pytest.raises(ProofError):
            range_nodes(start, end)


def test_build_names_a_missing_node() -> None:
    """build raises ProofError naming the node address the store did not supply."""
    with pytest.raises(ProofError, match=r"node \(2, 0\) is missing"):
        build(inclusion_plan(5, 8), {(0, 4): LEAVES[4], (1, 3): TREE.nodes[(1, 3)]})


def test_fold_of_one_hash_is_itself_and_of_none_is_an_error() -> None:
    """fold returns a single hash unchanged and refuses an empty list."""
    assert fold([LEAVES[0]]) == LEAVES[0]
    assert fold(LEAVES[:3]) == node_hash(LEAVES[0], node_hash(LEAVES[1], LEAVES[2]))
    with pytest.raises(ProofError):
        fold([])


# --- inclusion -----------------------------------------------------------------------


@given(sizes)
def test_every_inclusion_proof_verifies(size: int) -> None:
    """For a tree of size n, the planned proof of every leaf verifies against root_of."""
    for index in range(size):
        proof = TREE.inclusion_proof(index, size)
        verify_inclusion(LEAVES[index], index, size, proof, ROOTS[size])
        assert root_from_inclusion_proof(LEAVES[index], index, size, proof) == ROOTS[size]


@given(sizes, st.data())
def test_tampered_inclusion_proof_fails(size: int, data: st.DataObject) -> None:
    """A flipped bit in any proof hash, a wrong index or a wrong tree size fails verification."""
    index = data.draw(st.integers(min_value=0, max_value=size - 1))
    proof = TREE.inclusion_proof(index, size)
    if proof:
        element = data.draw(st.integers(min_value=0, max_value=len(proof) - 1))
        bit = data.draw(st.integers(min_value=0, max_value=255))
        with pytest.raises(ProofError):
            verify_inclusion(LEAVES[index], index, size, _flip(proof, element, bit), ROOTS[size])
    if size > 1:
        other = data.draw(st.integers(min_value=0, max_value=size - 1).filter(lambda i: i != index))
        with pytest.raises(ProofError):
            verify_inclusion(LEAVES[index], other, size, proof, ROOTS[size])
    wrong = data.draw(st.integers(min_value=index + 1, max_value=MAX).filter(lambda n: n != size))
    with pytest.raises(ProofError):
        verify_inclusion(LEAVES[index], index, wrong, proof, ROOTS[wrong])


def test_inclusion_edge_cases_are_errors() -> None:
    """Index >= size, a wrong-length leaf hash, root or proof hash each raise ProofError."""
    proof = TREE.inclusion_proof(5, 8)
    with pytest.raises(ProofError, match="outside a tree of size 8"):
        verify_inclusion(LEAVES[5], 8, 8, proof, ROOTS[8])
    with pytest.raises(ProofError, match="outside a tree of size 0"):
        verify_inclusion(LEAVES[0], 0, 0, [], EMPTY_ROOT)
    with pytest.raises(ProofError, match="leaf hash is 31 bytes, want 32"):
        verify_inclusion(LEAVES[5][:31], 5, 8, proof, ROOTS[8])
    with pytest.raises(ProofError, match="root hash is 33 bytes, want 32"):
        verify_inclusion(LEAVES[5], 5, 8, proof, ROOTS[8] + b"\x00")
    with pytest.raises(ProofError, match="proof hash 1 is 31 bytes, want 32"):
        verify_inclusion(LEAVES[5], 5, 8, [proof[0], proof[1][:31], proof[2]], ROOTS[8])
    with pytest.raises(ProofError, match="has 2 hashes, want 3"):
        verify_inclusion(LEAVES[5], 5, 8, proof[:2], ROOTS[8])
    with pytest.raises(ProofError, match="is negative"):
        verify_inclusion(LEAVES[5], -1, 8, proof, ROOTS[8])


# --- consistency ---------------------------------------------------------------------


@given(sizes, st.data())
def test_every_consistency_proof_verifies(size2: int, data: st.DataObject) -> None:
    """For random 1 <= m <= n, the planned consistency proof verifies between the two roots."""
    size1 = data.draw(st.integers(min_value=1, max_value=size2))
    proof = TREE.consistency_proof(size1, size2)
    verify_consistency(size1, size2, proof, ROOTS[size1], ROOTS[size2])
    assert root_from_consistency_proof(size1, size2, proof, ROOTS[size1]) == ROOTS[size2]


@given(st.integers(min_value=2, max_value=MAX), st.data())
def test_tampered_consistency_proof_fails(size2: int, data: st.DataObject) -> None:
    """A flipped bit in any hash, a wrong size1 or size2, or swapped roots fail verification."""
    size1 = data.draw(st.integers(min_value=1, max_value=size2 - 1))
    proof = TREE.consistency_proof(size1, size2)
    element = data.draw(st.integers(min_value=0, max_value=len(proof) - 1))
    bit = data.draw(st.integers(min_value=0, max_value=255))
    with pytest.raises(ProofError):
        verify_consistency(size1, size2, _flip(proof, element, bit), ROOTS[size1], ROOTS[size2])
    wrong1 = data.draw(st.integers(min_value=1, max_value=size2).filter(lambda m: m != size1))
    with pytest.raises(ProofError):
        verify_consistency(wrong1, size2, proof, ROOTS[wrong1], ROOTS[size2])
    wrong2 = data.draw(st.integers(min_value=size1, max_value=MAX).filter(lambda n: n != size2))
    with pytest.raises(ProofError):
        verify_consistency(size1, wrong2, proof, ROOTS[size1], ROOTS[wrong2])
    with pytest.raises(ProofError):
        verify_consistency(size1, size2, proof, ROOTS[size2], ROOTS[size1])


def test_consistency_edge_cases_are_errors() -> None:
    """From size 0, size1 > size2, equal sizes with a proof or other roots each raise ProofError."""
    with pytest.raises(ProofError, match="empty tree"):
        verify_consistency(0, 5, [], EMPTY_ROOT, ROOTS[5])
    with pytest.raises(ProofError, match="empty tree"):
        verify_consistency(0, 0, [], EMPTY_ROOT, EMPTY_ROOT)
    with pytest.raises(ProofError, match="greater than size2"):
        verify_consistency(6, 5, [], ROOTS[6], ROOTS[5])
    with pytest.raises(ProofError, match="want 0"):
        verify_consistency(5, 5, [ROOTS[5]], ROOTS[5], ROOTS[5])
    with pytest.raises(ProofError, match="differ"):
        verify_consistency(5, 5, [], ROOTS[5], ROOTS[4])
    with pytest.raises(ProofError, match="root2 is 31 bytes"):
        verify_consistency(4, 5, TREE.consistency_proof(4, 5), ROOTS[4], ROOTS[5][:31])
    with pytest.raises(ProofError):
        consistency_plan(0, 3)
    assert consistency_plan(7, 7) == []
    verify_consistency(7, 7, [], ROOTS[7], ROOTS[7])


# --- in-memory trees -----------------------------------------------------------------


def test_compact_range_root_matches_at_every_size() -> None:
    """CompactRange's root equals root_of after every append, and its nodes are the tree's nodes."""
    cr = CompactRange()
    seen: dict[tuple[int, int], bytes] = {}
    for n, h in enumerate(LEAVES, start=1):
        completed = cr.append(h)
        assert completed[0] == (0, n - 1, h)
        for level, index, node in completed:
            assert (level, index) not in seen
            seen[(level, index)] = node
        assert cr.size == n
        assert cr.root() == ROOTS[n]
        assert [(lv, i) for lv, i, _ in cr.border()] == root_plan(n)
    assert seen == TREE.nodes
    assert len(seen) == 2 * MAX - MAX.bit_count()


@given(st.integers(min_value=0, max_value=MAX))
def test_compact_range_resumes_from_stored_nodes(size: int) -> None:
    """A CompactRange resumed with from_nodes at any size continues to the same roots."""
    cr = CompactRange.from_nodes(size, TREE.nodes)
    assert cr.size == size
    assert cr.root() == ROOTS[size]
    for n in range(size, min(size + 20, MAX)):
        completed = cr.append(LEAVES[n])
        assert all(TREE.nodes[(lv, i)] == h for lv, i, h in completed)
        assert cr.root() == ROOTS[n + 1]


@given(st.integers(min_value=0, max_value=MAX), st.integers(min_value=0, max_value=MAX))
def test_compact_range_extend_equals_append(start: int, count: int) -> None:
    """extend, the fast path without node reports, reaches the same root as append."""
    count = min(count, MAX - start)
    fast = CompactRange.from_nodes(start, TREE.nodes)
    fast.extend(LEAVES[start : start + count])
    assert fast.size == start + count
    assert fast.root() == ROOTS[start + count]


def test_compact_range_refuses_bad_input() -> None:
    """A wrong-length leaf hash and a missing resume node raise ProofError."""
    with pytest.raises(ProofError, match="31 bytes"):
        CompactRange().append(b"\x00" * 31)
    with pytest.raises(ProofError, match="leaf hash 1 is 33 bytes"):
        CompactRange().extend([LEAVES[0], b"\x00" * 33])
    with pytest.raises(ProofError, match="missing"):
        CompactRange.from_nodes(5, {})


def test_memory_tree_refuses_sizes_beyond_its_leaves() -> None:
    """MemoryTree refuses roots and proofs for more leaves than it holds."""
    tree = MemoryTree(LEAVES[:4])
    assert tree.append_entry(b"x") == 4
    with pytest.raises(ProofError, match="beyond the 5 leaves"):
        tree.root(6)
    with pytest.raises(ProofError):
        tree.inclusion_proof(5)
    with pytest.raises(ProofError):
        tree.consistency_proof(2, 9)
