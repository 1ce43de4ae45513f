"""Alembic environment: migrate the engine handed over by ``hub.infra.migrate``."""

from alembic import context

from hub.infra.schema import metadata


def run_migrations() -> None:
    """Run migrations on the engine in the config, batch mode for SQLite's ALTER limits."""
    engine = context.config.attributes["engine"]
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()


run_migrations()
