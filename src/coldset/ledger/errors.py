"""Errors of the ledger formats: one line each, naming what is wrong."""

from __future__ import annotations


class LedgerError(ValueError):
    """Base of every ledger format error; the message is one line naming the problem."""


class ProofError(LedgerError):
    """A Merkle inclusion or consistency proof is malformed or does not verify."""


class NoteError(LedgerError):
    """A signed note or a key text is malformed, or its signature does not verify."""


class CheckpointError(LedgerError):
    """A checkpoint body is malformed or is not the one expected."""
