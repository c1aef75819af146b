"""The words a request may use for one model, built from its description (catalog, labels, notes).

A :class:`Vocabulary` maps phrases (tuples of lower-case words) to their meanings: the model itself, a
column, or a value of a column. It is built once per model version and label state, and cached.
"""
from __future__ import annotations

import re
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from genesis_sql.nl._words import (
    FALSE_WORDS,
    FILLER,
    SYNONYMS,
    TRUE_WORDS,
    US_STATES,
    VALUE_SYNONYMS,
)
from genesis_sql.nl.describe import ColumnDescription, ModelDescription

# Descriptions longer than this many words are not matched as a whole phrase.
MAX_DESCRIPTION_WORDS = 8
_CACHE: OrderedDict[tuple, Vocabulary] = OrderedDict()
_CACHE_SIZE = 256
_lock = threading.Lock()


@dataclass(frozen=True)
class Meaning:
    """What a phrase means for a model: the model, a column, or a column's value.

    ``strict`` values (single letters, postal codes, words that are also plain English) count only next
    to their column's name, or typed in capitals when ``upper_ok``.
    """

    kind: str  # model | column | value
    column: str | None = None
    value: Any = None
    strict: bool = False
    upper_ok: bool = False
    source: str = ""


def words(text: str) -> tuple[str, ...]:
    """A name or value as lower-case words: 'slack_work' -> ('slack', 'work'), 'AirTime' -> ('air', 'time')."""
    spaced = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", str(text))
    return tuple(w for w in re.split(r"[\s_\-/.,()'\"]+", spaced.lower()) if w)


def plural(word: str) -> str:
    """A plain English plural (good enough for names: workers, diamonds, classes, categories)."""
    if word.endswith(("s", "x", "z", "ch", "sh")):
        return word + "es"
    if word.endswith("y") and len(word) > 2 and word[-2] not in "aeiou":
        return word[:-1] + "ies"
    return word + "s"


def singular(word: str) -> str:
    """The inverse of :func:`plural` for the common cases."""
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith(("ses", "xes", "zes", "ches", "shes")):
        return word[:-2]
    if word.endswith("s") and not word.endswith("ss") and len(word) > 3:
        return word[:-1]
    return word


def is_boolean_like(column: ColumnDescription) -> bool:
    """Boolean columns and two-valued yes/no (true/false, 1/0) columns: 'married' means the true value."""
    if column.kind == "boolean":
        return True
    values = {str(v).lower() for v in column.categories}
    return column.other_values == 0 and len(values) == 2 and values <= set(TRUE_WORDS) | set(FALSE_WORDS) \
        and bool(values & set(TRUE_WORDS)) and bool(values & set(FALSE_WORDS))


def truth_value(column: ColumnDescription, truth: bool) -> Any:
    """The stored value that means yes (or no) in a boolean-like column."""
    if column.kind == "boolean":
        return truth
    wanted = TRUE_WORDS if truth else FALSE_WORDS
    return next(v for v in column.categories if str(v).lower() in wanted)


@dataclass
class Vocabulary:
    """Phrases and concepts of one model version."""

    model: ModelDescription
    phrases: dict[tuple[str, ...], list[Meaning]] = field(default_factory=dict)
    concepts: dict[str, str] = field(default_factory=dict)
    longest: int = 1
    _spellings: dict[str, str] | None = field(default=None, repr=False)

    def add(self, phrase: tuple[str, ...], meaning: Meaning) -> None:
        """Record one phrase -> meaning (duplicates ignored)."""
        if not phrase:
            return
        found = self.phrases.setdefault(phrase, [])
        if meaning not in found:
            found.append(meaning)
            self.longest = max(self.longest, len(phrase))

    def column(self, name: str) -> ColumnDescription:
        """The description of column ``name``."""
        found = self.model.column(name)
        assert found is not None, name
        return found

    def concept_column(self, concept: str | None) -> str | None:
        """The column that stands for a concept ('age', 'price' ...) in this model, if exactly one does."""
        return self.concepts.get(concept) if concept else None

    def spellings(self) -> dict[str, str]:
        """Phrase -> how to write it back (a column name, a stored value, a label), for 'did you mean'."""
        if self._spellings is None:
            shown: dict[str, str] = {}
            for phrase, meanings in self.phrases.items():
                for m in meanings:
                    if m.kind == "column":
                        shown.setdefault(" ".join(phrase), m.column)
                    elif m.kind == "value":
                        label = self.column(m.column).labels.get(m.value)
                        shown.setdefault(" ".join(phrase), label if label and m.source == "label" else str(m.value))
            self._spellings = shown
        return self._spellings

    @property
    def date_columns(self) -> list[str]:
        """Columns of kind datetime."""
        return [c.name for c in self.model.columns if c.kind == "datetime"]


def _model_phrases(vocabulary: Vocabulary) -> None:
    name = vocabulary.model.name
    parts = words(name)
    for form in {parts, parts[:-1] + (singular(parts[-1]),), parts[:-1] + (plural(parts[-1]),),
                 (name.lower(),)}:
        vocabulary.add(form, Meaning("model", source="name"))


