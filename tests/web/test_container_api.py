"""Taking one firearm out of a safe and relocking, through the service and the JSON API
(issue 10): the rest stays locked away, and the handoff of the one taken out goes through."""

from __future__ import annotations

from typing import Any

from tests.web.conftest import PINS, Web

C = "/api/v1/productions/dusty-trail/commands/"


def _post(web: Web, h: dict[str, str], type_: str, **body: Any) -> Any:
    return web.client.post(C + type_, json=body, headers=h)


def test_take_one_out_relock_and_hand_over(web: Web) -> None:
    """unlock (leave_inside) -> take_from_container colt-1 -> lock -> POST handoffs: 200;
    colt-2 and every round stay in the locked safe; a second take from the locked safe is
    refused (409 stale state) and changes nothing."""
    accounts = web.app.state.coldset.accounts
    h = {"Authorization": f"Bearer {accounts.create_token('hana', 'test')}"}
    rounds_before = {lid: dict(lot.where) for lid, lot in web.state.lots.items()}
    r = _post(web, h, "unlock_container", container="safe-main", leave_inside=True)
    assert r.status_code == 200, r.json()
    r = _post(web, h, "take_from_container", container="safe-main", firearms=["colt-1"])
    assert r.status_code == 200, r.json()
    r = _post(web, h, "lock_container", container="safe-main", firearms=[])
    assert r.status_code == 200, r.json()
    st = web.state
    assert st.containers["safe-main"].locked and "colt-2" in st.containers["safe-main"].firearms
    assert {lid: dict(lot.where) for lid, lot in st.lots.items()} == rounds_before
    size = web.size()
    r = _post(web, h, "take_from_container", container="safe-main", firearms=["colt-2"])
    assert r.status_code in (409, 422) and "locked" in r.json()["detail"]
    assert (
        web.size() in (size, size + 1) and web.state.firearms["colt-2"].custody.kind == "container"
    )
    r = web.client.post(
        "/api/v1/productions/dusty-trail/handoffs",
        headers=h,
        json={
            "firearm": "colt-1",
            "chambers": ["empty"] * 6,
            "barrel_clear": True,
            "to": "alec",
            "pin": PINS["alec"],
            "scene": "sc-12",
            "confirmations": [{"person": "dave", "pin": PINS["dave"]}],
        },
    )
    assert r.status_code == 200, r.json()
    assert web.state.firearms["colt-1"].custody.ref == "alec"


def test_inventory_page_opens_leaving_contents_and_takes_one_out(web: Web) -> None:
    """The inventory page's forms: "Unlock, leave contents inside", then "Take colt-1
    out", then "Lock" (nothing named): colt-1 stays with the armorer, colt-2 and the
    rounds are locked away again."""
    from tests.web.conftest import P, csrf_of

    csrf = web.login("hana")
    page = web.client.get(f"{P}/inventory")
    assert "Unlock, leave contents inside" in page.text
    r = web.post(
        f"{P}/do/unlock_container",
        {"container": "safe-main", "leave_inside": "true", "next": f"{P}/inventory"},
        csrf,
    )
    assert r.status_code == 200
    assert "Take colt-1 out" in r.text
    csrf = csrf_of(r.text)
    r = web.post(
        f"{P}/do/take_from_container",
        {"container": "safe-main", "firearms": "colt-1", "next": f"{P}/inventory"},
        csrf,
    )
    assert r.status_code == 200
    r = web.post(
        f"{P}/do/lock_container",
        {"container": "safe-main", "next": f"{P}/inventory"},
        csrf_of(r.text),
    )
    assert r.status_code == 200
    st = web.state
    assert st.containers["safe-main"].locked
    assert st.firearms["colt-2"].custody.kind == "container"
    assert st.held_by("hana") == ["colt-1"] and st.unsecured_rounds() == {}
