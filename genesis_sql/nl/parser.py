"""The deterministic request parser: words -> an :class:`~genesis_sql.nl.intent.Intent`.

Three steps. ``lex`` matches the longest known phrase at each place (the model's vocabulary from the
catalog first, then generic English from :mod:`genesis_sql.nl._words`); ``read`` turns the items into
clauses by a few patterns (column-comparison-number, value lists, negation, ranges, decades, dates);
whatever is left with meaning is reported as not understood. A request is never completed by guessing:
every default is an assumption, every leftover word is ``unparsed``.
"""
from __future__ import annotations

import datetime as dt
import difflib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from genesis_sql.nl._words import (
    AND_WORDS,
    BETWEEN_WORDS,
    COMPARATORS,
    DIRECTED,
    FILLER,
    MONEY_CONCEPTS,
    MONEY_UNITS,
    NEGATIONS,
    OR_WORDS,
    POST_COMPARATORS,
    ROW_NOUNS,
    TEMPORAL,
    TO_WORDS,
    UNIT_WORDS,
)
from genesis_sql.nl.intent import Clause, Intent, check_intent
from genesis_sql.nl.tokens import Token, tokenize
from genesis_sql.nl.vocabulary import Meaning, Vocabulary, is_boolean_like, singular, truth_value, words

# Words that only link a column to its value or comparison ("age IS over", "price OF 500").
LINKS = frozenset("is are was were be being of with at has have having its their whose a an the that who "
                  "which equal equals to set".split())
COUNT_VERBS = frozenset("generate create make produce synthesize synthesise simulate sample give get need want "
                        "show list return draw fetch select pick build prepare provide output".split())
_GENERIC: dict[tuple[str, ...], tuple[str, Any]] = {}


def _generic() -> dict[tuple[str, ...], tuple[str, Any]]:
    """Phrase -> (kind, payload) for the generic English, longest phrases winning at lexing."""
    if _GENERIC:
        return _GENERIC
    table: dict[tuple[str, ...], tuple[str, Any]] = {}
    for word in FILLER:
        table[(word,)] = ("filler", None)
    for word in ROW_NOUNS:
        table[(word,)] = ("rownoun", None)
    for phrase in TO_WORDS:
        table[tuple(phrase.split())] = ("to", None)
    for phrase in AND_WORDS:
        table[tuple(phrase.split())] = ("and", None)
    for phrase in OR_WORDS:
        table[tuple(phrase.split())] = ("or", None)
    for phrase in BETWEEN_WORDS:
        table[tuple(phrase.split())] = ("between", phrase)
    for phrase, concept in UNIT_WORDS.items():
        table[tuple(phrase.split())] = ("unit", concept)
    for phrase in MONEY_UNITS:
        table[(phrase,)] = ("unit", "money")
    for phrase, op in TEMPORAL.items():
        table[tuple(phrase.split())] = ("temporal", op)
    for phrase in NEGATIONS:
        table[tuple(phrase.split())] = ("neg", None)
    for phrase, op in COMPARATORS.items():
        table[tuple(phrase.split())] = ("cmp", op)
    for phrase, op in POST_COMPARATORS.items():
        table[tuple(phrase.split())] = ("post", op)
    for phrase, payload in DIRECTED.items():
        table[tuple(phrase.split())] = ("directed", payload)
    table[("in", "their")] = ("their", None)
    table[("in", "his")] = ("their", None)
    table[("in", "her")] = ("their", None)
    table[(",",)] = ("comma", None)
    table[(";",)] = ("and", None)
    _GENERIC.update(table)
    return _GENERIC


@dataclass
class Item:
    """A lexed piece: its kind, payload, and the tokens it covers."""

    kind: str
    payload: Any
    tokens: tuple[Token, ...]
    meanings: list[Meaning] = field(default_factory=list)
    alternative: Item | None = None
    used: bool = False

    @property
    def text(self) -> str:
        """The words as typed."""
        return " ".join(t.text for t in self.tokens)


_IGNORED = ("-", "–", "/", ".", "(", ")", "?", "!", ":", '"')
_NUMBER_KINDS = {"number": "num", "money": "num", "percent": "num", "range": "range", "decade": "decade",
                 "date": "date"}


def _norm(token: Token) -> str:
    text = token.norm
    return text[:-2] if text.endswith(("'s", "’s")) else text.rstrip("'’")


