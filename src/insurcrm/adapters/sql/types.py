"""Column types that keep values exact, and an order that stays the same, on every database."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, Numeric, String
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.types import TypeDecorator, TypeEngine

from insurcrm.domain.figure_batch import amount_of

__all__ = ["Amount", "code_points"]

_CENT = Decimal("0.01")


class Amount(TypeDecorator[Decimal]):
    """An exact decimal with two places: money amounts and percentage shares.

    SQLite has no exact decimal (SQLAlchemy's ``Numeric`` is stored there as a
    floating-point number, which sums premiums wrongly), so on SQLite the
    value is stored as integer hundredths (cents) and ``SUM`` stays exact. On
    PostgreSQL and other databases it is ``NUMERIC(18, 2)``. Divide an SQL sum
    by :meth:`scale` to get the amount back: use :func:`sum_to_decimal`.
    """

    impl = Numeric(18, 2)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(BigInteger())
        return dialect.type_descriptor(Numeric(18, 2, asdecimal=True))

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if dialect.name == "sqlite":
            return Amount.to_cents(value)
        return value

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        return None if value is None else Amount.sum_to_decimal(value, dialect.name)

    @staticmethod
    def to_cents(value: Decimal) -> int:
        """The SQLite form of an amount: integer hundredths."""
        return int((value / _CENT).to_integral_exact())

    @staticmethod
    def sum_to_decimal(raw: Any, dialect_name: str) -> Decimal:
        """Turn the raw result of an SQL ``SUM`` over an :class:`Amount` column into a Decimal."""
        if raw is None:
            return Decimal("0.00")
        if dialect_name == "sqlite":
            return amount_of(int(raw))  # exact, two places
        return Decimal(raw).quantize(_CENT)


class code_points(FunctionElement[Any]):  # noqa: N801 -- a SQL function's name
    """A text column ordered by code points, as Python orders strings (the domain's ties
    between records of a day go to the greater id; writers lock rows in one order):
    SQLite compares text so (BINARY); PostgreSQL by the database's collation unless told
    ``COLLATE "C"`` (on a UTF-8 database, code point order)."""

    type: Any = String()
    inherit_cache = True


@compiles(code_points)
def _code_points(element: code_points, compiler: SQLCompiler, **kw: Any) -> str:
    return str(compiler.process(element.clauses, **kw))


@compiles(code_points, "postgresql")
def _code_points_postgresql(element: code_points, compiler: SQLCompiler, **kw: Any) -> str:
    return f'({compiler.process(element.clauses, **kw)} COLLATE "C")'
