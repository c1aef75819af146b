"""Which columns hold personal data (PII), by column name and by the shape of the values.

A text column is given a *style*: the kind of identifier its values are, which the text codecs then make
fresh with Faker (genesis_sql.models._identity) instead of modelling or copying them. The personal styles
(:data:`PII_STYLES`) are names, emails, phone numbers, street addresses, payment card numbers (Luhn
checked), national identity numbers (a US Social Security number, a UK National Insurance number or a
French INSEE number, the locale saying which) and IPv4 / IPv6 addresses; cities and company names are
identifier-like too, but not about a person, so they are made fresh only where they are free text.

Detection reads a sample of the values. A column named like a style (``email``, ``ssn``, ``card_number``
...) needs half of its values to have the style's shape; without such a name, four fifths. Names are found
without a column name only as full names whose words are in Faker's name lists (single words such as
``Rose`` or ``Amber`` are too often something else). Date-like strings and plain decimal numbers are never
phone numbers, and a column of bare digit strings is a phone column only when its name says so. An integer
column is personal only when named as a card, phone or national identity number and its digits agree.

:func:`personal_columns` runs at fit (genesis_sql.api) to report the PII columns and to keep them out of
the kinds that would store real values (categories, numbers); the codecs detect the same style again from
the same values when they fit.
"""
from __future__ import annotations

import dataclasses
import functools
import ipaddress
import itertools
import logging
import re
from collections import Counter
from collections.abc import Callable, Iterable

import pyarrow as pa

from genesis_sql.models._check_digits import insee_key, luhn_valid
from genesis_sql.models._identity import LOCALES, NAME_STYLES, faker_available, fold, known_names
from genesis_sql.schema import ColumnSpec

log = logging.getLogger(__name__)

# Styles about a person, in the order a column's values are tested against them (an SSN is phone-shaped,
# a card number too, so the stricter shapes come first).
PII_STYLES = ("email", "ipv4", "ipv6", "credit_card", "national_id", "phone", "name", "first_name", "last_name",
              "street_address")
# Every style the text codecs make with Faker.
STYLES = (*PII_STYLES, "city", "company")
# Styles whose fake can be made unique by the output row (identifier columns: one value per row).
NUMBERED_STYLES = ("email", "phone", "credit_card", "national_id", "ipv4", "ipv6")
# Styles an integer column can hold (found by its name, its digits checked): generated as numbered fakes.
INTEGER_STYLES = ("credit_card", "national_id", "phone")
# Share of values that must have a style's shape: with a column name saying the style, and without.
NAMED_SHARE = 0.5
SHAPE_SHARE = 0.8
# Share of phone-shaped values that must show some formatting (+, spaces, dashes, dots or brackets) for
# a column to be read as phone numbers without a name saying so: bare digit strings are as often codes.
FORMATTED_SHARE = 0.2
# Addresses found by shape alone must mostly differ (a column of "Room 12" repeated is a category).
ADDRESS_DISTINCT = 0.5
SAMPLE = 5000
# A column named like names needs this many distinct values (or half its values, when fewer).
NAME_DISTINCT = 10
# Values read before the whole sample, and how far below the needed share they may fall and still go on.
HEAD = 200
HEAD_SLACK = 0.2

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$")
_PHONE = re.compile(r"^\+?[\d\s().\-/x]{7,24}$")
_DATE = re.compile(r"^(\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4})([ T].*)?$")
_DECIMAL = re.compile(r"^[-+]?\d*\.\d+$")
_FORMATTED = re.compile(r"[+\s().\-/]")
_CARD = re.compile(r"^\d(?:[ -]?\d){11,18}$")
_SSN = re.compile(r"^(?!000|666|9\d\d)\d{3}-(?!00)\d{2}-(?!0000)\d{4}$")
_SSN_BARE = re.compile(r"^(?!000|666|9\d\d)\d{3}(?!00)\d{2}(?!0000)\d{4}$")
_NINO = re.compile(r"^[A-Z]{2} ?\d{2} ?\d{2} ?\d{2} ?[A-Z]$")
_INSEE = re.compile(r"^[12]\d{2}(0[1-9]|1[0-2])(\d{2}|2[AB])\d{8}$")
_ADDRESS_START = re.compile(r"^\d{1,6}[A-Za-z]?,?\s+\S")
_ADDRESS_END = re.compile(r"[\s,]\d{1,5}[A-Za-z]?(?:[/\-]\d{1,5})?(?:\s+\S+\.?\s+\d{1,5})?$")
_WORD = re.compile(r"[^\W\d_]{3,}")
_NAMEISH = re.compile(r"^[^\W\d_]+(?:[ '\-.][^\W\d_]+\.?){0,3}$")
_COLUMN_STYLES = (
    (re.compile(r"(^|_)(e_?mail|mail)(_?addr(ess)?)?$", re.I), "email"),
    (re.compile(r"(^|_)ip(v4)?(_?addr(ess)?)?$|(^|_)remote_addr$", re.I), "ipv4"),
    (re.compile(r"(^|_)ipv6(_?addr(ess)?)?$", re.I), "ipv6"),
    (re.compile(r"(^|_)(credit_?card|card|cc|ccn|pan)(_?(number|no|nr|num))?$", re.I), "credit_card"),
    (re.compile(r"(^|_)(ssn|social_security(_number)?|national_?id|national_insurance(_number)?|nino|nir|insee)"
                r"(_?(number|no|nr|num))?$", re.I), "national_id"),
    (re.compile(r"(^|_)(phone|telephone|tel|mobile|cell|fax)(_?(number|no|nr|num))?$", re.I), "phone"),
    (re.compile(r"(^|_)(first|given|fore)_?name$", re.I), "first_name"),
    (re.compile(r"(^|_)(last|family|sur)_?name$|(^|_)surname$", re.I), "last_name"),
    (re.compile(r"(^|_)(full_?)?name$|(^|_)(customer|person|contact|employee|patient|author|owner)(_name)?$", re.I),
     "name"),
    (re.compile(r"(^|_)(street|address|addr)(_?(line)?_?1?)?$", re.I), "street_address"),
    (re.compile(r"(^|_)(city|town)$", re.I), "city"),
    (re.compile(r"(^|_)(company|employer|organi[sz]ation|firm)(_name)?$", re.I), "company"),
)
# The locale whose Faker ``ssn()`` makes each national identity number.
NATIONAL_ID_LOCALES = ("en_US", "en_GB", "fr_FR")


