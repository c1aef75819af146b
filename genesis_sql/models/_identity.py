"""Identifier-like text (names, emails, phone numbers, addresses, card numbers, national identity numbers,
IP addresses, cities, companies), made fresh with Faker.

A column whose values are one of these (detected by genesis_sql.models._pii) is not modelled word by word:
its values would be people's and places' real identifiers. The locale is the Faker locale whose name lists
cover most of the training names (``en_US`` otherwise; a national identity number keeps its own scheme's).
Generation is deterministic per row: names and emails are drawn from the locale's weighted name lists
with the row's own uniforms (vectorised), other styles call Faker with a per-row seed taken from them.
An email column whose training addresses spell the names of a name column is derived from the
generated name of the same row.

Nothing of a training value is kept to compare with, not even a salted hash (a hash of a name or an email
is reversed by hashing a dictionary of them, and it would travel in exported model files): a fake is a
Faker draw that never reads the training values, so it equals one only as often as any independent Faker
draw does. What the model keeps is the style, the locale and, for emails, the domains that many training
rows share.
"""
from __future__ import annotations

import functools
import importlib
import ipaddress
import re
import unicodedata
from collections import Counter
from typing import Any

import numpy as np

from genesis_sql.errors import CatalogError, MissingDependencyError
from genesis_sql.models._check_digits import insee_key, luhn_digit

NAME_STYLES = ("name", "first_name", "last_name")
# The Faker generator each style calls (names and emails are drawn from the name lists without one).
# An allow-list, not getattr(faker, style): the style comes back from stored model state, which must not
# be able to choose which method runs.
FAKER_METHODS = {"phone": "phone_number", "street_address": "street_address", "city": "city",
                 "company": "company", "credit_card": "credit_card_number", "national_id": "ssn", "ipv4": "ipv4",
                 "ipv6": "ipv6"}
LOCALES = ("en_US", "en_GB", "de_DE", "fr_FR", "es_ES", "it_IT", "nl_NL", "pt_BR", "pl_PL", "sv_SE", "tr_TR",
           "ru_RU", "ja_JP", "zh_CN", "ko_KR", "hi_IN")
DEFAULT_LOCALE = "en_US"
# An email domain seen on fewer training rows than this is not reused (it could point at a person).
MIN_DOMAIN_ROWS = 20


def _faker(locale: str) -> Any:
    try:
        import faker
    except ImportError as exc:
        raise MissingDependencyError(
            "Generating names, emails, phone numbers and addresses needs Faker. Install the extra: "
            "pip install 'genesis-sql[text]'.") from exc
    return faker.Faker(locale)


def check_stored_style(style: object, locale: object, allowed: tuple[str | None, ...]) -> None:
    """Refuse a style or locale read back from stored state that this module does not generate.

    Raises:
        CatalogError: the style is not one of ``allowed`` or the locale not one of LOCALES.
    """
    if style not in allowed:
        raise CatalogError(f"its stored state names the text style {style!r}, which is not a Faker generator "
                           f"genesis uses (allowed: {', '.join(str(a) for a in allowed)}).")
    if locale not in LOCALES:
        raise CatalogError(f"its stored state names the Faker locale {locale!r}, which is not one of "
                           f"{', '.join(LOCALES)}.")


def require_faker(column: str, style: str) -> None:
    """Raise MissingDependencyError, naming the column, when Faker is missing.

    Raises:
        MissingDependencyError: Faker cannot be imported.
    """
    if not faker_available():
        raise MissingDependencyError(
            f"Column {column!r} holds {style.replace('_', ' ')} values, which genesis makes fresh with Faker and "
            "never copies. Install the extra: pip install 'genesis-sql[text]'; or give the column another kind "
            "with column_types (its values are then kept in the model).")


def faker_available() -> bool:
    """Whether Faker can be imported."""
    try:
        importlib.import_module("faker")
    except ImportError:
        return False
    return True


def fold(text: str) -> str:
    """Lower case without accents, for matching names across spellings."""
    return "".join(c for c in unicodedata.normalize("NFKD", text.lower()) if not unicodedata.combining(c))


