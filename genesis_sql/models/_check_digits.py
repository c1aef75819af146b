"""Check digits of identifier numbers: the Luhn digit of payment card numbers, the key of French INSEE numbers.

Detection reads them to tell a card number from any long digit string; generation recomputes them after
numbering a fake by its output row, so the fake stays well formed.
"""
from __future__ import annotations


def luhn_digit(body: str) -> str:
    """The Luhn check digit that completes the digit string ``body`` (ISO/IEC 7812).

    Example:
        >>> luhn_digit("453957876362148")
        '6'
    """
    total = 0
    for i, c in enumerate(reversed(body)):
        d = ord(c) - 48
        total += (d * 2 - 9 if d > 4 else d * 2) if i % 2 == 0 else d
    return str(-total % 10)


def luhn_valid(digits: str) -> bool:
    """Whether a digit string ends in its Luhn check digit.

    Example:
        >>> luhn_valid("4539578763621486"), luhn_valid("4539578763621487")
        (True, False)
    """
    return len(digits) > 1 and digits.isdigit() and luhn_digit(digits[:-1]) == digits[-1]


def insee_key(body: str) -> str:
    """The two-digit key of a French INSEE number's first 13 characters: 97 - (body mod 97), where the
    Corsican departments 2A and 2B count as 19 and 18.

    Example:
        >>> insee_key("2690549588157"), insee_key("262122B000000")
        ('80', '60')
    """
    number = int(body[:5] + {"2A": "19", "2B": "18"}.get(body[5:7], body[5:7]) + body[7:])
    return f"{97 - number % 97:02d}"
