"""The writer is the most boring process on the machine: the hostile set of issue 15
(malformed PIN lists, 1 MB bodies declared and chunked, 900 KB concern posts, 1,000-deep
JSON, NUL and control characters, no login, forged CSRF, Hypothesis bodies for every
command) against a real ``coldset serve`` (writer process, uvicorn, loopback), while the
safety contact records commands: every one of the bystander's commands is recorded, no
answer is a 5xx, and the writer never restarts."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[2]


def _replay_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "hostile_replay", ROOT / "benchmarks" / "hostile_replay.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


def test_hostile_requests_never_stop_the_recorder(tmp_path: Path) -> None:
    hostile = _replay_module()
    server = hostile.start_server(tmp_path / "home")
    try:
        out = hostile.replay(server, quick=True)
    finally:
        server.stop()
    assert out["server_errors"] == [], out["server_errors"]
    assert out["bystander_sent"] > 0
    assert out["bystander_recorded"] == out["bystander_sent"], out["bystander_failures"]
    assert out["writer_restarts"] == 0 and out["writer_ok"] is True
    assert out["answers"].get(413, 0) >= 4, "the big bodies were refused by size"