@functools.lru_cache(maxsize=32)
def name_lists(locale: str) -> dict[str, Any]:
    """The locale's first and last names with weights, and whether the family name comes first."""
    person = _faker(locale).provider("faker.providers.person")

    def weighted(entries: Any) -> tuple[list[str], np.ndarray]:
        if isinstance(entries, dict):
            names, weights = list(entries), np.array(list(entries.values()), dtype=float)
        else:
            names, weights = list(entries), np.ones(len(entries))
        return names, np.cumsum(weights) / weights.sum()

    formats = list(getattr(person, "formats", ["{{first_name}} {{last_name}}"]))
    family_first = formats[0].startswith("{{last_name}}")
    separator = "" if "{{last_name}}{{" in formats[0] else " "
    return {"first": weighted(person.first_names), "last": weighted(person.last_names),
            "family_first": family_first, "separator": separator}


@functools.lru_cache(maxsize=32)
def known_names(locale: str) -> frozenset[str]:
    """The locale's first and last names, folded (lower case, no accents)."""
    data = name_lists(locale)
    return frozenset(fold(n) for n in data["first"][0]) | frozenset(fold(n) for n in data["last"][0])


def detect_locale(values: list[str]) -> str:
    """The locale whose name lists contain most of the words of ``values`` (names), DEFAULT_LOCALE otherwise."""
    words = Counter(w for v in values[:2000] if v for w in fold(v).replace("-", " ").split())
    if not words or not faker_available():
        return DEFAULT_LOCALE
    best, best_hits = DEFAULT_LOCALE, 0
    for locale in LOCALES:
        known = known_names(locale)
        hits = sum(count for word, count in words.items() if word in known)
        if hits > best_hits:
            best, best_hits = locale, hits
    return best


def email_domains(values: list[str]) -> list[str]:
    """Email domains common enough in training to reuse (each on at least MIN_DOMAIN_ROWS rows)."""
    counts = Counter(v.rsplit("@", 1)[1].lower() for v in values if v and "@" in v)
    return sorted(d for d, c in counts.items() if c >= MIN_DOMAIN_ROWS)


def names_in_emails(emails: list[str], names: list[str]) -> bool:
    """Whether training emails spell the names of the same rows (so generated ones should too)."""
    pairs = [(e, n) for e, n in zip(emails, names) if e and n and "@" in e]
    if not pairs:
        return False
    hits = 0
    for email, name in pairs:
        local = fold(email.split("@", 1)[0])
        parts = [p for p in re.split(r"[\s\-'.]+", fold(name)) if len(p) > 1]
        hits += bool(parts) and any(p in local for p in parts)
    return hits / len(pairs) >= 0.5