def _column_phrases(vocabulary: Vocabulary, column: ColumnDescription) -> None:
    parts = words(column.name)
    forms = {parts, (column.name.lower(),), parts[:-1] + (plural(parts[-1]),)}
    for form in forms:
        vocabulary.add(form, Meaning("column", column.name, source="name"))
    if len(parts) > 1 and parts[-1] not in FILLER and not parts[-1].isdigit():
        # 'num_orders' is what "10 orders" counts; kept only when no other column ends in that word
        others = [c for c in vocabulary.model.columns if c.name != column.name and words(c.name)[-1:] == parts[-1:]]
        if not others and len(parts[-1]) > 2:
            for form in {(parts[-1],), (plural(parts[-1]),), (singular(parts[-1]),)}:
                vocabulary.add(form, Meaning("column", column.name, source="name part"))
    if column.description:
        for text in {column.description, re.split(r"[(,;:]", column.description)[0]}:
            described = words(text)
            if 0 < len(described) <= MAX_DESCRIPTION_WORDS:
                vocabulary.add(described, Meaning("column", column.name, source="description"))


def _concepts(vocabulary: Vocabulary) -> None:
    """Synonym groups whose word is exactly one column's name: every word of the group names that column."""
    for concept, group in SYNONYMS.items():
        single = {g for g in group if " " not in g} | {concept}
        matching = [c for c in vocabulary.model.columns
                    if c.name.lower() in single or words(c.name) and " ".join(words(c.name)) in single]
        if len(matching) != 1:
            continue
        column = matching[0].name
        vocabulary.concepts[concept] = column
        for synonym in group:
            vocabulary.add(tuple(synonym.split()), Meaning("column", column, source="synonym"))


def _strict(phrase: tuple[str, ...]) -> bool:
    return len(phrase) == 1 and (len(phrase[0]) <= 2 or phrase[0] in FILLER or phrase[0].isdigit())


def _state_phrases(vocabulary: Vocabulary, column: ColumnDescription) -> None:
    """US state names <-> postal codes, for columns holding either, and for columns labelled with names."""
    listed = {str(v).upper(): v for v in column.categories if isinstance(v, str)}
    codes = [c for c in listed if c in US_STATES]
    if len(codes) >= 3 and len(codes) >= 0.6 * len(listed):
        for code in codes:
            vocabulary.add(words(US_STATES[code]), Meaning("value", column.name, listed[code], source="state"))
    by_name = {v.lower(): v for v in column.categories if isinstance(v, str)}
    names = {name.lower(): code for code, name in US_STATES.items()}
    held = [n for n in by_name if n in names]
    if len(held) >= 3 and len(held) >= 0.6 * len(by_name):
        for name in held:
            vocabulary.add((names[name].lower(),), Meaning("value", column.name, by_name[name], strict=True,
                                                           upper_ok=True, source="state"))
    for value, label in column.labels.items():
        code = names.get(label.lower())
        if code:
            vocabulary.add((code.lower(),), Meaning("value", column.name, value, strict=True, upper_ok=True,
                                                    source="state"))


def _value_phrases(vocabulary: Vocabulary, column: ColumnDescription) -> None:
    if is_boolean_like(column):
        for form in [p for p, ms in vocabulary.phrases.items()
                     if any(m.kind == "column" and m.column == column.name and m.source == "name" for m in ms)]:
            if len(form) == 1:
                for prefix in ("un", "non", "non-", "in"):
                    vocabulary.add((prefix + form[0],), Meaning("value", column.name, truth_value(column, False),
                                                                source="boolean"))
                vocabulary.add(("non", form[0]), Meaning("value", column.name, truth_value(column, False),
                                                         source="boolean"))
    if column.kind in ("categorical", "boolean"):
        for value in column.categories:
            if isinstance(value, str):
                phrase = words(value)
                capitals = len(value) >= 2 and value.isupper()  # 'NY', 'IF': typed in capitals they are codes
                vocabulary.add(phrase, Meaning("value", column.name, value, strict=_strict(phrase),
                                               upper_ok=capitals, source="value"))
                if phrase and len(phrase[-1]) > 2 and not phrase[-1].isdigit():
                    vocabulary.add(phrase[:-1] + (plural(phrase[-1]),),
                                   Meaning("value", column.name, value, strict=_strict(phrase), source="value"))
                for synonym in VALUE_SYNONYMS.get(value.lower(), ()):
                    vocabulary.add((synonym,), Meaning("value", column.name, value, source="synonym"))
    for value, label in column.labels.items():
        phrase = words(label)
        vocabulary.add(phrase, Meaning("value", column.name, value, strict=_strict(phrase), source="label"))
    _state_phrases(vocabulary, column)


def build_vocabulary(model: ModelDescription) -> Vocabulary:
    """The vocabulary of one model description (cached by version, labels and notes)."""
    key = (model.name, model.version, model.content_hash,
           tuple((c.name, c.description, tuple(sorted(map(str, c.labels.items())))) for c in model.columns))
    with _lock:
        cached = _CACHE.get(key)
        if cached is not None:
            _CACHE.move_to_end(key)
            return cached
    vocabulary = Vocabulary(model)
    _model_phrases(vocabulary)
    for column in model.columns:
        _column_phrases(vocabulary, column)
    _concepts(vocabulary)
    for column in model.columns:
        _value_phrases(vocabulary, column)
    with _lock:
        _CACHE[key] = vocabulary
        while len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
    return vocabulary
