from sqlalchemy import inspect

from hub.infra import migrate
from hub.infra.db import make_engine
from hub.infra.schema import metadata


def test_upgrade_from_empty_builds_every_table_the_models_know(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'fresh.db'}")
    assert migrate.current_revisions(engine) == set()
    migrate.upgrade(engine)
    assert migrate.is_up_to_date(engine)
    assert set(metadata.tables) <= set(inspect(engine).get_table_names())


def test_migrated_schema_matches_the_models_on_both_backends(engine):
    """Autogenerate finds nothing to do: the migrations and the models agree."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), metadata)
    assert diff == []


def test_downgrade_to_base_and_up_again(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'roundtrip.db'}")
    migrate.upgrade(engine)
    migrate.downgrade(engine, "base")
    assert inspect(engine).get_table_names() == ["alembic_version"]
    migrate.upgrade(engine)
    assert migrate.is_up_to_date(engine)


def test_sqlite_runs_in_wal_with_foreign_keys(sqlite_engine):
    with sqlite_engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
