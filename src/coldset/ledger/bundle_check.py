from __future__ import annotations

# Checks an evidence bundle written by `coldset export`. This module imports only
# the standard library, `cryptography` and its sibling ledger modules, because
# the export assembles it with merkle.py, note.py and checkpoint.py into the
# single-file verifier `verify.py` that a recipient runs without coldset:
#
#     python verify.py BUNDLE_DIR --key VERIFIER_KEY_OR_FILE
#
# The bundle format is documented in docs/evidence-bundle.md.
import argparse
import base64
import json
import os
from dataclasses import dataclass, field
from typing import Any

from .checkpoint import Checkpoint
from .errors import LedgerError
from .merkle import CompactRange, leaf_hash, verify_consistency
from .note import Verifier, open_note

BUNDLE_FORMAT = "coldset-evidence-bundle/v1"


@dataclass
class BundleReport:
    origin: str = ""
    entries: int = 0
    checkpoints: int = 0
    consistency_proofs: int = 0
    checked: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


class BundleError(LedgerError):
    pass


def _read_json_lines(path: str, what: str) -> list[dict[str, Any]]:
    out = []
    try:
        with open(path, encoding="utf-8") as f:
            for n, line in enumerate(f, 1):
                if not line.strip():
                    continue
                try:
                    obj = json.loads(line)
                except ValueError:
                    raise BundleError(f"{what} line {n} is not JSON (truncated file?)") from None
                if not isinstance(obj, dict):
                    raise BundleError(f"{what} line {n} is not a JSON object")
                out.append(obj)
    except FileNotFoundError:
        raise BundleError(f"the bundle has no {os.path.basename(path)}") from None
    return out


def _b64(s: object, what: str) -> bytes:
    if not isinstance(s, str):
        raise BundleError(f"{what} is not a base64 string")
    try:
        raw = base64.b64decode(s, validate=True)
    except ValueError:
        raise BundleError(f"{what} is not valid base64") from None
    if base64.b64encode(raw).decode() != s:  # e.g. altered padding bits
        raise BundleError(f"{what} is not in canonical base64")
    return raw


