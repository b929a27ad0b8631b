"""The custody service on a real SQLite file: what is written, what is not, and when."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from coldset.domain.sample import PRODUCTION
from coldset.service import CustodyService
from coldset.store.custody_schema import PROJECTIONS, custody_productions

from .conftest import PINS, cmd, make_service, pin


def size(svc: CustodyService) -> int:
    with svc.store.read() as conn:
        return svc.ledger.size(conn, svc.origin(PRODUCTION))


def snapshot(svc: CustodyService) -> dict[str, list[tuple[object, ...]]]:
    out = {}
    with svc.store.read() as conn:
        for table in (*PROJECTIONS, custody_productions):
            col = table.c.id if table is custody_productions else table.c.production
            pk = list(table.primary_key.columns)
            rows = conn.execute(select(table).where(col == PRODUCTION).order_by(*pk)).all()
            out[table.name] = [tuple(r) for r in rows]
    return out


def test_allowed_command_appends_one_entry_and_updates_the_board(
    western_service: CustodyService,
) -> None:
    """An allowed unlock is one entry, and the board shows the opener holding the firearms."""
    before = size(western_service)
    r = western_service.execute(cmd("unlock_container", "hana", container="safe-main"))
    assert r.ok and r.index == before and size(western_service) == before + 1
    board = western_service.board(PRODUCTION)
    colt = next(f for f in board["firearms"] if f["id"] == "colt-1")
    assert colt["where"] == "with hana"
    assert next(c for c in board["containers"] if c["id"] == "safe-main")["locked"] is False


def test_refused_command_writes_only_its_refusal(western_service: CustodyService) -> None:
    """A live lot is refused: one refusal entry, projection tables untouched."""
    before, tables = size(western_service), snapshot(western_service)
    r = western_service.execute(
        cmd(
            "receive_lot",
            "hana",
            lot="live-1",
            kind="live",
            caliber=".45 Colt",
            maker="X",
            count=50,
            receipt_date="2025-03-01",
            receipt_source="X",
            container="safe-main",
        )
    )
    assert r.status == "refused" and r.rules == ["no-live-ammo"]
    assert r.verdicts[0]["source"] and r.verdicts[0]["reason"]
    assert size(western_service) == before + 1
    after = snapshot(western_service)
    assert after["custody_lots"] == tables["custody_lots"]
    assert after["custody_firearms"] == tables["custody_firearms"]


def test_malformed_input_writes_nothing(western_service: CustodyService) -> None:
    """Malformed input is rejected with one message per field and nothing is written."""
    before = size(western_service)
    r = western_service.execute(
        {
            "type": "issue",
            "production": PRODUCTION,
            "actor": "hana",
            "firearm": "colt 1",
            "extra": 1,
        }
    )
    assert r.status == "rejected" and r.error_kind == "malformed" and r.index is None
    fields = {f for f, _ in r.field_errors}
    assert {"firearm", "to", "extra"} <= fields
    assert size(western_service) == before


def test_unknown_ids_are_named_and_nothing_is_written(western_service: CustodyService) -> None:
    """Unknown firearm and performer are both named; the log does not grow."""
    before = size(western_service)
    r = western_service.execute(cmd("issue", "hana", firearm="colt-9", to="ghost"))
    assert r.error_kind == "unknown-id" and "colt-9" in (r.error or "")
    assert "ghost" in (r.error or "") and size(western_service) == before


def test_unknown_production_is_named(service: CustodyService) -> None:
    """A command for a production that does not exist says so and writes nothing."""
    r = service.execute(
        {"type": "add_unit", "production": "nope", "actor": "x", "unit": "u", "name": "U"}
    )
    assert r.error_kind == "unknown-id" and "nope" in (r.error or "")


def test_wrong_role_is_recorded(western_service: CustodyService) -> None:
    """A performer adding a person is rejected for role, and the attempt is in the log."""
    before = size(western_service)
    r = western_service.execute(cmd("add_person", "alec", person="x", name="X"))
    assert r.error_kind == "wrong-role" and r.index == before
    assert size(western_service) == before + 1


def test_stale_state_is_recorded_and_changes_nothing(western_service: CustodyService) -> None:
    """Unloading a firearm that is still locked away is stale state; custody is unchanged."""
    before = size(western_service)
    r = western_service.execute(cmd("unload", "hana", firearm="colt-1"))
    assert r.error_kind == "stale-state" and "locked in safe-main" in (r.error or "")
    assert r.index == before
    assert western_service.state(PRODUCTION).firearms["colt-1"].custody.kind == "container"


def test_duplicate_submission_is_rejected(western_service: CustodyService) -> None:
    """Locking an already locked container twice, or adding a unit twice, is refused."""
    r = western_service.execute(cmd("add_unit", "maria", unit="main", name="Main again"))
    assert r.error_kind == "duplicate"


def test_idempotency_key_returns_the_first_result(western_service: CustodyService) -> None:
    """The same key returns the original result and writes no second entry."""
    c = cmd("unlock_container", "hana", container="safe-main", idempotency_key="tab-1-0001")
    first = western_service.execute(c)
    n = size(western_service)
    again = western_service.execute(c)
    assert again.replayed and again.index == first.index and again.status == "allowed"
    assert size(western_service) == n
    other = western_service.execute(
        cmd("unlock_container", "hana", container="cart-main", idempotency_key="tab-1-0001")
    )
    assert other.error_kind == "duplicate" and size(western_service) == n


def test_idempotency_survives_a_new_service(tmp_path: Path) -> None:
    """A retry that reaches a fresh process (new cache) still finds the first result."""
    from coldset.domain.sample import western
    from tests.domain.conftest import DAY

    svc = make_service(tmp_path / "db.sqlite")
    svc.execute_batch(western(DAY, PINS))
    c = cmd("unlock_container", "hana", container="safe-main", idempotency_key="k")
    first = svc.execute(c)
    svc2 = CustodyService(svc.store, svc.ledger, svc.clock, pins=svc.pins)
    assert svc2.execute(c).index == first.index


def test_wrong_pins_are_recorded_and_lock_after_five(western_service: CustodyService) -> None:
    """Five wrong PINs in 15 minutes lock the PIN; the right PIN then fails until a reset."""
    bad = cmd(
        "record_consent",
        "hana",
        performer="alec",
        weapon_type="shotgun",
        confirmations=[{"person": "alec", "pin": "0000"}],
    )
    for _ in range(5):
        r = western_service.execute(bad)
        assert r.error_kind == "credential" and r.index is not None
    good = cmd(
        "record_consent",
        "hana",
        performer="alec",
        weapon_type="shotgun",
        confirmations=[pin("alec")],
    )
    r = western_service.execute(good)
    assert r.error_kind == "credential" and "locked" in (r.error or "")
    assert western_service.execute(cmd("reset_pin", "hana", person="alec", pin="5555")).ok
    ok = western_service.execute(
        cmd(
            "record_consent",
            "hana",
            performer="alec",
            weapon_type="shotgun",
            confirmations=[{"person": "alec", "pin": "5555"}],
        )
    )
    assert ok.ok


def test_pins_never_reach_the_log(western_service: CustodyService) -> None:
    """No PIN, and no PIN hash, appears in any ledger entry."""
    western_service.execute(cmd("set_pin", "alec", person="alec", pin="86420"))
    with western_service.store.read() as conn:
        blob = b"".join(
            d for _i, d in western_service.ledger.entries(conn, western_service.origin(PRODUCTION))
        )
    assert b"86420" not in blob and b"argon2" not in blob
    for p in PINS.values():
        assert f'"pin":"{p}"'.encode() not in blob


def test_batch_is_one_transaction_and_one_checkpoint(western_service: CustodyService) -> None:
    """execute_batch appends every entry with a single signed checkpoint."""
    svc = western_service
    with svc.store.read() as conn:
        before = svc.ledger.checkpoint_count(conn, svc.origin(PRODUCTION))
    rs = svc.execute_batch(
        [
            cmd("unlock_container", "hana", container="safe-main"),
            cmd("unlock_container", "sam", container="safe-second"),
        ]
    )
    assert all(r.ok for r in rs) and rs[1].index == rs[0].index + 1
    with svc.store.read() as conn:
        assert svc.ledger.checkpoint_count(conn, svc.origin(PRODUCTION)) == before + 1


def test_state_cache_follows_another_writer(western_service: CustodyService) -> None:
    """A second service on the same database appends; the first sees it before deciding."""
    svc = western_service
    other = CustodyService(svc.store, svc.ledger, svc.clock, pins=svc.pins)
    assert other.execute(cmd("unlock_container", "hana", container="safe-main")).ok
    r = svc.execute(cmd("unlock_container", "hana", container="safe-main"))
    assert r.error_kind == "stale-state"


def test_rebuild_reproduces_the_tables(western_service: CustodyService) -> None:
    """Clearing and rebuilding from the log gives exactly the incremental tables."""
    svc = western_service
    svc.execute(cmd("unlock_container", "hana", container="safe-main"))
    svc.execute(
        cmd(
            "inspect",
            "hana",
            firearm="colt-2",
            chambers=["empty"] * 6,
            barrel_clear=True,
            confirmations=[pin("frances")],
        )
    )
    svc.execute(cmd("report_live_round", "alec", lot="dummy-45", description="primer"))
    before = snapshot(svc)
    state = svc.state(PRODUCTION)
    assert svc.rebuild(PRODUCTION) == state
    assert snapshot(svc) == before


def test_concern_token_opens_only_its_concern(western_service: CustodyService) -> None:
    """An anonymous concern returns a private token that shows the answer later."""
    svc = western_service
    r = svc.execute(cmd("raise_concern", "anonymous", text="Guns left on the cart at lunch"))
    token = r.secrets["concern_token"]
    concern = r.events[0]["concern"]
    assert "raised_by" not in r.events[0]
    assert svc.execute(
        cmd(
            "acknowledge_concern",
            "lee",
            concern=concern,
            answer="Lunch lock-up is now checked by the 1st AD",
        )
    ).ok
    seen = svc.concern_for_token(PRODUCTION, token)
    assert seen is not None and seen["answer"].startswith("Lunch lock-up")
    assert svc.concern_for_token(PRODUCTION, "not-the-token") is None


def test_timeline_lists_refusals_too(western_service: CustodyService) -> None:
    """The firearm's timeline has allowed and refused attempts with who and what."""
    svc = western_service
    svc.execute(
        cmd(
            "issue", "hana", firearm="colt-1", to="alec", scene="sc-12", confirmations=[pin("alec")]
        )
    )
    rows = svc.timeline(PRODUCTION, "colt-1")
    assert rows[0]["command"] == "receive_firearm"
    assert rows[-1]["outcome"] in ("refused", "rejected") and rows[-1]["actor"] == "hana"
