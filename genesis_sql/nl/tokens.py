"""Splitting a request into tokens: words, numbers (digits, words, money, percents), ranges, decades, dates.

Every token keeps its place in the request, so whatever the parser does not use can be quoted back to the
user as not understood.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from genesis_sql.nl._words import DECADE_WORDS, DOZEN, SCALES, SUFFIX_SCALES, TENS, UNITS

_SCALE = r"(?:k|m|mm|bn|thousand|million|billion)"
_NUMBER = r"\d+(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+"
_PATTERN = re.compile(rf"""
    (?P<date>\d{{4}}-\d{{2}}-\d{{2}})
  | (?P<money>[$€£]\s?(?:{_NUMBER})(?:\s?{_SCALE}\b)?)
  | (?P<range>(?:{_NUMBER})\s?(?:-|–)\s?(?:{_NUMBER})(?![\d-]))
  | (?P<decade>'?\d*0'?s\b)
  | (?P<number>(?:{_NUMBER})(?:\s?{_SCALE}\b)?%?)
  | (?P<symbol>>=|<=|!=|<>|=>|=<|==|[<>=≥≤+&])
  | (?P<word>[^\W\d_][\w']*|\d+[^\W\d_]\w*)
  | (?P<punct>[,;:()?!./\-–"])
""", re.VERBOSE | re.UNICODE)


@dataclass(frozen=True)
class Token:
    """One piece of a request: its text as typed, lower-cased form, kind and (for numbers) value."""

    text: str
    norm: str
    kind: str  # word | number | money | percent | range | decade | date | symbol | punct
    value: Any = None
    start: int = 0

    @property
    def is_number(self) -> bool:
        """Whether the token is a single number (plain, money or percent)."""
        return self.kind in ("number", "money", "percent")


def _number(text: str) -> float:
    """A number from digits with an optional scale suffix: '5,000' -> 5000, '2.5k' -> 2500."""
    text = text.strip().lower().replace(",", "").replace(" ", "")
    for word, scale in SCALES.items():
        if text.endswith(word):
            return float(text[: -len(word)]) * scale
    for suffix in sorted(SUFFIX_SCALES, key=len, reverse=True):
        if text.endswith(suffix) and text[: -len(suffix)].replace(".", "", 1).isdigit():
            return float(text[: -len(suffix)]) * SUFFIX_SCALES[suffix]
    return float(text)


def _clean(value: float) -> int | float:
    return int(value) if float(value).is_integer() else value


def _split_words(text: str) -> list[str]:
    """Words joined by '_' split apart, so 'slack_work' reads like 'slack work'."""
    return [part for part in text.split("_") if part]


def tokenize(text: str) -> list[Token]:
    """The request's tokens, number words combined into one number token each.

    Example:
        >>> [t.value for t in tokenize("two thousand five hundred workers") if t.kind == "number"]
        [2500]
    """
    raw: list[Token] = []
    for match in _PATTERN.finditer(text):
        kind = match.lastgroup
        piece = match.group()
        if kind == "money":
            raw.append(Token(piece, piece.lower(), "money", _clean(_number(piece[1:])), match.start()))
        elif kind == "number":
            percent = piece.endswith("%")
            value = _clean(_number(piece.rstrip("%")))
            raw.append(Token(piece, piece.lower(), "percent" if percent else "number", value, match.start()))
        elif kind == "range":
            low, high = re.split(r"\s?[-–]\s?", piece, maxsplit=1)
            raw.append(Token(piece, piece.lower(), "range", (_clean(_number(low)), _clean(_number(high))),
                             match.start()))
        elif kind == "decade":
            digits = int(re.sub(r"\D", "", piece))
            if piece.startswith("'") and digits < 100:
                digits += 1900
            raw.append(Token(piece, piece.lower(), "decade", digits, match.start()))
        elif kind == "date":
            raw.append(Token(piece, piece, "date", piece, match.start()))
        elif kind == "word":
            offset = match.start()
            for part in _split_words(piece):
                raw.append(Token(part, part.lower(), "word", None, offset))
                offset += len(part) + 1
        else:
            raw.append(Token(piece, piece.lower(), kind, None, match.start()))
    return _number_words(raw)


def _is_number_word(token: Token) -> bool:
    return token.kind == "word" and (token.norm in UNITS or token.norm in TENS or token.norm in SCALES
                                     or token.norm in DOZEN)


def _number_words(tokens: list[Token]) -> list[Token]:
    """Combine 'two hundred and fifty', 'a thousand', '5 million', 'a dozen' into number tokens."""
    out: list[Token] = []
    i = 0
    while i < len(tokens):
        token = tokens[i]
        if token.kind == "word" and token.norm in DECADE_WORDS:
            out.append(Token(token.text, token.norm, "decade", DECADE_WORDS[token.norm], token.start))
            i += 1
            continue
        starts_with_a = (token.norm in ("a", "an") and i + 1 < len(tokens) and tokens[i + 1].kind == "word"
                         and (tokens[i + 1].norm in SCALES or tokens[i + 1].norm in DOZEN))
        if not (_is_number_word(token) or starts_with_a or token.kind == "number" and i + 1 < len(tokens)
                and tokens[i + 1].norm in SCALES):
            out.append(token)
            i += 1
            continue
        total, current, j, used = 0, 0, i, []
        if starts_with_a:
            current, j = 1, i + 1
            used.append(token)
        elif token.kind == "number":
            current, j = token.value, i + 1
            used.append(token)
        while j < len(tokens):
            word = tokens[j]
            if word.kind != "word":
                break
            if word.norm in UNITS:
                current += UNITS[word.norm]
            elif word.norm in TENS:
                current += TENS[word.norm]
            elif word.norm in DOZEN:
                current = (current or 1) * DOZEN[word.norm]
            elif word.norm == "hundred":
                current = (current or 1) * 100
            elif word.norm in SCALES:
                total += (current or 1) * SCALES[word.norm]
                current = 0
            elif (word.norm == "and" and used and j + 1 < len(tokens) and _is_number_word(tokens[j + 1])
                  and tokens[j - 1].norm in SCALES):
                pass
            else:
                break
            used.append(word)
            j += 1
        text = " ".join(t.text for t in used)
        out.append(Token(text, text.lower(), "number", _clean(total + current), token.start))
        i = j
    return out
