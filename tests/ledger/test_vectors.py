"""The upstream RFC 6962 proof vectors (transparency-dev/merkle testdata) give their verdicts."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from coldset.ledger.errors import ProofError
from coldset.ledger.merkle import verify_consistency, verify_inclusion

VECTORS = Path(__file__).parent / "vectors" / "rfc6962"
FILES = sorted(VECTORS.glob("*/**/*.json"))


def _b64(text: str) -> bytes:
    return base64.b64decode(text)


def _check(vector: dict) -> None:
    proof = [_b64(p) for p in vector["proof"] or []]
    if "leafIdx" in vector:
        verify_inclusion(
            _b64(vector["leafHash"]),
            vector["leafIdx"],
            vector["treeSize"],
            proof,
            _b64(vector["root"]),
        )
    else:
        verify_consistency(
            vector["size1"], vector["size2"], proof, _b64(vector["root1"]), _b64(vector["root2"])
        )


def test_all_vector_files_are_present() -> None:
    """The copy holds exactly the 196 upstream vector files, and its licence notice."""
    assert len(FILES) == 196
    kinds = [f.relative_to(VECTORS).parts[0] for f in FILES]
    assert (kinds.count("inclusion"), kinds.count("consistency")) == (98, 98)
    assert (VECTORS / "LICENSE").read_text().startswith("\n                                 Apache")
    assert "Apache License 2.0" in (VECTORS / "README.md").read_text()


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(VECTORS)))
def test_vector_verdict(path: Path) -> None:
    """A vector with wantErr raises ProofError; any other verifies without error."""
    vector = json.loads(path.read_text())
    if vector["wantErr"]:
        with pytest.raises(ProofError) as info:
            _check(vector)
        assert "\n" not in str(info.value)
    else:
        _check(vector)
