"""The request guards every genesis HTTP server applies (the dashboard, ``genesis serve``).

Four checks run before any view, in this order, so that a page on another site can neither drive nor
read the server:

1. **Host allow-list** (400): a DNS-rebinding page reaches 127.0.0.1 under its own name, so the browser
   sends ``Host: evil.example``. Only the bound address, ``localhost`` and names given with
   ``--allowed-host`` are answered.
2. **Origin** (403): a state-changing request (POST, PUT, PATCH, DELETE) whose ``Origin`` (or
   ``Sec-Fetch-Site``) says it comes from another site is refused.
3. **Token** (401): when the server has a token, every request but the OpenAPI document carries it, as
   ``Authorization: Bearer ...``, the cookie set by a first ``?token=...`` visit, or that parameter.
4. **CSRF token** (403): a state-changing request that a page on another site could send without a CORS
   preflight (a form post or a body-less fetch: no body type or a form/text one) and without an
   ``Authorization`` header must carry the CSRF token (form field ``csrf_token`` or header
   ``X-CSRF-Token``). The token is an HMAC, under a per-process secret, of a random nonce held in a
   ``SameSite=Strict`` cookie: the signed double-submit pattern, so no server-side session is needed.
   JSON bodies need no token: a browser sends them cross-site only after a preflight this server never
   grants.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from flask import Flask, Response, g, request

from genesis_sql.errors import InvalidArgumentError

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
TOKEN_COOKIE = "genesis_token"
CSRF_COOKIE = "genesis_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
# Bodies a page on another site can send without a CORS preflight (HTML forms, no-cors fetch).
PREFLIGHT_FREE_TYPES = frozenset({"", "application/x-www-form-urlencoded", "multipart/form-data", "text/plain"})
# Paths answered without the token: the API's description is public, like any OpenAPI document.
PUBLIC_PATHS = frozenset({"/openapi.json"})
_EXTENSION = "genesis_security"

Reject = Callable[[int, str, str], Response]


def host_name(host: str) -> str:
    """The name part of a ``Host`` header or bind address: lower-cased, without port or IPv6 brackets.

    Example:
        >>> host_name("[::1]:8050"), host_name("LocalHost:80"), host_name("::1")
        ('::1', 'localhost', '::1')
    """
    host = host.strip().lower()
    if host.startswith("["):
        return host[1:].split("]", 1)[0]
    if host.count(":") == 1:
        return host.split(":", 1)[0]
    return host


def allowed_hosts(bind_host: str, extra: Iterable[str] = ()) -> frozenset[str]:
    """The ``Host`` names a server bound to ``bind_host`` answers: that address, ``localhost`` and ``extra``.

    Example:
        >>> sorted(allowed_hosts("127.0.0.1", ["dash.example.com"]))
        ['127.0.0.1', 'dash.example.com', 'localhost']
    """
    return frozenset({host_name(bind_host), "localhost", *(host_name(name) for name in extra if name.strip())})


def check_bind(host: str, token: str | None, *, server: str = "the dashboard", setting: str = "--token") -> None:
    """Refuse to serve on a non-loopback ``host`` unless a ``token`` protects the server.

    Raises:
        InvalidArgumentError: ``host`` is reachable from other machines and no token is set.
    """
    if host_name(host) not in LOOPBACK_HOSTS and not token:
        raise InvalidArgumentError(
            f"Refusing to serve {server} on {host!r} without a token: anyone who can reach it could use it. "
            f"Set {setting} or keep the address on 127.0.0.1."
        )


@dataclass(frozen=True)
class SecurityPolicy:
    """What the guards enforce for one app.

    Attributes:
        allowed_hosts: The ``Host`` names answered (see :func:`allowed_hosts`).
        token: The bearer token every request must carry, or None for none.
        secret: The key that signs CSRF tokens (random per process by default).
    """

    allowed_hosts: frozenset[str]
    token: str | None = None
    secret: bytes = field(default_factory=lambda: secrets.token_bytes(32), repr=False)

    def csrf_token_for(self, nonce: str) -> str:
        """The CSRF token that matches a nonce cookie."""
        return hmac.new(self.secret, nonce.encode(), hashlib.sha256).hexdigest()


def policy() -> SecurityPolicy:
    """The current app's policy."""
    from flask import current_app

    return current_app.extensions[_EXTENSION]


