"""``coldset serve`` (the armorer's tablet and the API), ``coldset tls`` (HTTPS on the
set's own network) and ``coldset account`` (logins).

HTTPS: ``serve`` speaks HTTPS when it is bound to an address other than loopback
(the set's Wi-Fi), unless ``--no-tls`` or ``--behind-proxy`` says something else
terminates it; ``--tls`` forces it on loopback too. The certificate comes from the
install's own certificate authority (:mod:`coldset.tls`), made on first use.

``serve --demo`` on a fresh machine makes a throw-away install in a temporary
directory, the demo western and a demo login per person, and prints the URL
and the logins. Without ``--demo`` it serves an install made by ``coldset
init`` and refuses demo logins or an unsafe signing key.
"""

from __future__ import annotations

import contextlib
import gc
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import typer

from coldset.cli.app import JSON_OPTION, app, emit_json, handled, out
from coldset.cli.pin_input import password as read_password
from coldset.config import ConfigError, Settings
from coldset.service.accounts import AccountService

if TYPE_CHECKING:
    from coldset.install import Install
    from coldset.service.demo import DemoLogin
    from coldset.tls import TlsFiles

DEMO_TIME_ZONE = "America/Denver"  # the sample western's time zone
LOOPBACK = ("127.0.0.1", "::1", "localhost")

TLS_HOSTS = typer.Option(
    [],
    "--tls-name",
    help="A host name or IP address the tablets use for this laptop "
    "(repeatable); localhost, the host name and the LAN addresses "
    "found now are always in the certificate.",
)


def wants_tls(tls: bool | None, host: str, *, forwarded: bool) -> bool:
    """HTTPS unless told (``--tls/--no-tls``): on when bound off loopback (the set's
    network), off on loopback or behind a proxy that terminates HTTPS itself."""
    return tls if tls is not None else (host not in LOOPBACK and not forwarded)


def _tls(settings: Settings, install_name: str, names: list[str]) -> TlsFiles:
    from coldset.tls import TlsError, ensure

    hosts = [n for n in names if not _is_ip(n)]
    ips = [n for n in names if _is_ip(n)]
    try:
        return ensure(settings.home, install_name, hosts, ips)
    except TlsError as e:
        raise ConfigError(str(e)) from None


def _is_ip(text: str) -> bool:
    import ipaddress

    try:
        ipaddress.ip_address(text.strip())
    except ValueError:
        return False
    return True


@app.command("tls")
@handled
def tls_command(
    ctx: typer.Context, names: list[str] = TLS_HOSTS, as_json: bool = JSON_OPTION
) -> None:
    """Make the set's certificate authority (once) and a server certificate for HTTPS.

    The tablets install the authority's certificate once, from the /setup page of the
    running server (or its QR code); then `coldset serve --tls` is trusted on the set's
    network without internet. Prints what a tablet's /setup page must show.
    """
    from coldset.install import open_install
    from coldset.tls import ca_fingerprint
    from coldset.web.routes.setup import key_fingerprint

    settings = ctx.obj.settings()
    install = open_install(settings)
    try:
        name = install.signer.name
        files = _tls(settings, name, list(names))
        fp = ca_fingerprint(files.ca.read_bytes())
        kfp = key_fingerprint(install.signer.public_key)
    finally:
        install.close()
    if as_json:
        emit_json(
            {
                "ok": True,
                "ca": str(files.ca),
                "names": list(files.names),
                "addresses": list(files.addresses),
                "install": name,
                "ca_fingerprint": fp,
                "key_fingerprint": kfp,
            }
        )
        return
    out.print(f"Certificate for: {', '.join([*files.names, *files.addresses])}")
    out.print(f"Set CA certificate: {files.ca}")
    out.print("Each tablet's /setup page must show:")
    out.print(f"  install                  {name}")
    out.print(f"  signing key fingerprint  {kfp}")
    out.print(f"  certificate fingerprint  {fp}")


account_app = typer.Typer(
    help="Logins for the web app and API tokens for scripts.", no_args_is_help=True
)
app.add_typer(account_app, name="account")