def insee_valid(value: str) -> bool:
    """Whether ``value`` is a 15-character French INSEE number whose last two digits are its key."""
    return bool(_INSEE.match(value)) and insee_key(value[:13]) == value[13:]


def _card(value: str) -> bool:
    return bool(_CARD.match(value)) and luhn_valid(value.replace(" ", "").replace("-", ""))


def _national_scheme(value: str, named: bool = False) -> str | None:
    """The locale of the national identity number ``value`` is shaped like, or None."""
    if _SSN.match(value) or named and _SSN_BARE.match(value):
        return "en_US"
    if _NINO.match(value.upper()):
        return "en_GB"
    if insee_valid(value):
        return "fr_FR"
    return None


def _ip(value: str, version: int) -> bool:
    if ":" not in value and "." not in value:
        return False
    try:
        return ipaddress.ip_address(value).version == version
    except ValueError:
        return False


def _phone(value: str) -> bool:
    return (bool(_PHONE.match(value)) and sum(c.isdigit() for c in value) >= 7 and not _DATE.match(value)
            and not _DECIMAL.match(value))


def _address(value: str) -> bool:
    return bool(_WORD.search(value)) and bool(_ADDRESS_START.match(value) or _ADDRESS_END.search(value))


_SHAPES: dict[str, Callable[[str], bool]] = {
    "email": lambda v: bool(_EMAIL.match(v)),
    "ipv4": lambda v: _ip(v, 4),
    "ipv6": lambda v: _ip(v, 6),
    "credit_card": _card,
    "national_id": lambda v: _national_scheme(v) is not None,
    "phone": _phone,
    "street_address": _address,
}


def _share(values: list[str], test: Callable[[str], bool]) -> float:
    return sum(1 for v in values if test(v)) / len(values) if values else 0.0


def _mostly(values: list[str], test: Callable[[str], bool], share: float) -> bool:
    """Whether at least ``share`` of ``values`` pass ``test``; a first look at HEAD values settles most
    columns, so a wide table of ordinary text costs a few hundred tests per style and column."""
    if len(values) > HEAD and _share(values[:HEAD], test) < share - HEAD_SLACK:
        return False
    return _share(values, test) >= share


def style_by_name(column: str) -> str | None:
    """The style a column's name alone suggests (``customer_email`` -> ``email``), or None."""
    for pattern, style in _COLUMN_STYLES:
        if pattern.search(column):
            return style
    return None


