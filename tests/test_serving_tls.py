"""HTTPS in the development server: ``ssl_context`` of ``make_server``/``run_simple``/``app.run``, ``erlen run --cert``.

Each test makes its own self-signed certificate, serves on 127.0.0.1 and a
free port, and fetches over TLS with a client that trusts that certificate
(or, for ``adhoc``, checks nothing).
"""

from __future__ import annotations

import datetime
import ipaddress
import socket
import ssl
import sys
import threading
import typing as t
import urllib.request
from pathlib import Path

import pytest
from live_servers import HOST, ServerProcess, clean_env

import erlen.serving
from erlen import Erlen, request
from erlen.serving import generate_adhoc_ssl_context, load_ssl_context, make_server

cryptography = pytest.importorskip("cryptography")


def _self_signed(folder: Path) -> tuple[str, str]:
    """A certificate for 127.0.0.1 and its key, as two PEM files in ``folder``."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "erlen test")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(HOST))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return str(cert_path), str(key_path)


@pytest.fixture
def pair(tmp_path: Path) -> tuple[str, str]:
    return _self_signed(tmp_path)


def _scheme_app() -> Erlen:
    app = Erlen("tls")

    @app.route("/")
    def index() -> str:
        return f"{request.scheme} {request.url}"

    return app


def _client_context(cafile: str | None) -> ssl.SSLContext:
    if cafile is None:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        return context
    return ssl.create_default_context(cafile=cafile)


def _fetch(url: str, cafile: str | None) -> str:
    with urllib.request.urlopen(url, timeout=5, context=_client_context(cafile)) as resp:
        return t.cast(bytes, resp.read()).decode()


def _serving(server: t.Any) -> threading.Thread:
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    return thread


def _stop(server: t.Any, thread: threading.Thread) -> None:
    server.shutdown()
    server.server_close()
    thread.join(5)
    assert not thread.is_alive()


@pytest.mark.parametrize("threaded", [True, False])
@pytest.mark.parametrize("form", ["pair", "context"])
def test_make_server_serves_https(pair: tuple[str, str], threaded: bool, form: str) -> None:
    ssl_context: t.Any = pair if form == "pair" else load_ssl_context(*pair)
    server = make_server(HOST, 0, _scheme_app(), threaded=threaded, ssl_context=ssl_context)
    port = server.server_address[1]
    thread = _serving(server)
    try:
        # The client checks the certificate: the server presents the one given.
        body = _fetch(f"https://{HOST}:{port}/", cafile=pair[0])
        assert body == f"https https://{HOST}:{port}/"
    finally:
        _stop(server, thread)


def test_plain_http_to_the_https_port_is_dropped_and_serving_goes_on(
    pair: tuple[str, str],
) -> None:
    server = make_server(HOST, 0, _scheme_app(), ssl_context=pair)
    port = server.server_address[1]
    thread = _serving(server)
    try:
        with socket.create_connection((HOST, port), timeout=5) as sock:
            sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            received = b""
            while chunk := sock.recv(1024):  # to the end: the server closes
                received += chunk
            # No HTTP answer (at most a TLS alert): the handshake failed.
            assert not received.startswith(b"HTTP/")
        assert _fetch(f"https://{HOST}:{port}/", cafile=pair[0]).startswith("https ")
    finally:
        _stop(server, thread)


def test_plain_server_still_says_http() -> None:
    server = make_server(HOST, 0, _scheme_app())
    port = server.server_address[1]
    thread = _serving(server)
    try:
        with urllib.request.urlopen(f"http://{HOST}:{port}/", timeout=5) as resp:
            assert resp.read().decode() == f"http http://{HOST}:{port}/"
    finally:
        _stop(server, thread)


def test_adhoc_certificate_is_self_signed_for_localhost() -> None:
    server = make_server(HOST, 0, _scheme_app(), ssl_context="adhoc")
    port = server.server_address[1]
    thread = _serving(server)
    try:
        with socket.create_connection((HOST, port), timeout=5) as raw:
            with _client_context(None).wrap_socket(raw) as tls:
                der = tls.getpeercert(binary_form=True)
        from cryptography import x509

        cert = x509.load_der_x509_certificate(t.cast(bytes, der))
        assert cert.issuer == cert.subject  # self-signed
        names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        assert "localhost" in names.get_values_for_type(x509.DNSName)
        assert _fetch(f"https://{HOST}:{port}/", cafile=None).startswith("https ")
    finally:
        _stop(server, thread)


def test_adhoc_without_cryptography_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "cryptography", None)
    with pytest.raises(RuntimeError, match="pip install cryptography"):
        generate_adhoc_ssl_context()


def test_a_string_that_is_not_adhoc_is_refused() -> None:
    with pytest.raises(ValueError, match="ssl_context='cert.pem'"):
        make_server(HOST, 0, _scheme_app(), ssl_context="cert.pem")


def test_run_simple_announces_https_and_the_reloader_child_gets_the_context(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], pair: tuple[str, str]
) -> None:
    made: list[t.Any] = []

    class FakeServer:
        server_address = (HOST, 4321)

        def serve_forever(self) -> None:
            raise KeyboardInterrupt

        def server_close(self) -> None:
            pass

    def fake_make_server(*args: t.Any, **kwargs: t.Any) -> FakeServer:
        made.append(kwargs.get("ssl_context"))
        return FakeServer()

    monkeypatch.setattr(erlen.serving, "make_server", fake_make_server)
    erlen.serving.run_simple(HOST, 0, _scheme_app(), ssl_context=pair)
    assert f" * Running on https://{HOST}:4321/" in capsys.readouterr().out
    assert made == [pair]

    # With the reloader, the watcher binds without TLS; its child loads it.
    children: list[t.Any] = []
    monkeypatch.setattr(
        erlen.serving,
        "_serve_in_child",
        lambda host, port, application, threaded, ssl_context=None, asgi_debugged=False: (
            children.append(ssl_context)
        ),
    )
    monkeypatch.setenv("ERLEN_RUN_MAIN", "true")
    erlen.serving.run_simple(HOST, 0, _scheme_app(), use_reloader=True, ssl_context=pair)
    assert children == [pair]


def test_reloader_child_serves_https_on_the_inherited_socket(
    monkeypatch: pytest.MonkeyPatch, pair: tuple[str, str]
) -> None:
    listener = socket.create_server((HOST, 0))
    port = listener.getsockname()[1]
    monkeypatch.setenv("ERLEN_SERVER_FD", str(listener.detach()))
    monkeypatch.delenv("ERLEN_RELOADER_PID", raising=False)
    servers: list[t.Any] = []

    def recording_make_server(*args: t.Any, **kwargs: t.Any) -> t.Any:
        servers.append(make_server(*args, **kwargs))
        return servers[-1]

    monkeypatch.setattr(erlen.serving, "make_server", recording_make_server)
    thread = threading.Thread(
        target=erlen.serving._serve_in_child,
        args=(HOST, 0, _scheme_app(), True),
        kwargs={"ssl_context": pair},
        daemon=True,
    )
    thread.start()
    try:
        body = ""
        for _ in range(100):  # until the thread has made its server
            if servers:
                body = _fetch(f"https://{HOST}:{port}/", cafile=pair[0])
                break
            threading.Event().wait(0.05)
        assert body == f"https https://{HOST}:{port}/"
    finally:
        if servers:
            servers[0].shutdown()
        thread.join(5)
    assert not thread.is_alive()


def test_uvicorn_side_serves_https(monkeypatch: pytest.MonkeyPatch, pair: tuple[str, str]) -> None:
    pytest.importorskip("uvicorn")
    import uvicorn

    started: list[t.Any] = []

    class RecordingServer(uvicorn.Server):
        def __init__(self, config: t.Any) -> None:
            super().__init__(config)
            started.append(self)

    monkeypatch.setattr(uvicorn, "Server", RecordingServer)
    server = make_server(HOST, 0, _scheme_app(), ssl_context=pair)
    port = server.server_address[1]
    thread = threading.Thread(
        target=erlen.serving._serve_uvicorn, args=(server, server.get_app(), None), daemon=True
    )
    thread.start()
    try:
        for _ in range(200):
            if started and started[0].started:
                break
            threading.Event().wait(0.05)
        # The ASGI side reports the scheme from the TLS connection too.
        assert _fetch(f"https://{HOST}:{port}/", cafile=pair[0]) == f"https https://{HOST}:{port}/"
    finally:
        if started:
            started[0].should_exit = True
        thread.join(10)
        server.server_close()
    assert not thread.is_alive()


def test_erlen_run_serves_https(tmp_path: Path, pair: tuple[str, str]) -> None:
    # The whole way: the command line's --cert/--key to a real server process.
    (tmp_path / "app.py").write_text(
        "from erlen import Erlen, request\n"
        "app = Erlen(__name__)\n"
        "@app.route('/')\n"
        "def index():\n"
        "    return request.scheme\n"
    )
    command = [sys.executable, "-m", "erlen", "--app", "app", "run", "--port", "{port}"]
    command += ["--cert", pair[0], "--key", pair[1]]
    with ServerProcess(command, tmp_path, env=clean_env(), lifetime=60) as proc:
        try:
            assert _fetch(f"https://{HOST}:{proc.port}/", cafile=pair[0]) == "https"
        finally:
            proc.stop()
        assert f"Running on https://127.0.0.1:{proc.port}/" in proc.output()