def lex(tokens: Sequence[Token], vocabulary: Vocabulary) -> list[Item]:
    """Longest-match the tokens against the model's phrases and the generic ones."""
    generic = _generic()
    longest = max(vocabulary.longest, max(len(p) for p in generic))
    tokens = [t for t in tokens if not (t.kind == "punct" and t.text in _IGNORED)]
    items: list[Item] = []
    i = 0
    while i < len(tokens):
        token = tokens[i]
        own: tuple[int, list[Meaning]] | None = None
        common: tuple[int, tuple[str, Any]] | None = None
        for length in range(min(longest, len(tokens) - i), 0, -1):
            span = tokens[i:i + length]
            if any(t.kind not in ("word", "symbol", "punct", "number") for t in span) or span[0].kind == "number":
                continue
            phrase = tuple(_norm(t) for t in span)
            if own is None and phrase in vocabulary.phrases:
                own = (length, vocabulary.phrases[phrase])
            if common is None and phrase in generic:
                common = (length, generic[phrase])
            if own is not None and common is not None:
                break
        if own is None and common is None and token.kind in _NUMBER_KINDS:
            items.append(Item(_NUMBER_KINDS[token.kind], token.value, (token,)))
            i += 1
            continue
        if own is None and token.kind == "word":
            base = singular(_norm(token))
            if base != _norm(token) and (base,) in vocabulary.phrases:
                own = (1, [m for m in vocabulary.phrases[(base,)] if m.kind != "model"] or None)
                own = own if own[1] else None
        if own is not None and (common is None or own[0] >= common[0]):
            length, meanings = own
            item = _meaning_item(meanings, tuple(tokens[i:i + length]))
            if common is not None and common[0] == length:
                item.alternative = Item(common[1][0], common[1][1], item.tokens)
            items.append(item)
            i += length
        elif common is not None:
            length, (kind, payload) = common
            items.append(Item(kind, payload, tuple(tokens[i:i + length])))
            i += length
        else:
            kind = "word" if token.kind == "word" else "symbol" if token.kind == "symbol" else "punct"
            items.append(Item(kind, token.norm, (token,)))
            i += 1
    return items


def _meaning_item(meanings: list[Meaning], tokens: tuple[Token, ...]) -> Item:
    kinds = {m.kind for m in meanings}
    if kinds == {"model"}:
        return Item("model", None, tokens, meanings)
    columns = [m for m in meanings if m.kind == "column"]
    values = [m for m in meanings if m.kind == "value"]
    if columns and not values:
        return Item("col", columns[0].column if len({m.column for m in columns}) == 1 else None, tokens, columns)
    if values:
        return Item("val", None, tokens, values + columns + [m for m in meanings if m.kind == "model"])
    return Item("model", None, tokens, meanings)