def _demo_install(home: str | None) -> tuple[Install, list[DemoLogin]]:
    from coldset.clock import SystemClock
    from coldset.install import init_install, open_install
    from coldset.service.accounts import AccountService
    from coldset.service.core import CustodyService
    from coldset.service.demo import setup_demo

    where = Path(home) if home else Path(tempfile.mkdtemp(prefix="coldset-demo-"))
    settings = Settings.load(where)
    init_install(settings, "demo.coldset.local")
    install = open_install(settings)
    clock = SystemClock()
    custody = CustodyService(install.store, install.ledger, clock, pins=install.pins)
    accounts = AccountService(install.store, clock)
    # the shoot day is today where the demo western shoots
    day = clock.now().astimezone(ZoneInfo(DEMO_TIME_ZONE)).date()
    logins = setup_demo(custody, accounts, day)
    return install, list(logins)


@app.command()
@handled
def serve(
    ctx: typer.Context,
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on."),
    port: int = typer.Option(8000, "--port", help="Port to listen on."),
    demo: bool = typer.Option(
        False,
        "--demo",
        help="A throw-away demo install with the "
        "sample western and demo logins (says DEMO on every page).",
    ),
    forwarded: bool = typer.Option(
        False,
        "--behind-proxy",
        help="Trust X-Forwarded-* from "
        "a local reverse proxy (HTTPS termination); the client "
        "address is then the one the proxy forwards.",
    ),
    alert_interval: float = typer.Option(
        30.0,
        "--alert-interval",
        min=1.0,
        help="Seconds between checks for time-based alerts (ammunition left out, a firearm "
        "not collected, an unanswered concern).",
    ),
    concerns_per_address: int = typer.Option(
        5,
        "--concerns-per-address",
        min=1,
        help="Anonymous concerns the public form takes per minute from one client address "
        "(also how many at once); a sender past it is asked to wait a few seconds and "
        "keeps their text. Logged-in members of the production are not counted.",
    ),
    concerns_per_production: int = typer.Option(
        30,
        "--concerns-per-production",
        min=1,
        help="Anonymous concerns the public form takes per minute for one production, from "
        "every address together.",
    ),
    tls: bool = typer.Option(
        None,
        "--tls/--no-tls",
        show_default=False,
        help="HTTPS with the install's own certificate (see `coldset tls`). Default: on "
        "when --host is not a loopback address and not --behind-proxy.",
    ),
    tls_names: list[str] = TLS_HOSTS,
) -> None:
    """Start the web app and the JSON API (uvicorn; one writer, in its own process)."""
    import uvicorn

    from coldset.install import open_install
    from coldset.service.command_queue import warm_up
    from coldset.service.writer_process import WriterProcess, WriterStopped
    from coldset.web import create_app

    install: Install
    logins: list[DemoLogin]
    if demo:
        install, logins = _demo_install(None)
    else:
        install, logins = open_install(ctx.obj.settings()), []
    use_tls = wants_tls(tls, host, forwarded=forwarded)
    files = (
        _tls(
            install.settings,
            install.signer.name,
            list(tls_names),
        )
        if use_tls
        else None
    )
    from coldset.web.ratelimit import ConcernLimits

    limits = ConcernLimits(per_address=concerns_per_address, per_production=concerns_per_production)
    application = create_app(
        install,
        demo=demo,
        demo_logins=logins,
        alert_interval=alert_interval,
        concern_limits=limits,
    )
    # Load every production's state now (the app's startup checks it again before
    # uvicorn listens), then take all of it out of the garbage collector's sight:
    # a full collection over a 100,000-entry state takes ~100 ms, and it would
    # stop every request in the middle of a shoot day.
    writer: WriterProcess = application.state.coldset.queue
    writer.start()  # it loads its state on the other core while this process does
    warm_up(application.state.coldset.custody)
    try:
        writer.wait_ready()
    except WriterStopped as e:
        raise ConfigError(str(e)) from None
    gc.collect()
    gc.freeze()
    scheme = "https" if files is not None else "http"
    url = f"{scheme}://{'localhost' if host in ('127.0.0.1', '0.0.0.0') else host}:{port}/"
    if demo:
        out.print(
            "[bold yellow]DEMO[/] coldset with the sample western "
            f"(data in {install.settings.home}, thrown away when you delete it)"
        )
        out.print(f"Open [bold]{url}[/] and log in as:")
        for d in logins:
            out.print(
                f"  {d.login:<8} password {d.password:<14} PIN {d.pin}  ({', '.join(d.roles)})"
            )
    else:
        out.print(f"coldset serving {install.settings.home} at {url}")
    if files is not None:
        on_lan = [a for a in files.addresses if a not in LOOPBACK]
        if on_lan:
            out.print(
                f"Tablets: open {scheme}://{on_lan[0]}:{port}/setup once to install "
                "the set's certificate"
            )
    # uvloop and httptools (uvicorn[standard]) when installed; no access log (a
    # formatted log line per request costs CPU the one writer's process needs),
    # warnings and errors are still logged. Every production's state is loaded
    # in the app's startup, before uvicorn opens its socket.
    # The board's live streams end first when the server stops (web.live.Server); the
    # graceful timeout is the backstop for any other response that does not finish.
    from coldset.web.live import Server

    server = Server(
        uvicorn.Config(
            application,
            host=host,
            port=port,
            log_level="warning",
            access_log=False,
            loop="auto",
            http="auto",
            timeout_graceful_shutdown=5,
            proxy_headers=forwarded,
            forwarded_allow_ips="127.0.0.1" if forwarded else None,
            ssl_certfile=str(files.cert) if files else None,
            ssl_keyfile=str(files.key) if files else None,
        )
    )
    with contextlib.suppress(KeyboardInterrupt):  # uvicorn raises Ctrl-C again once stopped
        server.run()
    if not server.started:  # as uvicorn.run: the port was taken, or startup failed
        raise typer.Exit(3)