def check_bundle(directory: str, key_text: str) -> BundleReport:
    """Check every file of the bundle in ``directory`` against the verifier key."""
    rep = BundleReport()
    verifier = Verifier.from_text(key_text.strip())
    try:
        with open(os.path.join(directory, "manifest.json"), encoding="utf-8") as f:
            manifest = json.load(f)
    except FileNotFoundError:
        raise BundleError(f"{directory} has no manifest.json: is it a coldset export?") from None
    except ValueError:
        raise BundleError("manifest.json is not valid JSON (truncated?)") from None
    if manifest.get("format") != BUNDLE_FORMAT:
        raise BundleError(
            f"manifest.json format is {manifest.get('format')!r}, want {BUNDLE_FORMAT!r}"
        )
    origin = manifest.get("origin")
    size = manifest.get("size")
    if not isinstance(origin, str) or not isinstance(size, int) or size < 0:
        raise BundleError("manifest.json lacks a valid origin and size")
    rep.origin = origin

    # 1. Checkpoints: every one signed by the key, for this log, sizes never shrinking.
    cps: list[tuple[int, int, bytes]] = []
    for n, obj in enumerate(
        _read_json_lines(os.path.join(directory, "checkpoints.jsonl"), "checkpoints.jsonl")
    ):
        seq = obj.get("seq")
        note = obj.get("note")
        if not isinstance(note, str) or seq != n:
            rep.problems.append(f"checkpoint line {n + 1}: expected seq {n} with a note")
            continue
        try:
            cp = Checkpoint.parse(open_note(note, [verifier]).text)
        except LedgerError as e:
            rep.problems.append(f"checkpoint {seq}: {e}")
            continue
        if obj.get("size") != cp.size:
            rep.problems.append(
                f"checkpoint {seq} is listed with size {obj.get('size')!r} but "
                f"its signed text says {cp.size}"
            )
            continue
        if cp.origin != origin:
            rep.problems.append(f"checkpoint {seq} is for log {cp.origin!r}, not {origin!r}")
            continue
        if cps and cp.size < cps[-1][1]:
            rep.problems.append(
                f"checkpoint {seq} (size {cp.size}) is smaller than checkpoint "
                f"{cps[-1][0]} ({cps[-1][1]})"
            )
            continue
        cps.append((seq, cp.size, cp.root))
    rep.checkpoints = len(cps)
    rep.checked.append(
        f"{len(cps)} checkpoint signatures by {verifier.name} "
        f"({verifier.key_id.hex()}) for log {origin}"
    )
    if not cps and size:
        rep.problems.append("the bundle has no valid checkpoint")
    elif cps and cps[-1][1] != size:
        rep.problems.append(
            f"the newest checkpoint covers {cps[-1][1]} entries but the manifest says {size}"
        )

    # 2. Consistency proofs between each pair of consecutive checkpoints.
    proofs: dict[tuple[object, object], dict[str, Any]] = {}
    for obj in _read_json_lines(os.path.join(directory, "consistency.jsonl"), "consistency.jsonl"):
        proofs[(obj.get("from_seq"), obj.get("to_seq"))] = obj
    for (s1, n1, r1), (s2, n2, r2) in zip(cps, cps[1:], strict=False):
        if n1 == 0:
            continue
        found = proofs.get((s1, s2))
        if found is None:
            rep.problems.append(f"no consistency proof from checkpoint {s1} to {s2}")
            continue
        if (found.get("from_size"), found.get("to_size")) != (n1, n2):
            rep.problems.append(
                f"consistency proof {s1}->{s2} is labelled for sizes "
                f"{found.get('from_size')}->{found.get('to_size')}, but the "
                f"checkpoints are {n1}->{n2}"
            )
            continue
        hashes = found.get("proof")
        if not isinstance(hashes, list):
            rep.problems.append(f"consistency proof {s1}->{s2} has no list of hashes")
            continue
        try:
            proof = [_b64(h, f"consistency proof {s1}->{s2} hash") for h in hashes]
            verify_consistency(n1, n2, proof, r1, r2)
            rep.consistency_proofs += 1
        except LedgerError as e:
            rep.problems.append(f"consistency {s1} (size {n1}) -> {s2} (size {n2}): {e}")
    expected = {(a[0], b[0]) for a, b in zip(cps, cps[1:], strict=False) if a[1]}
    for extra in sorted(set(proofs) - expected, key=str):
        rep.problems.append(
            f"consistency.jsonl has a proof {extra} between checkpoints that "
            "are not consecutive valid ones"
        )
    rep.checked.append(
        f"{rep.consistency_proofs} consistency proofs between consecutive checkpoints"
    )

    # 3. Entries: re-hash them all; the root at every checkpoint size must match.
    cr = CompactRange()
    want = iter(cps)
    nxt = next(want, None)
    while nxt is not None and nxt[1] == 0:
        nxt = next(want, None)
    entries_path = os.path.join(directory, "entries.jsonl")
    if not os.path.isfile(entries_path):
        raise BundleError("the bundle has no entries.jsonl")
    with open(entries_path, "rb") as f:
        for line in f:
            if not line.endswith(b"\n"):
                rep.problems.append(
                    f"entry {cr.size} is cut short (no newline): the file was truncated"
                )
                break
            cr.append(leaf_hash(line[:-1]))
            while nxt is not None and nxt[1] == cr.size:
                if cr.root() != nxt[2]:
                    rep.problems.append(
                        f"checkpoint {nxt[0]} (size {nxt[1]}): its root is not "
                        f"the root of entries 0..{nxt[1] - 1}: an entry in that "
                        "range was changed, dropped, added or reordered"
                    )
                nxt = next(want, None)
    rep.entries = cr.size
    if cr.size != size:
        rep.problems.append(f"entries.jsonl has {cr.size} entries, the manifest says {size}")
    if nxt is not None:
        rep.problems.append(
            f"checkpoint {nxt[0]} covers {nxt[1]} entries but only {cr.size} are in the bundle"
        )
    rep.checked.append(
        f"{cr.size} entries re-hashed into the tree; the root matched at every checkpoint size"
        if rep.ok
        else f"{cr.size} entries re-hashed"
    )
    return rep


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="verify.py",
        description="Check a coldset evidence bundle: every entry, every signed checkpoint and "
        "the consistency proofs between them. Needs Python 3.10+ and the `cryptography` package.",
    )
    ap.add_argument("bundle", help="the bundle directory")
    ap.add_argument(
        "--key",
        required=True,
        help="the log's verifier key (name+keyid+base64), or a file holding it; "
        "get it from the log operator, not only from the bundle",
    )
    ap.add_argument("--json", action="store_true", help="print a JSON report")
    args = ap.parse_args(argv)
    key = args.key
    if os.path.isfile(key):
        with open(key, encoding="utf-8") as f:
            key = f.read().strip()
    try:
        rep = check_bundle(args.bundle, key)
    except LedgerError as e:
        if args.json:
            print(json.dumps({"ok": False, "error": str(e)}))
        else:
            print(f"FAILED: {e}")
        return 1
    if args.json:
        print(
            json.dumps(
                {
                    "ok": rep.ok,
                    "origin": rep.origin,
                    "entries": rep.entries,
                    "checkpoints": rep.checkpoints,
                    "consistency_proofs": rep.consistency_proofs,
                    "checked": rep.checked,
                    "problems": rep.problems,
                },
                indent=2,
            )
        )
    else:
        print(f"Log: {rep.origin}")
        print("Checked:")
        for c in rep.checked:
            print(f"  - {c}")
        if rep.ok:
            print(
                "RESULT: OK. Every entry is in the signed tree, every checkpoint is signed by "
                "the key given, and each checkpoint extends the one before it."
            )
        else:
            print(f"RESULT: FAILED, {len(rep.problems)} problem(s); the first is:")
            for p in rep.problems[:20]:
                print(f"  - {p}")
    return 0 if rep.ok else 1