class Reader:
    """Turns lexed items into clauses for one model; collects assumptions and what was not understood."""

    def __init__(self, items: list[Item], vocabulary: Vocabulary, *, hints: bool = True) -> None:
        self.items = items
        self.vocabulary = vocabulary
        self.clauses: list[Clause] = []
        self.assumptions: list[str] = []
        self.problems: list[str] = []
        self.n: int | None = None
        self.hints = hints
        self.positions: dict[Clause, int] = {}
        self.position = 0

    # --- small helpers --------------------------------------------------------------------------------------

    def at(self, i: int) -> Item | None:
        return self.items[i] if 0 <= i < len(self.items) else None

    def skip_links(self, i: int) -> int:
        while (item := self.at(i)) is not None and not item.used and (
                item.kind == "filler" and item.tokens[0].norm in LINKS or item.kind == "rownoun"):
            i += 1
        return i

    def take(self, *indices: int) -> None:
        for i in indices:
            if self.at(i) is not None:
                self.items[i].used = True

    def column_of(self, item: Item) -> str | None:
        if item.kind == "col":
            return item.payload
        return None

    def kind_of(self, column: str) -> str:
        return self.vocabulary.column(column).kind

    def add(self, clause: Clause) -> None:
        if clause not in self.clauses:
            self.clauses.append(clause)
            self.positions[clause] = self.position

    def ordered(self) -> list[Clause]:
        """The clauses in the order the request says them."""
        return sorted(self.clauses, key=lambda c: self.positions[c])

    def concept_column(self, concept: str | None, what: str, *, bare: bool = False) -> str | None:
        """The column a unit or comparative stands for; with ``bare``, fall back to an age column."""
        if concept == "money":
            found = [self.vocabulary.concept_column(c) for c in MONEY_CONCEPTS if self.vocabulary.concept_column(c)]
            if len(found) == 1:
                self.assumptions.append(f"{what!r} read as a condition on {found[0]}")
                return found[0]
            return None
        column = self.vocabulary.concept_column(concept)
        if column is None and concept in MONEY_CONCEPTS:
            return self.concept_column("money", what)
        if column is None and bare:
            column = self.vocabulary.concept_column("age")
            if column is not None:
                self.assumptions.append(f"{what!r} read as a condition on {column} (no other column named)")
                return column
        return column

    # --- numbers --------------------------------------------------------------------------------------------

    def number_value(self, item: Item, column: str) -> Any:
        """A number item's value for ``column`` (percent scaled to a 0-1 column)."""
        value = item.payload
        if item.tokens[0].kind == "percent":
            described = self.vocabulary.column(column)
            if described.max is not None and isinstance(described.max, (int, float)) and described.max <= 1:
                self.assumptions.append(f"{item.text} read as {value / 100:g} ({column} is a share)")
                return value / 100
        return value

    def date_value(self, value: Any, column: str, edge: str) -> Any:
        """A year number or ISO date as a value of ``column`` (a year means its first or last day)."""
        if self.kind_of(column) != "datetime":
            return value
        if isinstance(value, str):
            return dt.date.fromisoformat(value)
        year = int(value)
        return dt.date(year, 1, 1) if edge == "start" else dt.date(year, 12, 31)

    def comparable(self, column: str) -> bool:
        """Whether ``column`` holds numbers or dates (so 'over 50' can apply to it)."""
        described = self.vocabulary.column(column)
        if described.kind in ("integer", "numeric", "datetime"):
            return True
        return described.kind == "categorical" and bool(described.categories) and all(
            isinstance(v, (int, float)) and not isinstance(v, bool) for v in described.categories)

    def comparison(self, column: str, op: str, item: Item) -> Clause | None:
        """``column op item`` with dates and years made concrete."""
        if not self.comparable(column):
            return None
        if item.kind == "date" or self.kind_of(column) == "datetime":
            if item.kind not in ("date", "num") or item.kind == "num" and not float(item.payload).is_integer():
                return None
            if item.kind == "num":
                year = int(item.payload)
                if op == "=":
                    return Clause(column, "between", (self.date_value(year, column, "start"),
                                                      self.date_value(year, column, "end")))
                if op in (">", "<="):  # after 2000: from 2001 on; until 2000: to its last day
                    return Clause(column, ">=" if op == ">" else "<=",
                                  self.date_value(year + 1 if op == ">" else year, column,
                                                  "start" if op == ">" else "end"))
                return Clause(column, op, self.date_value(year, column, "start"))
            return Clause(column, op, self.date_value(item.payload, column, "start"))
        if item.kind != "num":
            return None
        return Clause(column, op, self.number_value(item, column))

    def value_span(self, i: int) -> tuple[int, Item, Item | None] | None:
        """A number, or 'N to M' / 'N and M' / 'N-M' at ``i``: (next index, first, second or None)."""
        first = self.at(i)
        if first is None or first.used:
            return None
        if first.kind == "range":
            return i + 1, first, None
        if first.kind not in ("num", "date"):
            return None
        joiner = self.at(i + 1)
        second = self.at(i + 2)
        if joiner is not None and joiner.kind in ("to", "and") and second is not None \
                and second.kind in ("num", "date") and not second.used:
            return i + 3, first, second
        return i + 1, first, None

    def between(self, column: str, first: Item, second: Item | None) -> Clause | None:
        if not self.comparable(column):
            return None
        if first.kind == "range":
            low, high = first.payload
        elif second is not None:
            low, high = first.payload, second.payload
        else:
            return None
        if low > high:
            low, high = high, low
        if self.kind_of(column) == "datetime":
            return Clause(column, "between", (self.date_value(low, column, "start"),
                                              self.date_value(high, column, "end")))
        return Clause(column, "between", (low, high))

    def decade(self, column: str, item: Item) -> Clause | None:
        if not self.comparable(column):
            return None
        start = item.payload
        return Clause(column, "between", (self.date_value(start, column, "start"),
                                          self.date_value(start + 9, column, "end")))

    # --- patterns -------------------------------------------------------------------------------------------

    def read(self) -> None:
        self.find_count()
        for pattern in (self.negated, self.column_first, self.comparator_first, self.values, self.number_first,
                        self.booleans):
            i = 0
            while i < len(self.items):
                item = self.items[i]
                self.position = i
                i = (pattern(i) or i + 1) if not item.used else i + 1

    def find_count(self) -> None:
        """The row count: a number right after a verb, at the start, or just before the model's noun."""
        for i, item in enumerate(self.items):
            if item.kind != "num" or item.used or item.tokens[0].kind != "number" \
                    or not float(item.payload).is_integer():
                continue
            before = self.at(i - 1)
            after = self.at(self.skip_adjectives(i + 1))
            if after is not None and after.kind in ("model", "rownoun") or before is not None and (
                    before.kind == "filler" and before.tokens[-1].norm in COUNT_VERBS | {"me", "us"}) or i == 0 and (
                    after is None or after.kind not in ("unit", "col", "post")):
                self.n = int(item.payload)
                item.used = True
                return

    def skip_adjectives(self, i: int) -> int:
        """Past values and boolean adjectives that sit between a count and its noun ('500 married women')."""
        j = i
        while (item := self.at(j)) is not None:
            previous = self.at(j - 1)
            own_column = item.kind == "col" and previous is not None and previous.kind == "val" and any(
                m.column == item.payload for m in previous.meanings)
            boolean = item.kind == "col" and item.payload and is_boolean_like(self.vocabulary.column(item.payload))
            if not (item.kind in ("val", "comma") or own_column or boolean or item.kind == "filler"
                    and item.tokens[0].norm in ("synthetic", "fake", "random", "new")):
                break
            j += 1
        return j

    def negated(self, i: int) -> int | None:
        item = self.items[i]
        if item.kind != "neg" and not (item.kind == "val" and item.alternative is not None
                                       and item.alternative.kind == "neg" and not self.fits_value(i)):
            return None
        j = self.skip_links(i + 1)
        target = self.at(j)
        if target is None or target.used:
            return None
        if target.kind == "filler" and target.tokens[0].norm in ("in", "from", "living", "located") or (
                target.kind == "between" and target.payload == "from"):
            j = self.skip_links(j + 1)
            target = self.at(j)
            if target is None:
                return None
        before = len(self.clauses)
        if target.kind == "val":
            end = self.value_list(j, negate=True)
        elif target.kind == "cmp" or target.kind == "directed":
            end = self.comparator_first(j, negate=True)
        elif target.kind == "col" and target.payload and is_boolean_like(self.vocabulary.column(target.payload)):
            self.add(Clause(target.payload, "=", truth_value(self.vocabulary.column(target.payload), False)))
            target.used = True
            end = j + 1
        elif target.kind == "between":
            end = self.bare_between(j, negate=True)
        elif target.kind == "col" and target.payload:
            end = self.column_first(j, negate=True)
        else:
            return None
        if end is None or len(self.clauses) == before:
            return None
        self.items[i].used = True
        return end

    def fits_value(self, i: int) -> bool:
        """Whether the strict value at ``i`` stands next to its own column."""
        item = self.items[i]
        columns = {m.column for m in item.meanings if m.kind == "value"}
        for j in (i - 1, i + 1, i - 2, i + 2):
            other = self.at(j)
            if other is not None and other.kind == "col" and other.payload in columns:
                between = self.items[min(i, j) + 1:max(i, j)]
                if all(b.kind == "filler" and b.tokens[0].norm in LINKS or b.kind == "cmp" and b.payload == "="
                       for b in between):
                    return True
        return False

    def column_first(self, i: int, negate: bool = False) -> int | None:
        """COLUMN [is] (cmp N | between N and M | N-M | decade | N [or more] | value list | after year)."""
        item = self.items[i]
        if item.kind != "col" or item.payload is None:
            return None
        column = item.payload
        previous = self.at(i - 1)
        if previous is not None and previous.kind in ("num", "range") and not previous.used:
            return None  # "over 1 carat under $5000": carat belongs to the number before it
        back = i - 1
        while (b := self.at(back)) is not None and b.kind == "filler" and b.tokens[0].norm in LINKS:
            back -= 1
        leading = self.at(back)
        if leading is not None and back < i - 1 and leading.kind in ("cmp", "between", "directed") \
                and not leading.used:
            return None  # "under the age of 30": the comparison before it owns the column
        j = self.skip_links(i + 1)
        target = self.at(j)
        if target is not None and target.kind == "neg" and not target.used:
            negate, j = not negate, self.skip_links(j + 1)
            target = self.at(j)
        if target is None or target.used:
            return None
        if (target.kind == "filler" and target.tokens[0].norm in ("in", "during") and self.is_time(column)
                and (year := self.at(j + 1)) is not None and year.kind == "num" and _years(year)):
            j, target = j + 1, year  # "signup_date in 2021"
        clause: Clause | None = None
        end = j + 1
        if target.kind in ("cmp", "temporal"):
            k = self.skip_links(j + 1)
            value = self.at(k)
            if value is not None and not value.used and value.kind in ("num", "date"):
                clause, end = self.comparison(column, target.payload, value), k + 1
        elif target.kind == "between":
            span = self.value_span(self.skip_links(j + 1))
            if span is not None and span[2] is not None or span is not None and span[1].kind == "range":
                clause, end = self.between(column, span[1], span[2]), span[0]
        elif target.kind == "range":
            clause = self.between(column, target, None)
        elif target.kind == "decade":
            clause = self.decade(column, target)
        elif target.kind in ("num", "date"):
            span = self.value_span(j)
            if span is not None and span[2] is not None:
                clause, end = self.between(column, span[1], span[2]), span[0]
            else:
                k = self.skip_unit(j + 1)
                post = self.at(k)
                op = post.payload if post is not None and post.kind == "post" and not post.used else "="
                clause = self.comparison(column, op, target)
                end = k + 1 if op != "=" else j + 1
        elif target.kind == "val":
            before = len(self.clauses)
            done = self.value_list(j, negate=negate, column=column)
            if done is not None and len(self.clauses) > before:
                item.used = True
                return done
            return None
        if clause is None:
            return None
        self.add(clause.negated() if negate and clause.op != "between" else clause)
        if negate and clause.op == "between":
            self.problems.append(f"'not between' on {column} cannot be one condition; say the two sides apart")
        for k in range(i, end):
            if self.items[k].kind in ("col", "cmp", "num", "range", "decade", "date", "between", "to", "and", "post",
                                      "neg", "temporal", "unit") or self.items[k].kind == "filler":
                self.items[k].used = True
        return end

    def skip_unit(self, i: int) -> int:
        while (item := self.at(i)) is not None and item.kind == "unit":
            i += 1
        return i

    def trailing_column(self, i: int) -> tuple[str | None, int, str | None]:
        """After a number: units, 'of', then maybe a column: (column, next index, unit concept)."""
        concept = None
        j = i
        while (item := self.at(j)) is not None and item.kind == "unit":
            concept = concept or item.payload
            j += 1
        k = j
        while (item := self.at(k)) is not None and item.kind == "filler" and item.tokens[0].norm in ("of", "in"):
            k += 1
        item = self.at(k)
        if item is not None and item.kind == "col" and item.payload and not item.used:
            return item.payload, k + 1, concept
        return None, j, concept

    def comparator_first(self, i: int, negate: bool = False) -> int | None:
        """cmp N [unit] [of COLUMN] | older than N | after YEAR | between N and M [unit] [COLUMN]."""
        item = self.items[i]
        if item.kind == "between":
            return self.bare_between(i, negate)
        joined = item.kind == "post" and item.tokens[0].norm == "and" and (item.tokens[-1].norm,) in _generic() \
            and _generic()[(item.tokens[-1].norm,)][0] == "cmp"  # "above 1000 and below 2000"
        if item.kind not in ("cmp", "directed", "temporal") and not joined:
            return None
        j = self.skip_links(i + 1)
        named = self.named_column(j)  # "under the age of 30"
        if named is not None:
            named, j = named
        value = self.at(j)
        if value is None or value.used or value.kind not in ("num", "date"):
            return None
        column, end, concept = self.trailing_column(j + 1)
        if named is not None:
            if column is not None:
                return None
            column = named
        if item.kind == "directed":
            op, concept = item.payload
            column = column or self.concept_column(concept, f"{item.text} {value.text}")
        elif item.kind == "temporal":
            op = item.payload
            column = column or self.time_column(f"{item.text} {value.text}")
        else:
            op = _generic()[(item.tokens[-1].norm,)][1] if joined else item.payload
            if column is None and value.tokens[0].kind == "money":
                concept = "money"
            if column is None and concept is None:
                column = self.continued_column(i + 1 if joined else i)
            column = column or self.concept_column(concept, f"{item.text} {value.text}", bare=concept is None)
        if column is None:
            return None
        clause = self.comparison(column, op, value)
        if clause is None:
            return None
        self.add(clause.negated() if negate else clause)
        self.take(*range(i, end))
        return end

    def is_time(self, column: str) -> bool:
        """Whether ``column`` is a date/time column or the model's year column."""
        return self.kind_of(column) == "datetime" or self.vocabulary.concept_column("year") == column

    def continued_column(self, i: int) -> str | None:
        """The column of the comparison just before 'and'/'but' at ``i - 1`` ('price above 1000 and below 2000')."""
        joiner = self.at(i - 1)
        if joiner is None or joiner.kind not in ("and", "comma", "post"):
            return None
        before = [c for c in self.clauses if self.positions[c] < i - 1 and c.op in ("<", "<=", ">", ">=")]
        if not before:
            return None
        last = max(before, key=lambda c: self.positions[c])
        between = self.items[self.positions[last]:i - 1]
        if any(not item.used for item in between):
            return None
        return last.column

    def time_column(self, what: str) -> str | None:
        dates = self.vocabulary.date_columns
        column = dates[0] if len(dates) == 1 else self.vocabulary.concept_column("year")
        if column is not None:
            self.assumptions.append(f"{what!r} read as a condition on {column}")
        return column

    def named_column(self, i: int) -> tuple[str, int] | None:
        """'the age of' at ``i``: (column, index after it and its linking words), else None."""
        item = self.at(i)
        if item is None or item.kind != "col" or not item.payload or item.used:
            return None
        return item.payload, self.skip_links(i + 1)

    def bare_between(self, i: int, negate: bool = False) -> int | None:
        start = self.skip_links(i + 1)
        named = self.named_column(start)  # "between the ages of 30 and 40"
        span = self.value_span(named[1] if named else start)
        if span is None or span[2] is None and span[1].kind != "range":
            return None
        column, end, concept = self.trailing_column(span[0])
        if named is not None:
            if column is not None:
                return None
            column = named[0]
        text = " ".join(x.text for x in self.items[i:span[0]])
        if column is None:
            money = span[1].tokens[0].kind == "money"
            if not money and concept is None and _years(span[1], span[2]):
                column = self.time_column(text)
            else:
                column = self.concept_column("money" if money else concept, text,
                                             bare=not money and concept is None)
        if column is None or negate:
            return None
        clause = self.between(column, span[1], span[2])
        if clause is None:
            return None
        self.add(clause)
        self.take(*range(i, end))
        return end

    def number_first(self, i: int) -> int | None:
        """N or more [unit] | N-M [unit] COLUMN | in their 30s | N years old | 1990s | 5 carats."""
        item = self.items[i]
        if item.kind not in ("num", "range", "decade"):
            return None
        before = self.at(i - 1)
        column, end, concept = self.trailing_column(i + 1)
        post = self.at(end)
        op = "="
        if post is not None and post.kind == "post" and not post.used:
            op = post.payload
            end += 1
            column2, end2, concept2 = self.trailing_column(end)
            column, end, concept = (column or column2), (end2 if column2 else end), concept or concept2
            word = post.tokens[-1].norm
            concept = concept or {"older": "age", "younger": "age", "longer": "length", "shorter": "length"}.get(word)
        if item.kind == "decade" and before is not None and before.kind == "their":
            concept, before.used = "age", True
        if (column is None and item.kind == "num" and op == "=" and before is not None and not before.used
                and before.tokens[-1].norm in ("in", "during", "from") and item.tokens[0].kind == "number"
                and float(item.payload).is_integer() and 1000 <= item.payload <= 2999):
            column = self.time_column(f"{before.text} {item.text}")
            if column is not None:
                before.used = True
        text = " ".join(x.text for x in self.items[i:end])
        if column is None:
            if item.kind == "num" and op == "=" and concept is None and column is None:
                return None
            if item.kind == "decade" and concept is None:
                column = self.time_column(text) if item.payload >= 1000 else self.concept_column("age", text)
            else:
                money = item.tokens[0].kind == "money"
                column = self.concept_column("money" if money else concept, text,
                                             bare=not money and concept is None and op != "=")
        if column is None:
            return None
        if item.kind == "range":
            clause = self.between(column, item, None)
        elif item.kind == "decade":
            clause = self.decade(column, item)
        else:
            clause = self.comparison(column, op, item)
        if clause is None:
            return None
        self.add(clause)
        self.take(*range(i, end))
        return end

    def value_candidates(self, item: Item, column: str | None = None) -> list[Meaning]:
        values = [m for m in item.meanings if m.kind == "value" and (column is None or m.column == column)]
        return values

    def value_list(self, i: int, negate: bool = False, column: str | None = None) -> int | None:
        """VALUE[, VALUE ...][ or VALUE] [COLUMN]: one column = value / IN list (negated: <> / NOT IN)."""
        first = self.items[i]
        candidates = self.value_candidates(first, column)
        if not candidates:
            return None
        members = [(i, candidates)]
        j = i + 1
        joiners: set[str] = set()
        while True:
            sep = self.at(j)
            if sep is None or sep.kind not in ("comma", "or", "and"):
                break
            k = j + 1
            if self.at(k) is not None and self.items[k].kind in ("or", "and"):
                k += 1
            nxt = self.at(k)
            if nxt is None or nxt.kind != "val" or nxt.used:
                break
            shared = {m.column for m in self.value_candidates(nxt)} & {m.column for _, ms in members for m in ms}
            if not shared:
                break
            joiners.add(sep.kind)
            members.append((k, self.value_candidates(nxt)))
            j = k + 1
        columns = set.intersection(*({m.column for m in ms} for _, ms in members))
        after = self.at(self.skip_links(j))
        trailing = after is not None and after.kind == "col" and after.payload in columns and not after.used
        back = i - 1
        while (b := self.at(back)) is not None and (
                b.kind == "neg" or b.kind == "filler" and b.tokens[0].norm in LINKS):
            back -= 1
        before = self.at(back)
        leading = column is not None or before is not None and before.kind == "col" and before.payload in columns \
            and not before.used
        if trailing:
            columns = {after.payload}
        elif leading and column is None:
            columns = {before.payload}
        strict = [m for _, ms in members for m in ms if m.column in columns and m.strict]
        if strict and not (trailing or leading) and not all(
                m.upper_ok and self.items[idx].tokens[0].text.isupper() for idx, ms in members for m in ms
                if m.column in columns and m.strict):
            return None
        if len(columns) != 1:
            if columns:
                names = ", ".join(sorted(columns))
                self.problems.append(f"{first.text!r} is a value of several columns ({names}); name the column")
                self.take(*[idx for idx, _ in members])
            return None
        chosen = columns.pop()
        values = []
        for _, ms in members:
            for m in ms:
                if m.column == chosen and m.value not in values:
                    values.append(m.value)
                    break
        if len(values) == 1:
            clause = Clause(chosen, "=", values[0])
        else:
            clause = Clause(chosen, "in", tuple(values))
        self.add(clause.negated() if negate else clause)
        self.take(*[idx for idx, _ in members])
        self.take(*[k for k in range(i, j) if self.items[k].kind in ("comma", "or", "and")])
        if leading and column is None:
            before.used = True
        if trailing:
            after.used = True
            return self.skip_links(j) + 1
        return j

    def values(self, i: int) -> int | None:
        if self.items[i].kind != "val":
            return None
        if self.items[i].alternative is not None and not self.fits_value(i):
            alternative = self.items[i].alternative
            self.items[i] = Item(alternative.kind, alternative.payload, alternative.tokens)
            return None
        return self.value_list(i)

    def booleans(self, i: int) -> int | None:
        """A yes/no column named alone ('married workers', 'with kids' when kids is yes/no) means true."""
        item = self.items[i]
        if item.kind != "col" or item.payload is None or not is_boolean_like(self.vocabulary.column(item.payload)):
            return None
        self.add(Clause(item.payload, "=", truth_value(self.vocabulary.column(item.payload), True)))
        item.used = True
        return i + 1

    # --- leftovers ------------------------------------------------------------------------------------------

    def leftovers(self) -> list[str]:
        """What was left unused and carries meaning, with hints for near misses."""
        left: list[str] = []
        for item in self.items:
            if item.used or item.kind in ("filler", "comma", "and", "to", "unit", "rownoun", "model", "punct",
                                          "their"):
                continue
            if item.kind == "between" and item.payload == "from":
                continue
            text = item.text
            if item.kind == "word":
                hint = self.near_miss(item.tokens[0].norm)
                left.append(f"{text!r}{hint}")
            elif item.kind == "col":
                left.append(f"{text!r} (column {item.payload or ', '.join(m.column for m in item.meanings)} "
                            "without a condition)")
            elif item.kind == "val":
                columns = sorted({m.column for m in item.meanings if m.kind == "value"})
                left.append(f"{text!r} (a value of {', '.join(columns)}; name the column, e.g. "
                            f"'{columns[0]} {text}')")
            else:
                left.append(repr(text))
        return left

    def near_miss(self, word: str) -> str:
        """' (did you mean ...?)' with the closest column names, values or labels as they are written."""
        if not self.hints:
            return ""
        shown = self.vocabulary.spellings()
        close = difflib.get_close_matches(word, list(shown), n=2, cutoff=0.8)
        names = list(dict.fromkeys(shown[c] for c in close))
        return f" (did you mean {' or '.join(repr(c) for c in names)}?)" if names else ""


