"""People (roles, credentials, PINs, logins), training and consent, scenes, safety meetings."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from coldset.domain.model import CredentialKind, FirearmType, MuzzleDirection, Role, SignOffRole
from coldset.service.accounts import AccountError
from coldset.web.context import HTTPProblem, app_state, member, redirect, render
from coldset.web.routes.search import holdings

router = APIRouter()


@router.get("/p/{production}/people")
def people(request: Request, production: str) -> Response:
    m = member(request, production)
    st = app_state(request)
    state = st.custody.state(production)
    return render(
        request,
        "people.html",
        production=production,
        m=m,
        s=state,
        roles=list(Role),
        credential_kinds=list(CredentialKind),
        logins=st.accounts.logins_for(production),
        today=st.clock.now().date().isoformat(),
    )


@router.get("/p/{production}/people/{person}")
def person(request: Request, production: str, person: str) -> Response:
    m = member(request, production)
    st = app_state(request)
    state = st.custody.state(production)
    p = state.people.get(person)
    if p is None:
        raise HTTPProblem(404, "Not found", f"No person {person!r} on this production.")
    return render(
        request,
        "person.html",
        production=production,
        m=m,
        s=state,
        p=p,
        roles=list(Role),
        credential_kinds=list(CredentialKind),
        weapon_types=list(FirearmType),
        login=st.accounts.logins_for(production).get(person),
        today=st.clock.now().date().isoformat(),
        error=None,
        holds=holdings(state, person),
    )


@router.post("/p/{production}/people/{person}/login")
async def create_login(request: Request, production: str, person: str) -> Response:
    """An admin gives a person a login for this production (accounts are not in the log)."""
    m = member(request, production)
    form = await request.form()
    if not m.has("admin"):
        raise HTTPProblem(
            403, "Not allowed for your role", "Only an admin of this production creates logins."
        )
    st = app_state(request)
    if person not in st.custody.state(production).people:
        raise HTTPProblem(404, "Not found", f"No person {person!r} on this production.")
    login = str(form.get("login") or "").strip().lower()
    try:
        if st.accounts.get(login) is None:
            name = st.custody.state(production).people[person].name
            st.accounts.create(login, name, str(form.get("password") or ""))
        st.accounts.link(login, production, person)
    except AccountError as e:
        raise HTTPProblem(422, "Login not created", str(e)) from None
    return redirect(
        request,
        f"/p/{production}/people/{person}",
        f"Login {login} now acts as {person} on this production.",
    )


@router.get("/p/{production}/training")
def training(request: Request, production: str) -> Response:
    m = member(request, production)
    state = app_state(request).custody.state(production)
    performers = [state.people[p] for p in state.people_with("performer")]
    return render(
        request,
        "training.html",
        production=production,
        m=m,
        s=state,
        performers=performers,
        weapon_types=list(FirearmType),
    )


@router.get("/p/{production}/scenes")
def scenes(request: Request, production: str) -> Response:
    m = member(request, production)
    state = app_state(request).custody.state(production)
    return render(
        request, "scenes.html", production=production, m=m, s=state, muzzles=list(MuzzleDirection)
    )


@router.get("/p/{production}/scenes/{scene}")
def scene(request: Request, production: str, scene: str) -> Response:
    m = member(request, production)
    state = app_state(request).custody.state(production)
    sc = state.scenes.get(scene)
    if sc is None:
        raise HTTPProblem(404, "Not found", f"No scene {scene!r} on this production.")
    return render(
        request,
        "scene.html",
        production=production,
        m=m,
        s=state,
        sc=sc,
        signoff_roles=list(SignOffRole),
    )


@router.get("/p/{production}/meeting")
def meeting(request: Request, production: str) -> Response:
    m = member(request, production)
    state = app_state(request).custody.state(production)
    return render(request, "meeting.html", production=production, m=m, s=state)