class IdentityText:
    """Generates one identifier style in one locale from per-row uniforms.

    Args:
        style: one of STYLES.
        locale: a Faker locale.
        domains: email domains to use (the locale's free email domains when empty).
    """

    # Uniforms one row uses per try.
    DIMS = 6

    def __init__(self, style: str, locale: str, domains: list[str]) -> None:
        self.style = style
        self.locale = locale
        self.domains = domains

    @functools.cached_property
    def _domains(self) -> list[str]:
        if self.domains:
            return self.domains
        internet = _faker(self.locale).provider("faker.providers.internet")
        return list(getattr(internet, "free_email_domains", ["example.com"]))

    def _pick(self, table: tuple[list[str], np.ndarray], u: np.ndarray) -> list[str]:
        names, cumulative = table
        index = np.minimum(np.searchsorted(cumulative, u, side="right"), len(names) - 1)
        return [names[i] for i in index]

    def generate(self, u: np.ndarray, names: list[str | None] | None = None) -> list[str]:
        """Values for uniforms ``u`` (rows x DIMS); emails use ``names`` (one per row) when given."""
        if self.style in ("name", "first_name", "last_name", "email"):
            data = name_lists(self.locale)
            first, last = self._pick(data["first"], u[:, 0]), self._pick(data["last"], u[:, 1])
            if self.style == "first_name":
                return first
            if self.style == "last_name":
                return last
            if self.style == "name":
                sep = data["separator"]
                return [f"{b}{sep}{a}" if data["family_first"] else f"{a}{sep}{b}" for a, b in zip(first, last)]
            if names is not None:
                first = [n or f for n, f in zip(names, first)]
                last = ["" if n else x for n, x in zip(names, last)]
            return self._emails(first, last, u)
        fake = _faker(self.locale)
        method = getattr(fake, FAKER_METHODS[self.style])
        out = []
        for seed in (u[:, 0] * 2**52).astype(np.int64):
            fake.seed_instance(int(seed))
            out.append(method().replace("\n", ", "))
        return out

    def _emails(self, first: list[str], last: list[str], u: np.ndarray) -> list[str]:
        domains = self._domains
        domain = np.minimum((u[:, 2] * len(domains)).astype(np.int64), len(domains) - 1)
        digits = (u[:, 3] * 100).astype(np.int64)
        shape = (u[:, 4] * 4).astype(np.int64)
        out = []
        for a, b, d, n, s in zip(first, last, domain, digits, shape):
            words = [w for w in re.split(r"[^a-z0-9]+", fold(f"{a} {b}")) if w] or ["user"]
            head, tail = words[0], words[-1] if len(words) > 1 else ""
            local = (f"{head}.{tail}" if s == 0 else f"{head[0]}{tail}" if s == 1 else f"{head}{tail}{n}"
                     if s == 2 else f"{head}_{tail}{n}").strip("._") if tail else f"{head}{n}"
            out.append(f"{local}@{domains[d]}")
        return out


# Digits of the output row written into a numbered fake (unique up to 10**7 rows).
ROW_DIGITS = 7
# Rows are scrambled before they are written: times an odd number that 5 does not divide, plus an offset,
# a bijection modulo every power of 2 and of 10, so numbered fakes stay unique without counting 0, 1, 2.
_SCRAMBLE = 7_654_321
_OFFSET = 3_141_593


def _scrambled(row: int, modulus: int) -> int:
    return (row * _SCRAMBLE + _OFFSET) % modulus


def _with_row_digits(value: str, row: int) -> str:
    """``value`` with its last digits replaced by the (scrambled) row's, as many as it has, up to ROW_DIGITS."""
    digits = list(f"{_scrambled(row, 10**ROW_DIGITS):0{ROW_DIGITS}d}")
    chars = list(value)
    for i in range(len(chars) - 1, -1, -1):
        if digits and chars[i].isdigit():
            chars[i] = digits.pop()
    return "".join(chars)


def numbered(value: str, row: int, style: str) -> str:
    """A fake made unique by its output row, still well formed.

    Emails become ``local.<row>@domain``; IPv4 addresses keep their first octet and carry the row in the
    other three (unique up to 2**24 rows), IPv6 addresses in their last 32 bits; card numbers, phone and
    national identity numbers end in the row's digits (unique up to 10**7 rows; UK National Insurance and
    French INSEE numbers carry six, so 10**6: an INSEE number's commune and serial), with the Luhn digit or
    the INSEE key recomputed.
    """
    if style == "email":
        local, _, domain = value.partition("@")
        return f"{local}.{row}@{domain}"
    if style == "ipv4":
        low = _scrambled(row, 2**24)
        return f"{value.split('.', 1)[0]}.{low >> 16}.{(low >> 8) & 255}.{low & 255}"
    if style == "ipv6":
        head = ipaddress.IPv6Address(value).exploded.split(":")[:6]
        low = _scrambled(row, 2**32)
        return str(ipaddress.IPv6Address(":".join([*head, f"{low >> 16:04x}", f"{low & 0xFFFF:04x}"])))
    if style == "credit_card":
        body = _with_row_digits(value[:-1], row)
        return body + luhn_digit(body)
    if style == "national_id" and len(value) == 15 and value[-8:].isdigit():
        body = f"{value[:7]}{_scrambled(row, 10**6):06d}"
        return body + insee_key(body)
    return _with_row_digits(value, row)
