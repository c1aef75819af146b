"""An intent: which model, how many rows, which conditions, and the one SQL shape it becomes.

The parser produces intents; so may an LLM (as JSON, never SQL). Either way :func:`check_intent` checks it
against the model's description, and :meth:`Intent.to_sql` renders it as

    SELECT * FROM genesis_generate('<model>', <n>) WHERE <conditions on unqualified columns>
"""
from __future__ import annotations

import datetime as dt
import difflib
import functools
import json
import re
from dataclasses import dataclass, field
from typing import Any

import duckdb

from genesis_sql.errors import InvalidArgumentError
from genesis_sql.nl.describe import ColumnDescription, ModelDescription

OPERATORS = ("=", "!=", "<", "<=", ">", ">=", "between", "in", "not in")
_NEGATED = {"=": "!=", "!=": "=", "<": ">=", "<=": ">", ">": "<=", ">=": "<", "in": "not in", "not in": "in"}
_PLAIN_NAME = re.compile(r"^[a-z_][a-z0-9_]*$")
DEFAULT_ROWS = 1000


@functools.lru_cache(maxsize=1)
def _reserved() -> frozenset[str]:
    con = duckdb.connect()
    try:
        return frozenset(r[0] for r in con.execute(
            "SELECT keyword_name FROM duckdb_keywords() WHERE keyword_category <> 'unreserved'").fetchall())
    finally:
        con.close()


def identifier(name: str) -> str:
    """A column name as SQL: bare when it is a plain lower-case word, else double-quoted."""
    if _PLAIN_NAME.match(name) and name not in _reserved():
        return name
    return '"' + name.replace('"', '""') + '"'


def literal(value: Any) -> str:
    """A value as a SQL literal."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value) if isinstance(value, float) else str(value)
    if isinstance(value, (dt.date, dt.datetime)):
        return "'" + value.isoformat(sep=" ") + "'" if isinstance(value, dt.datetime) else f"'{value.isoformat()}'"
    return "'" + str(value).replace("'", "''") + "'"


@dataclass(frozen=True)
class Clause:
    """One condition on one column: ``age > 50``, ``state IN (93, 74)``, ``age BETWEEN 30 AND 39``."""

    column: str
    op: str
    value: Any

    def negated(self) -> Clause:
        """The opposite clause (BETWEEN has none and raises)."""
        if self.op not in _NEGATED:
            raise InvalidArgumentError(f"Cannot negate {self.to_sql()}.")
        return Clause(self.column, _NEGATED[self.op], self.value)

    def to_sql(self) -> str:
        """The clause as SQL over the unqualified column."""
        name = identifier(self.column)
        if self.op == "between":
            return f"{name} BETWEEN {literal(self.value[0])} AND {literal(self.value[1])}"
        if self.op in ("in", "not in"):
            items = ", ".join(literal(v) for v in self.value)
            return f"{name} {self.op.upper()} ({items})"
        return f"{name} {'<>' if self.op == '!=' else self.op} {literal(self.value)}"

    def to_dict(self) -> dict[str, Any]:
        """The JSON form of an intent's condition."""
        value = list(self.value) if isinstance(self.value, tuple) else self.value
        return {"column": self.column, "op": self.op, "value": value}


@dataclass
class Intent:
    """A reading of a request: model, row count, conditions, and what was assumed or not understood."""

    model: str | None = None
    n: int | None = None
    clauses: list[Clause] = field(default_factory=list)
    assumptions: list[str] = field(default_factory=list)
    unparsed: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def needs_confirmation(self) -> bool:
        """Whether something in the request was not understood or is ambiguous."""
        return bool(self.unparsed or self.problems or self.model is None)

    @property
    def conditions(self) -> list[str]:
        """The conditions as SQL conjuncts."""
        return [c.to_sql() for c in self.clauses]

    def to_sql(self) -> str:
        """``SELECT * FROM genesis_generate('<model>', <n>) [WHERE ...]``."""
        if self.model is None:
            raise InvalidArgumentError("No model was identified, so there is no SQL to run.")
        n = DEFAULT_ROWS if self.n is None else self.n
        sql = f"SELECT * FROM genesis_generate('{self.model}', {n})"
        return sql + (" WHERE " + " AND ".join(self.conditions) if self.clauses else "")


def _coerce(column: ColumnDescription, value: Any, problems: list[str]) -> Any:
    """A JSON value as the column's type, or the value unchanged with a problem recorded."""
    if column.kind in ("integer", "numeric") or (column.kind == "categorical" and not isinstance(
            next(iter(column.categories), ""), str)):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            try:
                number = float(str(value).replace(",", ""))
            except ValueError:
                problems.append(f"{column.name} holds numbers; {value!r} is not one.")
                return value
            return int(number) if number.is_integer() else number
        return value
    if column.kind == "boolean":
        if isinstance(value, bool):
            return value
        if str(value).lower() in ("true", "yes", "1"):
            return True
        if str(value).lower() in ("false", "no", "0"):
            return False
        problems.append(f"{column.name} is true or false; {value!r} is neither.")
        return value
    if column.kind == "datetime":
        try:
            return dt.date.fromisoformat(str(value)) if len(str(value)) <= 10 else dt.datetime.fromisoformat(
                str(value))
        except ValueError:
            problems.append(f"{column.name} is a date; {value!r} is not an ISO date such as '2001-02-03'.")
            return value
    if column.categories and column.other_values == 0 and value not in column.categories:
        matches = {str(c).lower(): c for c in column.categories}
        if str(value).lower() in matches:
            return matches[str(value).lower()]
        close = difflib.get_close_matches(str(value), [str(c) for c in column.categories], n=3)
        hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
        problems.append(f"{column.name} never takes {value!r} in training.{hint}")
    return value