def csrf_token() -> str:
    """The CSRF token for the current client, for forms (``{{ csrf_token() }}``); sets its nonce cookie if new."""
    nonce = request.cookies.get(CSRF_COOKIE) or g.get("csrf_nonce")
    if not nonce:
        nonce = g.csrf_nonce = secrets.token_urlsafe(24)
    return policy().csrf_token_for(nonce)


def _same_origin(origin: str) -> bool:
    parts = urlsplit(origin)
    default = {"http": 80, "https": 443}
    try:
        port = parts.port or default.get(parts.scheme)
    except ValueError:
        return False
    own_port = urlsplit(request.host_url).port or default.get(request.scheme)
    return (parts.scheme, host_name(parts.hostname or ""), port) == (
        request.scheme, host_name(request.host), own_port)


def _given_token() -> str:
    return (request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
            or request.args.get("token") or request.cookies.get(TOKEN_COOKIE) or "")


def _csrf_ok(rules: SecurityPolicy) -> bool:
    nonce = request.cookies.get(CSRF_COOKIE, "")
    given = request.headers.get(CSRF_HEADER) or request.form.get(CSRF_FIELD, "")
    return bool(nonce and given) and hmac.compare_digest(given.encode(), rules.csrf_token_for(nonce).encode())


def guard(rules: SecurityPolicy, reject: Reject) -> Response | None:
    """Run the four checks on the current request; a rejection response, or None to let it through."""
    if host_name(request.host) not in rules.allowed_hosts:
        return reject(400, "Host not allowed",
                      f"This server does not answer the host name {host_name(request.host)!r}. Use one of "
                      f"{', '.join(sorted(rules.allowed_hosts))}, or start it with --allowed-host NAME.")
    unsafe = request.method not in SAFE_METHODS
    origin = request.headers.get("Origin")
    if unsafe and ((origin is not None and not _same_origin(origin))
                   or request.headers.get("Sec-Fetch-Site") in ("cross-site", "same-site")):
        return reject(403, "Cross-origin request refused",
                      f"A {request.method} from another site ({origin or 'cross-site'}) is not accepted.")
    if rules.token and request.path not in PUBLIC_PATHS:
        if not hmac.compare_digest(_given_token().encode(), rules.token.encode()):
            return reject(401, "Token required",
                          "This server needs its token: send 'Authorization: Bearer TOKEN' (or open a page "
                          "with ?token=TOKEN once).")
    if (unsafe and "Authorization" not in request.headers
            and request.mimetype in PREFLIGHT_FREE_TYPES and not _csrf_ok(rules)):
        return reject(403, "CSRF token missing or invalid",
                      f"A form post needs the page's {CSRF_FIELD!r} field (or an {CSRF_HEADER} header); "
                      "API clients send JSON (Content-Type: application/json) or an Authorization header.")
    return None


def _set_cookies(rules: SecurityPolicy, response: Response) -> Response:
    secure = request.is_secure
    if rules.token and request.args.get("token") == rules.token:
        response.set_cookie(TOKEN_COOKIE, rules.token, httponly=True, samesite="Strict", secure=secure)
    if "csrf_nonce" in g:
        response.set_cookie(CSRF_COOKIE, g.csrf_nonce, httponly=True, samesite="Strict", secure=secure)
    return response


def init_app(app: Flask, rules: SecurityPolicy, reject: Reject) -> None:
    """Guard every request of ``app`` with ``rules``; ``reject(status, title, detail)`` builds refusals."""
    app.extensions[_EXTENSION] = rules
    app.before_request(lambda: guard(rules, reject))
    app.after_request(lambda response: _set_cookies(rules, response))
    app.jinja_env.globals["csrf_token"] = csrf_token