def _years(*items: Item | None) -> bool:
    """Whether every given item is a whole number that reads as a year (1000-2999)."""
    values = [v for item in items if item is not None
              for v in (item.payload if item.kind == "range" else (item.payload,))]
    return all(isinstance(v, (int, float)) and float(v).is_integer() and 1000 <= v <= 2999 for v in values)


def read_request(text: str, vocabulary: Vocabulary, tokens: list[Token] | None = None, *,
                 hints: bool = True) -> Intent:
    """Read ``text`` as a request for rows of ``vocabulary``'s model (``hints``: suggest near misses)."""
    items = lex(tokens if tokens is not None else tokenize(text), vocabulary)
    for item in items:
        if item.kind == "model":
            item.used = True
        elif item.kind == "val" and any(m.kind == "model" for m in item.meanings):
            if not any(o.kind == "col" for o in items):
                item.used = True
    reader = Reader(items, vocabulary, hints=hints)
    reader.read()
    intent = Intent(model=vocabulary.model.name, n=reader.n, clauses=reader.ordered(),
                    assumptions=reader.assumptions, unparsed=reader.leftovers(), problems=reader.problems)
    return check_intent(intent, vocabulary.model)


def mention_starts(tokens: Sequence[Token], vocabulary: Vocabulary) -> set[int]:
    """Where the request names this model (by name, singular or plural): the tokens' start offsets."""
    names = [p for p, ms in vocabulary.phrases.items() if any(m.kind == "model" for m in ms)]
    norms = [_norm(t) for t in tokens]
    return {tokens[k].start for p in names for k in range(len(norms) - len(p) + 1)
            if tuple(norms[k:k + len(p)]) == p}