def _named_style(style: str, sample: list[str]) -> bool:
    """Whether values of a column named like ``style`` bear the name out."""
    if style in NAME_STYLES:
        # A handful of words over many rows ("yes", "no" in an ``owner`` column) is a category, not names.
        return (len(set(sample)) >= min(NAME_DISTINCT, len(sample) // 2)
                and _mostly(sample, lambda v: bool(_NAMEISH.match(v)), SHAPE_SHARE))
    if style == "national_id":
        return _mostly(sample, lambda v: _national_scheme(v, named=True) is not None, NAMED_SHARE)
    if style in _SHAPES:
        return _mostly(sample, _SHAPES[style], NAMED_SHARE)
    return True  # city, company: the name is all there is to go on


def _shaped_style(sample: list[str]) -> str | None:
    """The style the values alone show, or None."""
    for style in ("email", "ipv4", "ipv6", "credit_card", "national_id"):
        if _mostly(sample, _SHAPES[style], SHAPE_SHARE):
            return style
    if _mostly(sample, _phone, SHAPE_SHARE) and _share(sample, lambda v: bool(_FORMATTED.search(v))) >= FORMATTED_SHARE:
        return "phone"
    if _mostly(sample, _address, SHAPE_SHARE) and len(set(sample)) >= ADDRESS_DISTINCT * len(sample):
        return "street_address"
    if _full_names(sample):
        return "name"
    return None


@functools.lru_cache(maxsize=1)
def _known_names() -> frozenset[str]:
    """Every first and last name (folded) of Faker's locales."""
    return frozenset().union(*(known_names(locale) for locale in LOCALES))


def _full_names(sample: list[str]) -> bool:
    """Whether most values are two to four words, two or more of them first or last names Faker knows."""
    if not faker_available() or not _mostly(sample, lambda v: bool(_NAMEISH.match(v)) and " " in v, SHAPE_SHARE):
        return False
    known = _known_names()

    def named(value: str) -> bool:
        words = [w.strip(".") for w in re.split(r"[\s\-]+", fold(value))]
        return sum(w in known for w in words) >= 2

    return _mostly(sample, named, SHAPE_SHARE)


def detect_style(column: str, values: Iterable[str | None]) -> str | None:
    """The identifier style of a text column (one of :data:`STYLES`), or None for anything else.

    Args:
        column: the column's name.
        values: its values (the first SAMPLE non-empty ones are read).

    Example:
        >>> detect_style("contact", ["ann@example.org", "bo@example.net"])
        'email'
    """
    sample = list(itertools.islice((v.strip() for v in values if v and v.strip()), SAMPLE))
    if not sample:
        return None
    named = style_by_name(column)
    if named is not None and _named_style(named, sample):
        return named
    return _shaped_style(sample)


def national_id_locale(values: list[str | None]) -> str:
    """The locale of the scheme most of ``values`` follow (NATIONAL_ID_LOCALES; en_US when none)."""
    schemes = Counter(_national_scheme(v.strip(), named=True) for v in values[:SAMPLE] if v and v.strip())
    schemes.pop(None, None)
    return schemes.most_common(1)[0][0] if schemes else NATIONAL_ID_LOCALES[0]


def column_style(column: str, values: pa.ChunkedArray | pa.Array) -> str | None:
    """:func:`detect_style` of a column as Arrow holds it: strings, or integers named as card, phone or
    national identity numbers (:data:`INTEGER_STYLES`) whose digits bear the name out; None otherwise."""
    # Converted a slice at a time: reading the sample need not turn a whole column into Python strings.
    slices = (values.slice(start, SAMPLE).to_pylist() for start in range(0, len(values), SAMPLE))
    if pa.types.is_string(values.type) or pa.types.is_large_string(values.type):
        return detect_style(column, itertools.chain.from_iterable(slices))
    named = style_by_name(column)
    if not pa.types.is_integer(values.type) or named not in INTEGER_STYLES:
        return None
    digits = [str(v) for v in itertools.islice(itertools.chain.from_iterable(slices), SAMPLE) if v is not None]
    return named if digits and _named_style(named, digits) else None


def personal_columns(table: pa.Table, columns: list[ColumnSpec], overrides: set[str]
                     ) -> tuple[list[ColumnSpec], dict[str, str]]:
    """The PII columns of a training table (name -> one of :data:`PII_STYLES`), and ``columns`` with the
    kind of each set so its codec makes fakes: ``text`` (an ``id`` stays one when its fakes can be numbered
    unique; an integer column is always one, numbered fakes being the only kind of them an integer holds).
    A category or a number would keep real values in the model (as categories or quantiles), so a PII
    column is never one.

    Columns whose kind the user set (``overrides``, lower case) keep it: a PII column set to another kind
    than ``text`` or ``id`` is modelled with its real values, which is logged as a warning.
    """
    found: dict[str, str] = {}
    marked = []
    for spec in columns:
        values = table.column(spec.name)
        style = column_style(spec.name, values) if spec.kind in ("categorical", "text", "id", "integer") else None
        if style not in PII_STYLES:
            marked.append(spec)
            continue
        integer = pa.types.is_integer(values.type)
        keeps_fakes = spec.kind == "text" or spec.kind == "id" and style in NUMBERED_STYLES
        if spec.name.lower() in overrides:
            if keeps_fakes:
                found[spec.name] = style
            else:
                log.warning("column %r looks like %s values, but column_types makes it %s: its real values are "
                            "kept in the model", spec.name, style, spec.kind)
            marked.append(spec)
            continue
        found[spec.name] = style
        marked.append(spec if keeps_fakes else dataclasses.replace(spec, kind="id" if integer else "text"))
    return marked, found
