"""The pure ledger modules stay fit to be concatenated into the standalone verifier."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

import coldset.ledger

PARTS = ("errors", "merkle", "note", "checkpoint", "tlogproof")
SOURCE = Path(coldset.ledger.__file__).parent
RELATIVE = re.compile(r"^from \.[a-z_]+ import [A-Za-z0-9_, ]+$")
FUTURE = "from __future__ import annotations"


def _tree(name: str) -> ast.Module:
    return ast.parse((SOURCE / f"{name}.py").read_text(encoding="utf-8"))


def _assemble() -> str:
    out = [FUTURE + "\n"]
    for name in PARTS:
        for line in (SOURCE / f"{name}.py").read_text(encoding="utf-8").splitlines():
            if line.strip() == FUTURE or RELATIVE.match(line.strip()):
                continue
            out.append(line + "\n")
    return "".join(out)


@pytest.mark.parametrize("name", PARTS)
def test_module_imports_only_stdlib_cryptography_and_siblings(name: str) -> None:
    """Each module starts with the future import and imports only stdlib, cryptography, siblings."""
    tree = _tree(name)
    body = tree.body[1:] if ast.get_docstring(tree) is not None else tree.body
    assert ast.unparse(body[0]) == FUTURE
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level:
            assert node.level == 1 and node.module in PARTS
            assert node.lineno == node.end_lineno, "relative imports must be one line"
            assert RELATIVE.match(ast.unparse(node)), ast.unparse(node)
        elif isinstance(node, ast.ImportFrom | ast.Import):
            modules = (
                [node.module]
                if isinstance(node, ast.ImportFrom)
                else [alias.name for alias in node.names]
            )
            for module in modules:
                top = (module or "").split(".")[0]
                assert top in sys.stdlib_module_names or top in ("__future__", "cryptography")


def test_no_top_level_name_is_defined_twice() -> None:
    """No two modules define the same top-level name, so concatenation shadows nothing."""
    owner: dict[str, str] = {}
    for name in PARTS:
        for node in _tree(name).body:
            if isinstance(node, ast.FunctionDef | ast.ClassDef):
                defined = [node.name]
            elif isinstance(node, ast.Assign):
                defined = [t.id for t in node.targets if isinstance(t, ast.Name)]
            elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
                defined = [node.target.id]
            else:
                continue
            for symbol in defined:
                assert symbol not in owner, f"{symbol} in both {owner[symbol]} and {name}"
                owner[symbol] = name


EXERCISE = """
signer = Signer.generate("coldset.example")
tree = MemoryTree()
for i in range(9):
    tree.append_entry(b"entry %d" % i)
cp = Checkpoint("coldset.example/film", tree.size, tree.root())
receipt = format_proof(4, tree.inclusion_proof(4), sign_checkpoint(cp, signer))
verifier = Verifier.from_text(signer.verifier_text)
assert verify_proof(receipt, b"entry 4", verifier, "coldset.example/film") == cp
try:
    verify_proof(receipt, b"entry 5", verifier)
except ProofError as exc:
    print("refused:", exc)
"""


def test_concatenated_modules_run_on_their_own(tmp_path: Path) -> None:
    """The five modules, concatenated without relative imports, sign, prove and verify alone."""
    script = tmp_path / "standalone.py"
    script.write_text(_assemble() + EXERCISE, encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-I", str(script)], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("refused: inclusion proof for leaf 4")
