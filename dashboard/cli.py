"""``commonshed hub serve``: the web, attached to the hub's command group by ``commonshed``."""

from __future__ import annotations

import click

from hub.cli import Hub, pass_hub


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--threads", default=4, show_default=True, type=int)
@pass_hub
def serve(hub: Hub, host: str, port: int, threads: int) -> None:
    """Serve the dashboard, tablet and API with waitress (a production WSGI server)."""
    import waitress

    from dashboard import create_app

    hub.migrated_engine()
    app = create_app({"DATA_DIR": str(hub.data_dir), "DATABASE_URL": hub.database_url})
    click.echo(f"Commonshed hub on http://{host}:{port}/")
    waitress.serve(app, host=host, port=port, threads=threads, ident="commonshed")
