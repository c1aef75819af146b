"""What the pushdown rules pass along: the parsed query plus what each rule found."""
from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlglot import exp

from genesis_sql.schema import ColumnSpec

GENERATOR = "genesis_generate"
QUERY = "genesis_query"


@dataclass
class Generator:
    """One ``genesis_generate(...)`` call in the query."""

    call: exp.Anonymous
    model: str
    columns: list[ColumnSpec]
    index: int  # the call's place among the generator calls of the text, in reading order
    pushed: list[exp.Expression] = field(default_factory=list)
    condition: str | None = None  # the condition the call gets (given and pushed conjuncts AND-ed)

    def given_condition(self) -> exp.PropertyEQ | None:
        """The call's ``condition := ...`` argument, if it has one."""
        for arg in self.call.expressions:
            if isinstance(arg, exp.PropertyEQ) and arg.this.name.lower() == "condition":
                return arg
        return None

    def requested_condition(self) -> str | None:
        """The condition text the call asks for, pushed conjuncts included (None when not a string literal)."""
        if self.condition is not None:
            return self.condition
        given = self.given_condition()
        if given is not None and isinstance(given.expression, exp.Literal) and given.expression.is_string:
            return given.expression.this
        return None


@dataclass
class Source:
    """A relation of one SELECT that reads a generator, possibly through subqueries or a CTE.

    ``column_map`` maps the relation's visible column names (lower-case) to expressions over the
    generator's columns; ``blocked`` says why nothing may be pushed through it, if so.
    """

    alias: str
    generator: Generator
    column_map: dict[str, exp.Expression]
    null_supplying: bool = False
    blocked: str | None = None


@dataclass(frozen=True)
class Pushed:
    """A conjunct that became part of a generator's condition."""

    model: str
    source: str
    condition: str
    bound: str | None = None  # the conjunct with its parameters' values, when it had any


@dataclass(frozen=True)
class Skipped:
    """A conjunct that keeps its plain SQL meaning, and why."""

    conjunct: str
    reason: str


@dataclass
class Rewrite:
    """A query on its way through the rules, and the result: rewritten SQL plus what was (not) pushed.

    ``text`` is the user's text with views over generators inlined; the rules work on ``expression``, a
    parse of it, and the SQL to run is ``text`` with only the generator calls replaced.
    """

    original: str
    expression: exp.Expression | None
    columns_of: Callable[[str], list[ColumnSpec] | None]
    text: str = ""
    parameters: Sequence[Any] | Mapping[str, Any] | None = None
    views: list[str] = field(default_factory=list)  # views over generators inlined into ``text``
    nested: list[tuple[str, Rewrite]] = field(default_factory=list)  # genesis_query(...) texts, rewritten
    generators: list[Generator] = field(default_factory=list)
    sources: dict[int, list[Source]] = field(default_factory=dict)  # id(Select) -> its generator sources
    other_relations: dict[int, list[str]] = field(default_factory=dict)  # id(Select) -> other aliases
    pushed_from: list[tuple[Source, str, str | None]] = field(default_factory=list)  # (source, text, bound)
    pushed: list[Pushed] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    unseen: list[tuple[str, str]] = field(default_factory=list)  # (model, what training never showed), for explain

    def __post_init__(self) -> None:
        self.text = self.text or self.original

    @property
    def changed(self) -> bool:
        """Whether any conjunct was pushed."""
        return bool(self.pushed)

    @property
    def sql(self) -> str:
        """The SQL to run: the original text, byte for byte, unless something was pushed; then the text
        with views inlined and only the generator calls that take a condition rewritten."""
        if not self.changed or self.expression is None:
            return self.original
        from genesis_sql.sql.pushdown.splice import splice_conditions

        return splice_conditions(self.text, {g.index: g.condition for g in self.generators if g.condition})

    def explain(self) -> str:
        """A readable account: the SQL to run, the pushed conditions, and what was not pushed and why."""
        lines = ["-- rewritten SQL" if self.changed else "-- SQL (unchanged)", self.sql, ""]
        if self.views and self.changed:
            lines.append(f"-- views over genesis_generate inlined: {', '.join(self.views)}")
        if self.pushed:
            lines.append("-- pushed into generators (ConditionSet per call):")
            for item in self.pushed:
                bound = f"  [bound: {item.bound}]" if item.bound else ""
                lines.append(f"--   {item.model} (as {item.source}): {item.condition}{bound}")
        if self.skipped:
            lines.append("-- not pushed (plain SQL filter on generated rows):")
            for item in self.skipped:
                lines.append(f"--   {item.conjunct}: {item.reason}")
        if self.unseen:
            lines.append("-- conditions that ask for what training never showed (see the log):")
            lines.extend(f"--   {model}: {note}" for model, note in self.unseen)
        for text, inner in self.nested:
            lines.append(f"-- genesis_query({text[:60]!r}{'...' if len(text) > 60 else ''}) pushes at bind time:")
            lines.extend(f"--   {line}" if line else "--" for line in inner.explain().splitlines())
        if not self.pushed and not self.skipped and not self.nested and not self.unseen:
            lines.append("-- nothing to push")
        return "\n".join(lines)
