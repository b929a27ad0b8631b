"""What the service answers for one command."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Status = Literal["allowed", "refused", "rejected"]


@dataclass(frozen=True)
class Result:
    """The outcome of one command.

    - ``allowed``: ``events`` happened; ``verdicts`` lists alerts, stop-works and
      overridden blocks it raised; ``index`` is its ledger entry.
    - ``refused``: a safety rule blocked it; ``verdicts`` says which and why
      (each with ``rule``, ``verdict``, ``reason``, ``source``, ``overridable_by``);
      the refusal is entry ``index``.
    - ``rejected``: ``error_kind`` is ``malformed`` (``field_errors`` lists each
      field), ``unknown-id``, ``wrong-role``, ``stale-state``, ``duplicate`` or
      ``credential``; ``index`` is set when the attempt was recorded.
    """

    status: Status
    production: str | None
    command: str | None
    at: str | None = None
    index: int | None = None
    events: tuple[dict[str, Any], ...] = ()
    verdicts: tuple[dict[str, Any], ...] = ()
    error_kind: str | None = None
    error: str | None = None
    field_errors: tuple[tuple[str, str], ...] = ()
    replayed: bool = False  # an idempotent retry: the first result, nothing written
    secrets: dict[str, str] = field(default_factory=dict)  # shown once (a concern's token)

    @property
    def ok(self) -> bool:
        return self.status == "allowed"

    @property
    def rules(self) -> list[str]:
        return [v["rule"] for v in self.verdicts]

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "status": self.status,
            "production": self.production,
            "command": self.command,
            "at": self.at,
            "index": self.index,
            "events": list(self.events),
            "verdicts": list(self.verdicts),
            "replayed": self.replayed,
        }
        if self.error_kind:
            d["error_kind"] = self.error_kind
            d["error"] = self.error
        if self.field_errors:
            d["field_errors"] = [{"field": f, "message": m} for f, m in self.field_errors]
        if self.secrets:
            d["secrets"] = dict(self.secrets)
        return d

    @classmethod
    def from_entry(cls, entry: dict[str, Any], index: int, replayed: bool = False) -> Result:
        """Rebuild the result of a recorded command from its ledger entry."""
        outcome = entry["outcome"]
        status: Status = (
            "allowed" if outcome == "allowed" else "refused" if outcome == "refused" else "rejected"
        )
        err = entry.get("error") or {}
        kind = (
            err.get("kind")
            if status == "rejected"
            else ("refused" if status == "refused" else None)
        )
        message = err.get("message")
        if status == "refused" and not message:
            message = "; ".join(
                f"{v['rule']}: {v['reason']}"
                for v in entry["verdicts"]
                if v["verdict"].startswith("block")
            )
        return cls(
            status=status,
            production=entry["production"],
            command=entry["command"].get("type"),
            at=entry["at"],
            index=index,
            events=tuple(entry["events"]),
            verdicts=tuple(entry["verdicts"]),
            error_kind=kind,
            error=message,
            replayed=replayed,
        )
