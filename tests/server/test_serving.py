"""HttpServer: listening, TLS, clear errors for a taken port, and an access log without tokens."""
from __future__ import annotations

import json
import ssl
import subprocess
import urllib.request

import pytest

from genesis_sql.errors import InvalidArgumentError
from genesis_sql.server import create_app
from genesis_sql.server.serving import HttpServer, redact


@pytest.mark.parametrize(("line", "expected"), [
    ('"GET /?token=abc HTTP/1.1" 200 -', '"GET /?token=[redacted] HTTP/1.1" 200 -'),
    ('"GET /runs?a=1&token=abc&b=2 HTTP/1.1"', '"GET /runs?a=1&token=[redacted]&b=2 HTTP/1.1"'),
    ('"GET /?Token=abc HTTP/1.1"', '"GET /?Token=[redacted] HTTP/1.1"'),
    ('"GET /?mytoken=abc HTTP/1.1"', '"GET /?mytoken=abc HTTP/1.1"'),
])
def test_redact(line, expected):
    assert redact(line) == expected


def test_a_taken_port_is_a_clear_error(db_path):
    app = create_app({"DATABASE": str(db_path)})
    first = HttpServer(app, "127.0.0.1", 0)
    try:
        with pytest.raises(InvalidArgumentError, match=f"Cannot listen for HTTP on 127.0.0.1:{first.address[1]}"):
            HttpServer(app, "127.0.0.1", first.address[1])
    finally:
        first.close()


def test_tls(db_path, tmp_path):
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost",
                    "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True, timeout=60)
    server = HttpServer(create_app({"DATABASE": str(db_path)}), "127.0.0.1", 0, tls_cert=str(cert), tls_key=str(key))
    server.start()
    try:
        assert server.url.startswith("https://127.0.0.1:")
        context = ssl.create_default_context(cafile=str(cert))
        with urllib.request.urlopen(f"{server.url}/openapi.json", context=context, timeout=30) as response:
            assert json.loads(response.read())["openapi"] == "3.1.0"
    finally:
        server.stop()


def test_tls_needs_both_files(db_path):
    with pytest.raises(InvalidArgumentError, match="both a certificate and its key"):
        HttpServer(create_app({"DATABASE": str(db_path)}), "127.0.0.1", 0, tls_cert="cert.pem")
