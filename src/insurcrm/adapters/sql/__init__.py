"""The SQL adapter: SQLite (embedded default) and PostgreSQL through SQLAlchemy 2 Core."""

from insurcrm.adapters.sql.engine import make_engine
from insurcrm.adapters.sql.schema import check_schema, head_revision, upgrade
from insurcrm.adapters.sql.unit_of_work import SqlStore, SqlUnitOfWork

__all__ = ["SqlStore", "SqlUnitOfWork", "check_schema", "head_revision", "make_engine", "upgrade"]
