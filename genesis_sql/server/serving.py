"""Running a genesis Flask app on a socket: threads, optional TLS, and an access log without secrets.

Both the dashboard command and ``genesis serve`` use :class:`HttpServer`. Its access log is werkzeug's
(one line per request on stderr), except that the value of a ``token`` query parameter is replaced by
``[redacted]``: a dashboard link like ``/?token=...`` must not leave the token in log files.
"""
from __future__ import annotations

import re
import socket
import threading

from flask import Flask
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from genesis_sql.errors import InvalidArgumentError

_TOKEN_PARAMETER = re.compile(r"([?&;]token=)[^&;#\s\"]*", re.IGNORECASE)


def redact(line: str) -> str:
    """``line`` with the value of every ``token`` query parameter replaced.

    Example:
        >>> redact('"GET /runs?x=1&token=s3cret HTTP/1.1" 200 -')
        '"GET /runs?x=1&token=[redacted] HTTP/1.1" 200 -'
    """
    return _TOKEN_PARAMETER.sub(r"\1[redacted]", line)


class RedactingRequestHandler(WSGIRequestHandler):
    """werkzeug's request handler, logging every line through :func:`redact`."""

    def log(self, type: str, message: str, *args: object) -> None:  # noqa: A002 (werkzeug's signature)
        super().log(type, "%s", redact(message % args if args else message))


def _listen(host: str, port: int) -> socket.socket:
    """A listening socket, or a clear error (werkzeug itself would print and exit the process)."""
    try:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        return socket.create_server((host, port), family=family, backlog=128)
    except OSError as exc:
        raise InvalidArgumentError(f"Cannot listen for HTTP on {host}:{port}: {exc.strerror or exc}. "
                                   "Pick another address or port (0 takes any free port).") from exc


class HttpServer:
    """``app`` served on ``host:port`` by a threaded werkzeug server.

    Example:
        >>> server = HttpServer(create_app(...), "127.0.0.1", 0)   # doctest: +SKIP
        >>> server.start(); server.address                        # doctest: +SKIP
        ('127.0.0.1', 49153)
    """

    def __init__(self, app: Flask, host: str, port: int, *, tls_cert: str | None = None,
                 tls_key: str | None = None) -> None:
        if (tls_cert is None) != (tls_key is None):
            raise InvalidArgumentError("TLS needs both a certificate and its key (--tls-cert FILE --tls-key FILE).")
        self._socket = _listen(host, port)
        try:
            self._server: BaseWSGIServer = make_server(
                host, port, app, threaded=True, request_handler=RedactingRequestHandler,
                ssl_context=(tls_cert, tls_key) if tls_cert else None, fd=self._socket.fileno())
        except (OSError, ValueError) as exc:
            self._socket.close()
            raise InvalidArgumentError(f"Cannot start HTTPS with {tls_cert} and {tls_key}: {exc}") from exc
        self._thread: threading.Thread | None = None

    @property
    def address(self) -> tuple[str, int]:
        """(host, port) the server listens on."""
        host, port = self._server.server_address[:2]
        return host, port

    @property
    def url(self) -> str:
        """The base URL, e.g. ``http://127.0.0.1:8050``."""
        host, port = self.address
        scheme = "https" if self._server.ssl_context else "http"
        return f"{scheme}://{f'[{host}]' if ':' in host else host}:{port}"

    def start(self) -> None:
        """Serve on a background thread; the socket already listens, so clients can connect at once."""
        self._thread = threading.Thread(target=self._server.serve_forever, name="genesis-http", daemon=True)
        self._thread.start()

    def serve_forever(self) -> None:
        """Serve on this thread until interrupted (Ctrl-C, or SIGTERM with ``stop_on_sigterm``)."""
        try:
            self._server.serve_forever()
        finally:
            self.close()

    def stop(self) -> None:
        """Stop serving and close the socket."""
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join(timeout=30)
            self._thread = None
        self.close()

    def close(self) -> None:
        """Close the listening sockets."""
        self._server.server_close()
        self._socket.close()