def _support_problem(column: ColumnDescription, clause: Clause) -> str | None:
    """Why no training value could satisfy the clause, or None."""
    if column.min is None or column.max is None or clause.op in ("!=", "not in"):
        return None
    values = clause.value if isinstance(clause.value, tuple) else (clause.value,)
    try:
        low, high = column.min, column.max
        if clause.op == "between":
            empty = clause.value[0] > high or clause.value[1] < low or clause.value[0] > clause.value[1]
        elif clause.op in ("=", "in"):
            empty = all(v < low or v > high for v in values)
        elif clause.op in (">", ">="):
            empty = clause.value > high or clause.op == ">" and clause.value == high
        else:
            empty = clause.value < low or clause.op == "<" and clause.value == low
    except TypeError:
        return None
    if empty:
        return (f"{clause.to_sql()} has no training support: {column.name} ranged from {literal(column.min)} "
                f"to {literal(column.max)}.")
    return None


def check_intent(intent: Intent, model: ModelDescription) -> Intent:
    """Check columns, operators, value types and training support; record what fails as problems."""
    checked: list[Clause] = []
    for clause in intent.clauses:
        column = model.column(clause.column)
        if column is None:
            close = difflib.get_close_matches(clause.column, [c.name for c in model.columns], n=3)
            hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
            intent.problems.append(f"Model {model.name!r} has no column {clause.column!r}.{hint}")
            continue
        if clause.op not in OPERATORS:
            intent.problems.append(f"Unknown operator {clause.op!r}; use one of {', '.join(OPERATORS)}.")
            continue
        if clause.op == "between" or clause.op in ("in", "not in"):
            if not isinstance(clause.value, (list, tuple)) or (clause.op == "between" and len(clause.value) != 2) \
                    or not clause.value:
                intent.problems.append(f"{clause.op.upper()} on {column.name} needs "
                                       f"{'two values' if clause.op == 'between' else 'a list of values'}.")
                continue
            value: Any = tuple(_coerce(column, v, intent.problems) for v in clause.value)
        else:
            value = _coerce(column, clause.value, intent.problems)
        bound = Clause(column.name, clause.op, value)
        problem = _support_problem(column, bound)
        if problem:
            intent.problems.append(problem)
        if bound not in checked:
            checked.append(bound)
    intent.clauses = checked
    return intent


def intent_from_json(data: Any, models: dict[str, ModelDescription]) -> Intent:
    """An intent from JSON (an LLM's answer): ``{"model", "n", "conditions": [{"column", "op", "value"}]}``.

    Raises:
        InvalidArgumentError: the JSON is not an object of that shape.
    """
    if isinstance(data, str):
        try:
            data = json.loads(data)
        except json.JSONDecodeError as exc:
            raise InvalidArgumentError(f"The intent must be JSON such as {{\"model\": \"m\", \"n\": 100, "
                                       f"\"conditions\": []}}: {exc}") from exc
    if not isinstance(data, dict) or set(data) - {"model", "n", "conditions", "unparsed", "assumptions"}:
        raise InvalidArgumentError("The intent must be a JSON object with keys model, n, conditions (and "
                                   f"optionally unparsed, assumptions). Got {str(data)[:200]!r}.")
    intent = Intent(assumptions=[str(a) for a in data.get("assumptions") or []],
                    unparsed=[str(u) for u in data.get("unparsed") or []])
    model = data.get("model")
    if not isinstance(model, str) or model.lower() not in models:
        close = difflib.get_close_matches(str(model), list(models), n=3)
        hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
        intent.problems.append(f"Unknown model {model!r}.{hint}")
        return intent
    intent.model = model.lower()
    n = data.get("n")
    if n is not None and (isinstance(n, bool) or not isinstance(n, int) or n < 0):
        intent.problems.append(f"n must be a whole number of rows; got {n!r}.")
    else:
        intent.n = n
    conditions = data.get("conditions") or []
    if not isinstance(conditions, list):
        raise InvalidArgumentError(f"conditions must be a list of {{column, op, value}}. Got {conditions!r}.")
    for item in conditions:
        if not isinstance(item, dict) or set(item) != {"column", "op", "value"} or not isinstance(item["column"], str):
            raise InvalidArgumentError(f"Each condition must be {{\"column\", \"op\", \"value\"}}. Got {item!r}.")
        op = str(item["op"]).lower().strip()
        op = {"==": "=", "<>": "!=", "not_in": "not in"}.get(op, op)
        value = tuple(item["value"]) if isinstance(item["value"], list) else item["value"]
        intent.clauses.append(Clause(item["column"], op, value))
    return check_intent(intent, models[intent.model])
