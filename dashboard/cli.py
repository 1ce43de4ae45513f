"""``commonshed hub serve``: the web, attached to the hub's command group by ``commonshed``."""

from __future__ import annotations

import click

from hub.cli import Hub, pass_hub


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--threads", default=4, show_default=True, type=int)
@click.option(
    "--trusted-proxies",
    type=click.IntRange(min=0),
    default=None,
    help="Reverse proxies in front (their X-Forwarded-For is believed); default "
    "$COMMONSHED_TRUSTED_PROXIES or 0.",
)
@pass_hub
def serve(hub: Hub, host: str, port: int, threads: int, trusted_proxies: int | None) -> None:
    """Serve the dashboard, tablet and API with waitress (a production WSGI server)."""
    import waitress

    from dashboard import create_app

    hub.migrated_engine()
    config: dict[str, object] = {"DATA_DIR": str(hub.data_dir), "DATABASE_URL": hub.database_url}
    if trusted_proxies is not None:
        config["TRUSTED_PROXIES"] = trusted_proxies
    app = create_app(config)
    click.echo(f"Commonshed hub on http://{host}:{port}/")
    # NOTE: waitress drops X-Forwarded-* from proxies it does not trust; with trusted proxies
    # the app's ProxyFix reads exactly that many hops, so waitress must pass the headers on.
    keep_forwarded = int(app.config["TRUSTED_PROXIES"]) > 0
    waitress.serve(
        app,
        host=host,
        port=port,
        threads=threads,
        ident="commonshed",
        clear_untrusted_proxy_headers=not keep_forwarded,
    )
