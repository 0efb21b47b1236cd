"""A test world built once per run and put back, row for row, before each test that asks for it.

The permission tables and the route fuzzer run a few thousand tests against the same world (an
organization, its campaigns, pledges, a user per role...). Building it through the models costs
25–60 ms a test, and emptying it again on PostgreSQL as much; copying its rows back costs a few.
`world(build)` builds it the first time, keeps a copy of every row it added (not those an autouse fixture put there before) (and the files it
stored), and on later calls — the database having been emptied after the previous test, as every
test's is — inserts those rows again with their ids, restarts the sequences where they were, puts
back any stored file a test removed, and hands out the world's objects attached to the test's
session (`Session.merge(load=False)`: no query), so a test sees exactly what `build()` left.

A world is rebuilt when the day changes (worlds hold dates relative to today).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

from flask import current_app
from sqlalchemy import text

from webapp.clock import utcnow
from webapp.extensions import db


@dataclass
class Rows:
    """Rows of the database (and where its id sequences stood), to put back into an empty one."""

    rows: dict[str, list[dict]]  # table name -> rows, for the tables that have some
    sequences: list[tuple[str, int, bool]]  # PostgreSQL: (sequence, last_value, is_called)

    @classmethod
    def take(cls, leave_out: dict[str, set[tuple]] | None = None) -> "Rows":
        """Every row of every table, but those whose primary key `leave_out` lists for their table."""
        leave_out = leave_out or {}
        rows: dict[str, list[dict]] = {}
        sequences = []
        with db.engine.connect() as conn:
            for table in db.metadata.sorted_tables:
                there = leave_out.get(table.name, set())
                key = [column.name for column in table.primary_key.columns]
                found = [dict(row) for row in conn.execute(table.select()).mappings()
                         if tuple(row[name] for name in key) not in there]
                if found:
                    rows[table.name] = found
            if db.engine.dialect.name == "postgresql":
                names = conn.exec_driver_sql(
                    "SELECT sequencename FROM pg_sequences WHERE schemaname = current_schema() "
                    "AND last_value IS NOT NULL").scalars().all()
                for name in names:
                    last, called = conn.exec_driver_sql(f'SELECT last_value, is_called FROM "{name}"').one()
                    sequences.append((name, last, called))
        return cls(rows=rows, sequences=sequences)

    def put_back(self) -> None:
        """Insert the rows again, with their ids, and move the sequences back where they stood.

        Sign-in sessions are put back as seen now: one last seen when the copy was taken would be
        touched (written) by any request once sessions.TOUCH_EVERY has passed, or refused once idle.
        """
        from webapp.accounts.models import UserSession

        now = utcnow()
        with db.engine.begin() as conn:
            if conn.dialect.name == "postgresql" and is_superuser(conn):
                # the rows were valid when taken: no trigger needs to check them again
                conn.exec_driver_sql("SET LOCAL session_replication_role = replica")
            for table in db.metadata.sorted_tables:
                rows = self.rows.get(table.name)
                if rows and table.name == UserSession.__tablename__:
                    rows = [{**row, "last_seen_at": now} for row in rows]
                if rows:
                    conn.execute(table.insert(), rows)
            for name, last, called in self.sequences:
                conn.execute(text("SELECT setval(CAST(:s AS regclass), :v, :c)"),
                             {"s": f'"{name}"', "v": last, "c": called})


_superuser: dict[str, bool] = {}


def is_superuser(conn) -> bool:
    key = str(conn.engine.url)
    if key not in _superuser:
        _superuser[key] = bool(conn.exec_driver_sql(
            "SELECT rolsuper FROM pg_roles WHERE rolname = current_user").scalar())
    return _superuser[key]


@dataclass
class _Copy:
    template: object  # the world, its ORM objects detached with their columns loaded
    rows: Rows  # what build() added
    files: dict[Path, bytes]  # what build() stored under UPLOAD_DIR


_copies: dict[tuple, _Copy] = {}


def world(build: Callable[[], SimpleNamespace]) -> SimpleNamespace:
    """The world `build()` makes, from a copy after the first time (the database must be empty)."""
    key = (build.__module__, build.__qualname__, str(db.engine.url), current_app.config.get("UPLOAD_DIR"),
           utcnow().date())
    copy = _copies.get(key)
    if copy is None:
        files, rows = _files(), _row_keys()
        built = build()
        db.session.commit()
        _copies[key] = _take_copy(built, files, rows)
        return built
    copy.rows.put_back()
    for path, data in copy.files.items():
        if not path.is_file() or path.read_bytes() != data:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
    return _attach(copy.template)


def _row_keys() -> dict[str, set[tuple]]:
    """The primary keys of the rows already there (an autouse fixture's, put there before every test)."""
    keys = {}
    with db.engine.connect() as conn:
        for table in db.metadata.sorted_tables:
            found = {tuple(row) for row in conn.execute(table.select().with_only_columns(*table.primary_key.columns))}
            if found:
                keys[table.name] = found
    return keys


def _take_copy(built: SimpleNamespace, files_before: dict[Path, bytes], rows_before: dict[str, set[tuple]]) -> _Copy:
    objects = list({id(obj): obj for obj in _orm_objects(built)}.values())
    for obj in objects:  # columns loaded (merge(load=False) copies them), relationships left to load
        db.session.refresh(obj)
    rows = Rows.take(leave_out=rows_before)
    for obj in objects:
        db.session.expunge(obj)
    files = {path: data for path, data in _files().items() if files_before.get(path) != data}
    return _Copy(template=built, rows=rows, files=files)


def _attach(value):
    """The template with each ORM object replaced by its copy in the test's session."""
    if isinstance(value, SimpleNamespace):
        return SimpleNamespace(**{name: _attach(item) for name, item in vars(value).items()})
    if isinstance(value, dict):
        return {name: _attach(item) for name, item in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_attach(item) for item in value)
    if _is_orm(value):
        return db.session.merge(value, load=False)
    return value


def _orm_objects(value):
    if isinstance(value, SimpleNamespace):
        value = vars(value)
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, (list, tuple)):
        for item in value:
            yield from _orm_objects(item)
    elif _is_orm(value):
        yield value


def _is_orm(value) -> bool:
    return isinstance(value, db.Model)


def _files() -> dict[Path, bytes]:
    root = current_app.config.get("UPLOAD_DIR")
    if not root or not Path(root).is_dir():
        return {}
    return {path: path.read_bytes() for path in Path(root).rglob("*") if path.is_file()}
