"""Where on the tablet each command is done, and which page records a step a refusal names.

``STEP_PAGES`` is the one list of the tablet's places: every command of
``domain.commands`` is either there (the page that has its form, for the roles that may
send it) or in ``KEPT_OFF_TABLET`` with the reason. ``tests/web/test_every_step.py`` walks
the command catalogue against both and opens every page to find the form, so a new
command without a page fails a test. A refusal names the rules that failed;
``STEP_FOR_RULE`` says which command records the missing step, so the refusal page links
to that command's page instead of leaving the crew at a dead end.
"""

from __future__ import annotations

from typing import Any

#: command → the page with its form. ``{production}`` and the command's own fields
#: (``{firearm}``, ``{person}``, ``{scene}``) are filled in from the command at hand;
#: the ``#anchor`` is the form's id on that page.
STEP_PAGES: dict[str, str] = {
    # the shoot day: check-in, meal break, wrap; units, sets and shoot days
    "check_in": "/p/{production}/day#check-in",
    "check_out": "/p/{production}/day#check-out",
    "start_meal_break": "/p/{production}/day#meal-break",
    "end_meal_break": "/p/{production}/day#meal-break",
    "wrap_day": "/p/{production}/day#wrap-day",
    "add_unit": "/p/{production}/day#add-unit",
    "add_set": "/p/{production}/day#add-set",
    "add_shoot_day": "/p/{production}/day#add-shoot-day",
    # people
    "add_person": "/p/{production}/people",
    "grant_role": "/p/{production}/people/{person}",
    "revoke_role": "/p/{production}/people/{person}",
    "record_credential": "/p/{production}/people/{person}",
    "reset_pin": "/p/{production}/people/{person}",
    "set_pin": "/p/{production}/people/{person}#set-pin",
    "record_training": "/p/{production}/training",
    "record_consent": "/p/{production}/training",
    "withdraw_consent": "/p/{production}/training",
    # inventory: firearms, lots, containers
    "receive_firearm": "/p/{production}/inventory",
    "return_firearm": "/p/{production}/inventory",
    "receive_lot": "/p/{production}/inventory",
    "return_lot": "/p/{production}/inventory",
    "verify_dummy_lot": "/p/{production}/inventory#verify-dummy-lot",
    "reconcile_counts": "/p/{production}/inventory#count",
    "add_container": "/p/{production}/inventory",
    "lock_container": "/p/{production}/inventory",
    "unlock_container": "/p/{production}/inventory",
    "take_from_container": "/p/{production}/inventory",
    "put_in_container": "/p/{production}/inventory",
    # scenes and the meeting
    "schedule_scene": "/p/{production}/scenes",
    "sign_off_plan": "/p/{production}/scenes/{scene}",
    "wrap_scene": "/p/{production}/scenes/{scene}",
    "hold_safety_meeting": "/p/{production}/meeting",
    # a firearm in hand
    "inspect": "/p/{production}/handling?firearm={firearm}#inspect",
    "issue": "/p/{production}/handoff?firearm={firearm}",
    "collect": "/p/{production}/handling?firearm={firearm}",
    "transfer": "/p/{production}/handling?firearm={firearm}#transfer",
    "load": "/p/{production}/handling?firearm={firearm}",
    "unload": "/p/{production}/handling?firearm={firearm}",
    "discharge": "/p/{production}/handling?firearm={firearm}",
    # safety
    "report_incident": "/p/{production}/safety",
    "report_live_round": "/p/{production}/safety",
    "call_stop_work": "/p/{production}/safety",
    "clear_stop_work": "/p/{production}/safety",
    "release_quarantine": "/p/{production}/safety",
    "resolve_alert": "/p/{production}/safety",
    "acknowledge_concern": "/p/{production}/safety",
    "raise_concern": "/c/{production}",
}

#: The form's ``action`` when it is not ``/p/{production}/do/{command}``.
FORM_ACTIONS: dict[str, str] = {
    "issue": "/p/{production}/handoff",
    "raise_concern": "/c/{production}",
}

#: Commands with no tablet form, on purpose, and why.
KEPT_OFF_TABLET: dict[str, str] = {
    "create_production": "A production is created once, by whoever runs the server "
    "(`coldset init` / `coldset production create`, or the API); every "
    "tablet page works inside a production that exists.",
    "check_alerts": "Nobody sends it: the server checks the time limits itself every 30 "
    "seconds and records an alert when one comes due.",
}

#: rule id → (the command that records the missing step, what the button says)
STEP_FOR_RULE: dict[str, tuple[str, str]] = {
    "misfire-quarantine": ("inspect", "Record the barrel inspection and function check"),
    "dummy-verified": ("verify_dummy_lot", "Record the dummy lot check"),
    "handler-present": ("check_in", "Check in as the handler on the set"),
    "show-clear-before-issue": ("inspect", "Show it clear (inspection)"),
    "recheck-after-break": ("inspect", "Inspect it again"),
    "barrel-check-before-blanks": ("inspect", "Record the barrel check"),
    "round-accounting": ("reconcile_counts", "Count the lot"),
    "ammo-secured": ("lock_container", "Lock the ammunition away"),
    "safety-meeting": ("hold_safety_meeting", "Record the safety meeting"),
    "performer-trained": ("record_training", "Record the training"),
    "handler-credentials": ("record_credential", "Record the credential"),
    "concern-answered": ("acknowledge_concern", "Answer the concern"),
    "stop-work": ("clear_stop_work", "Open the stop-work"),
    "collect-after-take": ("collect", "Collect the firearm"),
}


def page_for(command: str, production: str, fields: dict[str, Any]) -> str | None:
    """The page that has ``command``'s form, filled in from ``fields``; None when the page
    needs a field ``fields`` does not have (or the command has no page)."""
    template = STEP_PAGES.get(command)
    if template is None:
        return None
    values = {
        k: str(v) for k, v in fields.items() if isinstance(v, str | int) and k != "production"
    }
    if (
        command in ("grant_role", "revoke_role", "record_credential", "reset_pin", "set_pin")
        and "person" not in values
    ):
        values["person"] = str(fields.get("actor") or "")
    try:
        return template.format(production=production, **values)
    except (KeyError, IndexError, ValueError):
        return None


def step_links(
    production: str, command: dict[str, Any], verdicts: list[dict[str, Any]]
) -> dict[str, tuple[str, str]]:
    """rule id → (button text, page) for every failing rule whose missing step a page
    records."""
    out: dict[str, tuple[str, str]] = {}
    for v in verdicts:
        rule = str(v.get("rule") or "")
        step = STEP_FOR_RULE.get(rule)
        if step is None or rule in out:
            continue
        if step[0] == "inspect" and command.get("type") == "issue":
            continue  # the handoff form itself shows it clear: "Back to the form"
        url = page_for(step[0], production, command)
        if url is None and "{" not in STEP_PAGES[step[0]].replace("{production}", ""):
            url = STEP_PAGES[step[0]].format(production=production)
        if url is not None:
            out[rule] = (step[1], url)
    return out
