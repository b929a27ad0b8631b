"""Setting up an install: ``coldset init``."""

from __future__ import annotations

import typer

from coldset.cli.app import JSON_OPTION, app, emit_json, handled, out
from coldset.install import init_install


@app.command()
@handled
def init(
    ctx: typer.Context,
    name: str = typer.Option(
        "coldset.local",
        "--name",
        help="Install name: names the signing key and prefixes every log origin "
        "(use your studio's domain, e.g. safety.studio.example).",
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """Create the data directory, the log signing key (mode 0600) and the database."""
    settings = ctx.obj.settings()
    signer = init_install(settings, name)
    if as_json:
        emit_json(
            {
                "ok": True,
                "home": str(settings.home),
                "verifier_key": signer.verifier_text,
                "key_file": str(settings.key_path),
                "database": settings.database_url,
            }
        )
        return
    out.print(f"Created install [bold]{name}[/] in {settings.home}")
    out.print(f"Signing key: {settings.key_path} (mode 0600; keep it secret, back it up)")
    out.print("Verifier key (publish this; investigators check exports against it):")
    out.print(f"  {signer.verifier_text}")