PASSWORD_FROM_STDIN = typer.Option(
    False,
    "--password-from-stdin",
    help="Read the password from the first line of standard input instead of asking.",
)
#: the old --password VALUE: hidden, and refused with how to give it now
PASSWORD_REFUSED = typer.Option(None, "--password", hidden=True)


@account_app.command("add")
@handled
def account_add(
    ctx: typer.Context,
    login: str = typer.Argument(..., help="Login name (lower case)."),
    name: str = typer.Option(..., "--name", help="The person's full name."),
    production: str = typer.Option(None, "--production", help="Production to link."),
    person: str = typer.Option(None, "--person", help="Their person id on that production."),
    password_from_stdin: bool = PASSWORD_FROM_STDIN,
    password_on_command_line: str | None = PASSWORD_REFUSED,
    as_json: bool = JSON_OPTION,
) -> None:
    """Create a login (and link it to a person on a production).

    The password (at least 10 characters) is asked for twice, or read from
    COLDSET_PASSWORD, or from the first line of standard input with
    --password-from-stdin; it never goes on the command line.
    """
    password = read_password(password_from_stdin, password_on_command_line)
    accounts = _accounts(ctx)
    accounts.create(login, name, password)
    if production:
        accounts.link(login, production, person or login)
    if as_json:
        emit_json({"ok": True, "login": login})
    else:
        out.print(f"Created login {login}")


@account_app.command("link")
@handled
def account_link(
    ctx: typer.Context, login: str, production: str, person: str, as_json: bool = JSON_OPTION
) -> None:
    """Make LOGIN act as PERSON on PRODUCTION."""
    _accounts(ctx).link(login, production, person)
    if as_json:
        emit_json({"ok": True})
    else:
        out.print(f"{login} acts as {person} on {production}")


@account_app.command("password")
@handled
def account_password(
    ctx: typer.Context,
    login: str,
    password_from_stdin: bool = PASSWORD_FROM_STDIN,
    password_on_command_line: str | None = PASSWORD_REFUSED,
) -> None:
    """Set a login's password (also turns a demo login into a real one).

    The password is asked for twice, or read from COLDSET_PASSWORD, or from the
    first line of standard input with --password-from-stdin.
    """
    password = read_password(password_from_stdin, password_on_command_line)
    _accounts(ctx).set_password(login, password)
    out.print(f"Password of {login} changed; its sessions are ended")


@account_app.command("token")
@handled
def account_token(
    ctx: typer.Context,
    login: str,
    label: str = typer.Option("script", "--label"),
    as_json: bool = JSON_OPTION,
) -> None:
    """Make an API token for LOGIN (printed once)."""
    token = _accounts(ctx).create_token(login, label)
    if as_json:
        emit_json({"ok": True, "token": token})
    else:
        out.print(token)


def _accounts(ctx: typer.Context) -> AccountService:
    from coldset.clock import SystemClock
    from coldset.install import open_install

    return AccountService(open_install(ctx.obj.settings()).store, SystemClock())
