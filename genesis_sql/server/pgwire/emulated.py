"""Statements a Postgres client sends that the server answers itself instead of running in DuckDB.

Drivers send ``SET`` (extra_float_digits, application_name, DateStyle ...), ``SHOW`` of Postgres
settings, transaction control and ``DISCARD`` / ``DEALLOCATE`` as a matter of course. The serving
database's configuration is locked and nothing is written, so these are session bookkeeping: ``SET``
stores the value for ``SHOW``, transaction control moves the transaction status that ReadyForQuery
reports.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

SERVER_VERSION = "15.0"
SERVER_VERSION_NUM = "150000"
VERSION_TEXT = f"PostgreSQL {SERVER_VERSION} (genesis-sql, DuckDB) on x86_64-pc-linux-gnu, 64-bit"

# Sent to the client at startup (ParameterStatus) and answered by SHOW.
REPORTED = {
    "server_version": SERVER_VERSION,
    "server_encoding": "UTF8",
    "client_encoding": "UTF8",
    "DateStyle": "ISO, MDY",
    "IntervalStyle": "postgres",
    "TimeZone": "UTC",
    "integer_datetimes": "on",
    "standard_conforming_strings": "on",
    "is_superuser": "off",
}
DEFAULTS = {
    **{k.lower(): v for k, v in REPORTED.items()},
    "server_version_num": SERVER_VERSION_NUM,
    "transaction_isolation": "read committed",
    "transaction isolation level": "read committed",
    "transaction_read_only": "on",
    "default_transaction_read_only": "on",
    "search_path": '"$user", public',
    "extra_float_digits": "1",
    "max_identifier_length": "63",
    "lc_collate": "C",
    "lc_ctype": "C",
    "max_index_keys": "32",
    "statement_timeout": "0",
    "application_name": "",
    "block_size": "8192",
    "max_connections": "100",
}


@dataclass(frozen=True)
class Emulated:
    """A statement answered by the session: the command tag, and for SHOW the column and value."""

    tag: str
    show: tuple[str, str] | None = None
    transaction: str | None = None   # "begin", "commit" or "rollback"
    setting: tuple[str, str | None] | None = None  # (name, value); value None resets it
    deallocate: str | None = None


_SET = re.compile(r"^SET\s+(?:SESSION\s+|LOCAL\s+)?(?!SESSION\s+CHARACTERISTICS)"
                  r"(TIME\s+ZONE|\w+(?:\.\w+)?)\s*(?:=|\bTO\b)?\s*(.*?)$", re.IGNORECASE | re.DOTALL)
_SHOW = re.compile(r"^SHOW\s+(\w+(?:\s+\w+)*)$", re.IGNORECASE)


def _strip(sql: str) -> str:
    text = re.sub(r"--[^\n]*", " ", sql)
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.DOTALL)
    return text.strip().rstrip(";").strip()


def _value(text: str) -> str:
    text = text.strip()
    if len(text) >= 2 and text[0] == text[-1] == "'":
        return text[1:-1].replace("''", "'")
    return text


def emulate(sql: str, settings: dict[str, str]) -> Emulated | None:
    """The emulated answer to ``sql``, or None when DuckDB should run it."""
    text = _strip(sql)
    first = text.split(None, 1)[0].upper() if text else ""
    if first in ("BEGIN", "START"):
        return Emulated("BEGIN", transaction="begin")
    if first in ("COMMIT", "END"):
        return Emulated("COMMIT", transaction="commit")
    if first in ("ROLLBACK", "ABORT"):
        if re.search(r"\bTO\b", text, re.IGNORECASE):
            return Emulated("ROLLBACK")
        return Emulated("ROLLBACK", transaction="rollback")
    if first in ("SAVEPOINT", "RELEASE", "LISTEN", "UNLISTEN", "DISCARD"):
        return Emulated({"DISCARD": "DISCARD ALL", "RELEASE": "RELEASE"}.get(first, first))
    if first == "DEALLOCATE":
        name = re.sub(r"^DEALLOCATE\s+(PREPARE\s+)?", "", text, flags=re.IGNORECASE).strip().strip('"')
        return Emulated("DEALLOCATE" if name.upper() != "ALL" else "DEALLOCATE ALL", deallocate=name)
    if first == "SET":
        match = _SET.match(text)
        if match is None:
            return Emulated("SET")
        name = re.sub(r"\s+", " ", match.group(1)).lower()
        name = "timezone" if name == "time zone" else name
        value = _value(match.group(2))
        return Emulated("SET", setting=(name, None if value.upper() == "DEFAULT" else value))
    if first == "RESET":
        name = text.split(None, 1)[1].lower() if len(text.split()) > 1 else "all"
        return Emulated("RESET", setting=(name, None))
    if first == "SHOW":
        match = _SHOW.match(text)
        name = re.sub(r"\s+", " ", match.group(1)).lower() if match else ""
        if name in settings or name in DEFAULTS:
            column = name.split()[-1]  # SHOW transaction isolation level -> column "level"
            return Emulated("SHOW", show=(column, settings.get(name, DEFAULTS.get(name, ""))))
    return None
