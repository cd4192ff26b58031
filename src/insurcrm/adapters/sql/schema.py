"""Creating and upgrading the schema with the Alembic migrations shipped in the package.

The revision is kept in the table ``insurcrm_alembic_version``, so an
application with its own Alembic history can share the database.
"""

from __future__ import annotations

from importlib import resources

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect
from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError

from insurcrm.adapters.sql.engine import describe_url, make_engine, translate_errors
from insurcrm.adapters.sql.tables import metadata
from insurcrm.errors import SchemaError, StorageError

__all__ = [
    "VERSION_TABLE",
    "check_schema",
    "current_revision",
    "downgrade",
    "head_revision",
    "upgrade",
]

VERSION_TABLE = "insurcrm_alembic_version"


def _config(engine: Engine | None = None) -> Config:
    cfg = Config()
    location = resources.files("insurcrm.adapters.sql") / "migrations"
    cfg.set_main_option("script_location", str(location))
    cfg.attributes["engine"] = engine
    return cfg


def head_revision() -> str:
    """The newest schema revision this package knows."""
    head = ScriptDirectory.from_config(_config()).get_current_head()
    assert head is not None
    return head


def current_revision(engine: Engine) -> str | None:
    """The schema revision of the database, or None for a database without insurcrm tables.

    Raises:
        StorageError: the database cannot be opened.
    """
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE})
            return context.get_current_revision()
    except DBAPIError as error:
        raise StorageError(
            f"cannot open the database {describe_url(engine.url)}: {error.orig}"
        ) from None


def upgrade(url_or_engine: str | URL | Engine, revision: str = "head") -> str:
    """Create or upgrade the insurcrm schema; returns the revision the database is at.

    Safe to run again: an up-to-date database is left as it is.

    Raises:
        StorageError: the database cannot be opened.
        SchemaError: the database has no insurcrm schema but tables of the same names, or
            a revision newer than this package knows (nothing is changed).
    """
    if isinstance(url_or_engine, Engine):
        engine, own = url_or_engine, False
    else:
        engine, own = make_engine(url_or_engine), True
    try:
        # fails early, with a clear message, if unreachable
        current = current_revision(engine)
        if current is None:
            _refuse_tables_of_another(engine)
        else:
            script = ScriptDirectory.from_config(_config())
            if current not in {rev.revision for rev in script.walk_revisions()}:
                raise _unknown_revision(engine, current, script)
        with translate_errors(engine.url):
            command.upgrade(_config(engine), revision)
        now = current_revision(engine)
    finally:
        if own:
            engine.dispose()
    assert now is not None
    return now


def _refuse_tables_of_another(engine: Engine) -> None:
    """Refuse to create the schema in a database that already has tables of the same
    names that are not insurcrm's (it has no insurcrm revision): nothing is written.

    Raises:
        SchemaError: naming the tables in the way.
    """
    with translate_errors(engine.url):
        existing = set(inspect(engine).get_table_names())
    clash = sorted(existing & set(metadata.tables))
    if clash:
        raise SchemaError(
            f"{describe_url(engine.url)} already has tables that are not insurcrm's "
            f"({', '.join(clash)}) and no insurcrm schema: nothing was changed. Use a "
            "database of its own for insurcrm (on PostgreSQL, a schema of its own)"
        )


def downgrade(url: str | URL, revision: str) -> str | None:
    """Take the schema back to ``revision`` (``"base"`` drops every insurcrm table).

    Returns the revision the database is at afterwards (None at base).
    """
    engine = make_engine(url)
    try:
        with translate_errors(engine.url):
            command.downgrade(_config(engine), revision)
        return current_revision(engine)
    finally:
        engine.dispose()


def check_schema(engine: Engine) -> None:
    """Refuse a database whose schema is missing, older or newer than this package.

    Raises:
        SchemaError: saying to run ``insurcrm db upgrade``.
        StorageError: the database cannot be opened.
    """
    current = current_revision(engine)
    script = ScriptDirectory.from_config(_config())
    head = script.get_current_head()
    where = describe_url(engine.url)
    if current == head:
        return
    if current is None:
        raise SchemaError(
            f"{where} has no insurcrm schema: run `insurcrm db upgrade --db URL` "
            "(or insurcrm.adapters.sql.upgrade(URL))"
        )
    known = {rev.revision for rev in script.walk_revisions()}
    if current in known:
        raise SchemaError(
            f"{where} has schema revision {current}, older than this package's {head}: "
            "run `insurcrm db upgrade --db URL`"
        )
    raise _unknown_revision(engine, current, script)


def _unknown_revision(engine: Engine, current: str, script: ScriptDirectory) -> SchemaError:
    """The refusal of a database at a revision this package does not know (a newer
    insurcrm wrote it)."""
    return SchemaError(
        f"{describe_url(engine.url)} has schema revision {current}, unknown to this package "
        f"(newest known: {script.get_current_head()}); upgrade insurcrm"
    )
