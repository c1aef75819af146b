"""Postgres wire protocol v3 framing: reading frontend messages and building backend messages.

A frontend message is a type byte, an int32 length (including itself) and a body; the startup packet
has no type byte. Builders return the complete bytes of one backend message, so that a session can
join many of them into one socket write.
"""
from __future__ import annotations

import socket
import struct
from dataclasses import dataclass

PROTOCOL_V3 = 196608
SSL_REQUEST = 80877103
GSSENC_REQUEST = 80877104
CANCEL_REQUEST = 80877102
MAX_MESSAGE_BYTES = 64 * 1024 * 1024


class ProtocolViolation(Exception):
    """The client sent bytes that are not a valid protocol message; the connection is closed."""


class ClientGone(Exception):
    """The client closed its end of the connection."""


def read_exact(sock: socket.socket, size: int) -> bytes:
    """Exactly ``size`` bytes from ``sock`` (raises ClientGone when it closes first)."""
    chunks, left = [], size
    while left:
        chunk = sock.recv(min(left, 1 << 20))
        if not chunk:
            raise ClientGone()
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def read_startup(sock: socket.socket) -> tuple[int, bytes]:
    """The startup packet: (code, rest of the body)."""
    (length,) = struct.unpack("!i", read_exact(sock, 4))
    if not 8 <= length <= 10_000:
        raise ProtocolViolation(f"invalid startup packet length {length}")
    body = read_exact(sock, length - 4)
    (code,) = struct.unpack("!i", body[:4])
    return code, body[4:]


def read_message(sock: socket.socket) -> tuple[bytes, bytes]:
    """One frontend message: (type byte, body)."""
    header = read_exact(sock, 5)
    kind, length = header[:1], struct.unpack("!i", header[1:])[0]
    if not 4 <= length <= MAX_MESSAGE_BYTES:
        raise ProtocolViolation(f"invalid message length {length} for message type {kind!r}")
    return kind, read_exact(sock, length - 4)


def parse_startup_parameters(body: bytes) -> dict[str, str]:
    """The name/value pairs of a v3 startup packet."""
    parts = body.split(b"\x00")
    return {parts[i].decode(): parts[i + 1].decode() for i in range(0, len(parts) - 1, 2) if parts[i]}


@dataclass
class Reader:
    """Reads the fields of one message body in order."""

    data: bytes
    pos: int = 0

    def int16(self) -> int:
        (value,) = struct.unpack_from("!h", self.data, self.pos)
        self.pos += 2
        return value

    def int32(self) -> int:
        (value,) = struct.unpack_from("!i", self.data, self.pos)
        self.pos += 4
        return value

    def cstring(self) -> str:
        end = self.data.index(b"\x00", self.pos)
        value = self.data[self.pos:end].decode("utf-8")
        self.pos = end + 1
        return value

    def byte(self) -> bytes:
        value = self.data[self.pos:self.pos + 1]
        self.pos += 1
        return value

    def bytes(self, size: int) -> bytes:
        value = self.data[self.pos:self.pos + size]
        if len(value) != size:
            raise ProtocolViolation("message body shorter than its fields")
        self.pos += size
        return value


def message(kind: bytes, body: bytes = b"") -> bytes:
    """One backend message: type byte, length, body."""
    return kind + struct.pack("!i", len(body) + 4) + body


def cstr(text: str) -> bytes:
    return text.encode("utf-8") + b"\x00"


def authentication(code: int, payload: bytes = b"") -> bytes:
    """AuthenticationOk (0), SASL (10), SASLContinue (11), SASLFinal (12)."""
    return message(b"R", struct.pack("!i", code) + payload)


def parameter_status(name: str, value: str) -> bytes:
    return message(b"S", cstr(name) + cstr(value))


def backend_key_data(pid: int, secret: int) -> bytes:
    return message(b"K", struct.pack("!ii", pid, secret))


def ready_for_query(status: bytes) -> bytes:
    """status: b'I' idle, b'T' in a transaction block, b'E' in a failed transaction block."""
    return message(b"Z", status)


def command_complete(tag: str) -> bytes:
    return message(b"C", cstr(tag))


def error_response(sqlstate: str, text: str, *, severity: str = "ERROR", hint: str | None = None) -> bytes:
    fields = b"S" + cstr(severity) + b"V" + cstr(severity) + b"C" + cstr(sqlstate) + b"M" + cstr(text)
    if hint:
        fields += b"H" + cstr(hint)
    return message(b"E", fields + b"\x00")


def notice_response(text: str, *, sqlstate: str = "01000") -> bytes:
    fields = b"S" + cstr("NOTICE") + b"V" + cstr("NOTICE") + b"C" + cstr(sqlstate) + b"M" + cstr(text)
    return message(b"N", fields + b"\x00")


def row_description(fields: list[tuple[str, int, int, int]]) -> bytes:
    """fields: (name, type oid, type size, format code) per column."""
    body = struct.pack("!h", len(fields))
    for name, oid, size, fmt in fields:
        body += cstr(name) + struct.pack("!ihihih", 0, 0, oid, size, -1, fmt)
    return message(b"T", body)


def parameter_description(oids: list[int]) -> bytes:
    return message(b"t", struct.pack(f"!h{len(oids)}i", len(oids), *oids))


PARSE_COMPLETE = message(b"1")
BIND_COMPLETE = message(b"2")
CLOSE_COMPLETE = message(b"3")
NO_DATA = message(b"n")
PORTAL_SUSPENDED = message(b"s")
EMPTY_QUERY = message(b"I")


def data_row_text(values: list[str | None]) -> bytes:
    """One DataRow of text values (for the few rows the server answers itself)."""
    body = struct.pack("!h", len(values))
    for value in values:
        if value is None:
            body += struct.pack("!i", -1)
        else:
            raw = value.encode("utf-8")
            body += struct.pack("!i", len(raw)) + raw
    return message(b"D", body)
