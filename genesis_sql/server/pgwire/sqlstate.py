"""Errors as Postgres clients expect them: one SQLSTATE per failure, in one mapper.

GenesisErrors raised inside genesis functions reach the server as DuckDB errors whose text carries
``ClassName: message``; the class name decides the code when it is there, else the DuckDB exception type.
"""
from __future__ import annotations

import re

import duckdb

from genesis_sql import errors as genesis_errors

SYNTAX_ERROR = "42601"
UNDEFINED_TABLE = "42P01"
UNDEFINED_COLUMN = "42703"
UNDEFINED_FUNCTION = "42883"
INVALID_PARAMETER_VALUE = "22023"
INSUFFICIENT_PRIVILEGE = "42501"
QUERY_CANCELED = "57014"
FEATURE_NOT_SUPPORTED = "0A000"
PROGRAM_LIMIT_EXCEEDED = "54000"
PROTOCOL_VIOLATION = "08P01"
INVALID_PASSWORD = "28P01"
INVALID_AUTHORIZATION = "28000"
INVALID_TEXT_REPRESENTATION = "22P02"
INVALID_SQL_STATEMENT_NAME = "26000"
INVALID_CURSOR_NAME = "34000"
INTERNAL_ERROR = "XX000"

# Most specific first: a subclass is listed before its base class.
_GENESIS_CODES: tuple[tuple[type[genesis_errors.GenesisError], str], ...] = (
    (genesis_errors.ConditionSyntaxError, SYNTAX_ERROR),
    (genesis_errors.UnknownColumnError, UNDEFINED_COLUMN),
    (genesis_errors.ConditionError, INVALID_PARAMETER_VALUE),
    (genesis_errors.InvalidModelNameError, "42602"),
    (genesis_errors.ModelNotFoundError, UNDEFINED_TABLE),
    (genesis_errors.InvalidArgumentError, INVALID_PARAMETER_VALUE),
    (genesis_errors.UnsupportedColumnTypeError, "42804"),
    (genesis_errors.FitError, "22000"),
    (genesis_errors.DatabaseLockedError, "55P03"),
    (genesis_errors.MissingDependencyError, FEATURE_NOT_SUPPORTED),
    (genesis_errors.CatalogError, "58000"),
    (genesis_errors.GenesisError, "22000"),
)


def _genesis_code(cls: type) -> str:
    return next(code for base, code in _GENESIS_CODES if issubclass(cls, base))


def _all_genesis_classes() -> list[type]:
    found, todo = [], [genesis_errors.GenesisError]
    while todo:
        cls = todo.pop()
        found.append(cls)
        todo.extend(cls.__subclasses__())
    return found


_BY_NAME = {cls.__name__: _genesis_code(cls) for cls in _all_genesis_classes()}
_NAMED = re.compile(r"\b(" + "|".join(sorted(_BY_NAME, key=len, reverse=True)) + r"):")

_DUCKDB_CODES: tuple[tuple[str, str], ...] = (
    ("ParserException", SYNTAX_ERROR),
    ("InterruptException", QUERY_CANCELED),
    ("PermissionException", INSUFFICIENT_PRIVILEGE),
    ("ConversionException", INVALID_TEXT_REPRESENTATION),
    ("OutOfRangeException", "22003"),
    ("InvalidInputException", INVALID_PARAMETER_VALUE),
    ("NotImplementedException", FEATURE_NOT_SUPPORTED),
    ("ConstraintException", "23000"),
    ("TransactionException", "25000"),
    ("OutOfMemoryException", "53200"),
    ("IOException", "58030"),
)


class ServedError(Exception):
    """An error the server answers with a given SQLSTATE (refusals, limits, unsupported requests)."""

    def __init__(self, sqlstate: str, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.sqlstate = sqlstate
        self.hint = hint


def _catalog_code(text: str) -> str:
    lowered = text.lower()
    if "function" in lowered or "macro" in lowered:
        return UNDEFINED_FUNCTION
    if "column" in lowered:
        return UNDEFINED_COLUMN
    return UNDEFINED_TABLE


def sqlstate_of(exc: BaseException) -> str:
    """The SQLSTATE for ``exc``."""
    if isinstance(exc, ServedError):
        return exc.sqlstate
    if isinstance(exc, genesis_errors.GenesisError):
        return _genesis_code(type(exc))
    text = str(exc)
    named = _NAMED.search(text)
    if named:
        return _BY_NAME[named.group(1)]
    kinds = {cls.__name__ for cls in type(exc).__mro__}
    if "CatalogException" in kinds:
        return _catalog_code(text)
    if "BinderException" in kinds:
        return UNDEFINED_COLUMN if "column" in text.lower() else "42000"
    for name, code in _DUCKDB_CODES:
        if name in kinds:
            return code
    if isinstance(exc, duckdb.Error):
        return "42000"
    return INTERNAL_ERROR


def message_of(exc: BaseException) -> str:
    """The error text a client shows: the first line, without DuckDB's exception-type prefix."""
    text = str(exc).strip() or type(exc).__name__
    named = _NAMED.search(text)
    if named:
        return text[named.start():]
    return re.sub(r"^(\w+ )?Error: ", "", text, count=1)
