"""The migrations build exactly the schema the models declare, and undo it, on SQLite and PostgreSQL."""
from __future__ import annotations

import os
from pprint import pformat

import flask_migrate
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect
from sqlalchemy.engine import make_url

from tests.conftest import BASE_DATABASE_URL, ON_POSTGRES, ROOT, make_app
from webapp.extensions import db


@pytest.fixture(scope="module")
def scratch_database_url(tmp_path_factory):
    """An empty database: a SQLite file, or on PostgreSQL a database created for these tests."""
    if not ON_POSTGRES:
        yield f"sqlite:///{tmp_path_factory.mktemp('migrations') / 'migrations.sqlite3'}"
        return
    url = make_url(BASE_DATABASE_URL)
    name = f"harambee_migrations_{os.getpid()}"
    server = create_engine(url, isolation_level="AUTOCOMMIT")
    with server.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with server.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        server.dispose()


@pytest.fixture
def scratch_app(scratch_database_url):
    app = make_app(SQLALCHEMY_DATABASE_URI=scratch_database_url)
    with app.app_context():
        try:
            yield app
        finally:
            db.session.remove()
            db.engine.dispose()


def test_migrations_have_a_single_head():
    heads = ScriptDirectory(str(ROOT / "migrations")).get_heads()
    assert len(heads) == 1, f"several migration heads {heads}: merge them with `flask db merge heads`"


def test_migrations_build_the_schema_the_models_declare(scratch_app):
    flask_migrate.upgrade()
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True, "compare_server_default": True})
        differences = compare_metadata(context, db.metadata)
    assert differences == [], (
        "the models and the migrations disagree; add a migration (see migrations/README):\n"
        + pformat(differences)
    )


def test_migrations_downgrade_to_base_and_upgrade_again(scratch_app):
    flask_migrate.upgrade()  # from wherever the other test left the database
    flask_migrate.downgrade(revision="base")
    assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
    flask_migrate.upgrade()
    assert set(db.metadata.tables) <= set(inspect(db.engine).get_table_names())
