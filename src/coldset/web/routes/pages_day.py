"""The shoot day: handlers check in and out, meal breaks, wrap of the day; and the units,
sets and shoot days the day runs on. Each form shows only to the roles that may send it
(``domain.decide.PERMISSIONS``)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from coldset.domain.decide import PERMISSIONS
from coldset.web.context import app_state, member, render

router = APIRouter()


@router.get("/p/{production}/day")
def day(request: Request, production: str) -> Response:
    m = member(request, production)
    st = app_state(request)
    state = st.custody.state(production)
    may = {
        t
        for t in (
            "check_in",
            "check_out",
            "start_meal_break",
            "end_meal_break",
            "wrap_day",
            "add_unit",
            "add_set",
            "add_shoot_day",
        )
        if m.has(*PERMISSIONS[t])
    }
    mine = state.checked_in.get(m.person)
    return render(
        request,
        "day.html",
        production=production,
        m=m,
        s=state,
        may=may,
        mine=mine,
        units=sorted(state.units.values(), key=lambda u: u.id),
        sets=sorted(state.sets.values(), key=lambda x: (x.unit, x.id)),
        days=sorted(state.shoot_days.values(), key=lambda d: d.date),
        today=st.clock.now().date().isoformat(),
    )
