"""``ask``: a request in words -> the one SQL shape over ``genesis_generate``, with its reading.

The deterministic parser reads the request against every model's vocabulary (from the catalog); an
optional ``llm`` callable may read it instead, returning a JSON intent (never SQL), which is checked the
same way. Anything not understood makes the result ``needs_confirmation``: a reading is never completed
by a silent guess.
"""
from __future__ import annotations

import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import duckdb
import pyarrow as pa

from genesis_sql.errors import GenesisError, InvalidArgumentError
from genesis_sql.nl.describe import ModelDescription, describe_latest
from genesis_sql.nl.intent import DEFAULT_ROWS, Intent, intent_from_json
from genesis_sql.nl.parser import parse
from genesis_sql.nl.validate import UnsafeQueryError
from genesis_sql.nl.vocabulary import build_vocabulary

log = logging.getLogger(__name__)

LLMReader = Callable[[str, str], Any]
MAX_REQUEST_CHARS = 2_000


@dataclass(frozen=True)
class NLResult:
    """What ``ask`` read: the SQL to run and why.

    Attributes:
        sql: ``SELECT * FROM genesis_generate('<model>', <n>) [WHERE ...]`` ('' when no model was found).
        model: the model name (latest version), or None.
        n: rows asked for.
        conditions: the WHERE conjuncts, as SQL.
        assumptions: defaults and readings chosen without being said (shown to the user).
        unparsed: words and phrases not understood.
        needs_confirmation: whether a person should confirm before running (anything unparsed or ambiguous).
    """

    sql: str
    model: str | None
    n: int
    conditions: tuple[str, ...]
    assumptions: tuple[str, ...]
    unparsed: tuple[str, ...]
    needs_confirmation: bool
    problems: tuple[str, ...] = ()
    connection: Any = field(default=None, repr=False, compare=False)

    def reading(self) -> str:
        """The reading in a few lines, for people: model, rows, each condition, assumptions, doubts."""
        lines = [f"model: {self.model or '?'}", f"rows: {self.n:,}"]
        lines += [f"condition: {c}" for c in self.conditions] or ["condition: none"]
        lines += [f"assumed: {a}" for a in self.assumptions]
        lines += [f"not understood: {u}" for u in self.unparsed]
        lines += [f"problem: {p}" for p in self.problems]
        if self.needs_confirmation:
            lines.append("needs confirmation: yes")
        return "\n".join(lines)

    def rows(self, *, seed: int | None = None) -> pa.Table:
        """Run the SQL with WHERE pushdown: ``n`` rows that all satisfy the conditions."""
        if not self.sql:
            raise InvalidArgumentError("Nothing to run: no model was identified. " + " ".join(self.problems))
        from genesis_sql.connection import GenesisConnection

        con = self.connection
        gcon = con if isinstance(con, GenesisConnection) else GenesisConnection(con)
        sql = self.sql
        if seed is not None:
            sql = sql.replace(f", {self.n})", f", {self.n}, seed := {int(seed)})", 1)
        return gcon.sql(sql).to_arrow_table()


def descriptions(con: Any, models: Sequence[str] | None = None) -> list[ModelDescription]:
    """The description of every stored model's latest version (or of the named ones)."""
    return describe_latest(getattr(con, "duckdb_connection", con), models)


# A request is words; these are the marks of SQL (or of an attempt to smuggle some into one).
_SQL_MARKS = re.compile(r"""
    ;|--|/\*|\*/|\\|\w\(
  | '\s*(or|and|union|;)\b
  | \b(drop|truncate|alter)\s+(table|view|schema|database|macro|function|sequence|index)\b
  | \b(insert\s+into|delete\s+from|update\s+\w+\s+set)\b
  | \bcreate\s+(or\s+replace\s+)?(temp\s+|temporary\s+)?(table|view|macro|function|schema|secret|sequence)\b
  | \b(attach|detach|pragma|checkpoint|vacuum)\b
  | \bcopy\s+(\(|\w+\s+(to|from)\b)
  | \b(install|load)\s+'?[a-z_]+'?\s*$
  | \bset\s+\w+\s*(=|to\b)
  | \bunion\s+(all\s+)?select\b | \bselect\s+\* | \bfrom\s+\w+\s*\(
  | \b(read_csv\w*|read_parquet|read_json\w*|read_text|read_blob|glob|getenv|current_setting|query_table)\b
""", re.IGNORECASE | re.VERBOSE)


def check_request(text: object) -> str:
    """The request text, or UnsafeQueryError when it is not text or carries SQL rather than words."""
    if not isinstance(text, str):
        raise InvalidArgumentError(f"ask needs the request as text. Got {type(text).__name__}.")
    if len(text) > MAX_REQUEST_CHARS:
        raise InvalidArgumentError(f"The request is {len(text):,} characters; at most {MAX_REQUEST_CHARS:,}.")
    found = _SQL_MARKS.search(text)
    if found:
        raise UnsafeQueryError(f"The request contains SQL ({found.group().strip()!r}); ask reads requests in "
                               "words such as '1000 workers over 50 in California'. Check SQL with "
                               "genesis_sql.nl.validate_sql, or run it with genesis sql.")
    return text


def _from_llm(llm: LLMReader, text: str, described: list[ModelDescription], context: str) -> Intent:
    try:
        answer = llm(text, context)
    except GenesisError:
        raise
    except Exception as exc:  # noqa: BLE001 - whatever the caller's LLM raises, reported as ours
        raise InvalidArgumentError(f"The llm callable failed: {type(exc).__name__}: {exc}") from exc
    intent = intent_from_json(answer, {d.name: d for d in described})
    intent.assumptions.insert(0, "read by the llm callable (a JSON intent, checked against the catalog)")
    return intent


def ask(con: duckdb.DuckDBPyConnection, text: str, *, llm: LLMReader | None = None,
        models: Sequence[str] | None = None) -> NLResult:
    """Read a request such as ``"1000 workers over 50 in California"`` into genesis SQL.

    Args:
        con: a connection with genesis installed (plain or :class:`~genesis_sql.GenesisConnection`).
        text: the request.
        llm: optional ``llm(text, prompt_context) -> JSON intent`` (``{"model", "n", "conditions": [{"column",
            "op", "value"}]}``), used instead of the parser; its answer is checked like the parser's.
        models: restrict the reading to these model names.

    Returns:
        An :class:`NLResult`; ``.rows()`` runs it.

    Example:
        >>> genesis_sql.ask(con, "300 workers over 50 in California").sql          # doctest: +SKIP
        "SELECT * FROM genesis_generate('workers', 300) WHERE age > 50 AND state = 93"
    """
    text = check_request(text)
    described = descriptions(con, models)
    if llm is not None:
        from genesis_sql.nl.prompt import prompt_context

        intent = _from_llm(llm, text, described, prompt_context(con, models))
    else:
        intent = parse(text, [build_vocabulary(d) for d in described])
    if intent.n is None and intent.model is not None:
        intent.assumptions.append(f"no row count given: {DEFAULT_ROWS:,} rows")
    n = DEFAULT_ROWS if intent.n is None else intent.n
    return NLResult(
        sql=intent.to_sql() if intent.model is not None else "", model=intent.model, n=n,
        conditions=tuple(intent.conditions), assumptions=tuple(intent.assumptions),
        unparsed=tuple(intent.unparsed), needs_confirmation=intent.needs_confirmation,
        problems=tuple(intent.problems), connection=con)
