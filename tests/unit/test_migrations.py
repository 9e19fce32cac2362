"""Alembic's revisions and the models describe the same schema, on the database under test."""

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from portal.db import make_engine
from portal.migrate import alembic_config, include_object, upgrade
from portal.models import metadata
from tests.conftest import fresh_database_url


def _differences(url: str) -> list:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"include_object": include_object, "compare_type": True})
            return compare_metadata(context, metadata)
    finally:
        engine.dispose()


def test_upgrading_an_empty_database_gives_exactly_the_models_schema(tmp_path_factory):
    url = fresh_database_url(tmp_path_factory, "migrations")
    assert any(diff[0] == "add_table" for diff in _differences(url))  # the comparison does see a missing schema
    upgrade(url)
    assert _differences(url) == []


def test_downgrade_to_nothing_and_upgrade_again(tmp_path_factory):
    url = fresh_database_url(tmp_path_factory, "roundtrip")
    upgrade(url)
    command.downgrade(alembic_config(url), "base")
    engine = make_engine(url)
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    engine.dispose()
    upgrade(url)
    assert _differences(url) == []


def test_the_schedulers_job_table_is_not_part_of_the_models(tmp_path_factory, app):
    """APScheduler creates apscheduler_jobs itself; autogenerate must neither drop nor want it."""
    from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore

    url = fresh_database_url(tmp_path_factory, "jobstore")
    upgrade(url)
    engine = make_engine(url)
    SQLAlchemyJobStore(engine=engine).start(None, "default")
    assert "apscheduler_jobs" in inspect(engine).get_table_names()
    engine.dispose()
    assert _differences(url) == []