def _covered(starts: set[int], tokens: Sequence[Token], others: Sequence[Vocabulary]) -> bool:
    """Whether every mention is inside a longer value or column phrase of another model ('Sales Workers')."""
    for other in others:
        inside = {t.start for item in lex(tokens, other) if item.kind in ("val", "col") and len(item.tokens) > 1
                  for t in item.tokens}
        if starts <= inside:
            return True
    return False


def _names_exactly(tokens: Sequence[Token], vocabulary: Vocabulary) -> bool:
    """Whether the request uses the model's own name (not only its singular or plural)."""
    name = words(vocabulary.model.name)
    norms = [_norm(t) for t in tokens]
    return any(tuple(norms[k:k + len(name)]) == name for k in range(len(norms) - len(name) + 1))


def parse(text: str, vocabularies: Sequence[Vocabulary]) -> Intent:
    """Read a request against every model: the model it names, else the one whose words fit it best."""
    if not isinstance(text, str) or not text.strip():
        return Intent(problems=["The request is empty; say what to generate, e.g. '1000 customers over 50'."])
    tokens = tokenize(text)
    starts = {id(v): mention_starts(tokens, v) for v in vocabularies}
    named = [v for v in vocabularies if starts[id(v)]]
    if len(named) > 1:
        named = [v for v in named if not _covered(starts[id(v)], tokens, [w for w in named if w is not v])] or named
    exact = [v for v in named if _names_exactly(tokens, v)]
    if len(named) > 1 and len(exact) == 1:
        named = exact
    if len(named) == 1:
        return read_request(text, named[0], tokens)
    candidates = named or list(vocabularies)
    if not candidates:
        return Intent(problems=["No models are stored yet; fit one with genesis_sql.fit(...) first."])
    readings = [read_request(text, v, tokens, hints=False) for v in candidates]
    scored = sorted(zip(readings, candidates), key=lambda rv: (len(rv[0].unparsed) + len(rv[0].problems),
                                                                -len(rv[0].clauses)))
    best, vocabulary = scored[0]
    if best.unparsed:
        best.unparsed = read_request(text, vocabulary, tokens).unparsed
    if len(candidates) == 1:
        best.assumptions.insert(0, f"model {vocabulary.model.name!r} (the only one stored)")
        return best
    tied = [v.model.name for r, v in scored if (len(r.unparsed) + len(r.problems), -len(r.clauses)) == (
        len(best.unparsed) + len(best.problems), -len(best.clauses))]
    if named:
        best.problems.append(f"the request names several models ({', '.join(v.model.name for v in named)}); "
                             "ask for one")
    elif len(tied) > 1 or not best.clauses:
        best.problems.append(f"which model? the request names none, and {', '.join(tied)} fit it equally")
    else:
        best.assumptions.insert(0, f"model {vocabulary.model.name!r}: the request names no model, and only its "
                                   "columns fit every condition")
    return best
