"""How a real `python app.py` treats its connections: a client that leaves mid-upload is one log line, not a
traceback, and a client too slow to send its request is cut off (webapp/connections.py).

The app here runs with GLASSES_SLOW_CLIENT_TIMEOUT_S=2, so that a slow connection is closed in 2 s, not 30.
"""
from __future__ import annotations

import io
import re
import socket
import time

import pytest
from PIL import Image

from tests.app_server import running_app
from webapp.connections import BODY_IDLE_TIMEOUT_S, HEADER_TIMEOUT_S, TIMEOUT_ENV, slow_client_timeouts

pytestmark = pytest.mark.slow   # an app of its own, and connections left to time out
TIMEOUT = 2
# How much later than TIMEOUT the server may close a slow connection: scheduling on a busy 2-core machine.
MARGIN = 3


@pytest.fixture(scope="module")
def app():
    with running_app(env={TIMEOUT_ENV: str(TIMEOUT)}) as app:
        yield app


def connect(app) -> socket.socket:
    host, port = app.url.removeprefix("http://").split(":")
    return socket.create_connection((host, int(port)), timeout=TIMEOUT + MARGIN + 5)


def upload_head(path: str, declared: int) -> bytes:
    """A multipart upload's request headers and the start of its body, declaring `declared` bytes of body."""
    return (f"POST {path} HTTP/1.1\r\nHost: test\r\nContent-Type: multipart/form-data; boundary=b\r\n"
            f"Content-Length: {declared}\r\n\r\n--b\r\n"
            'Content-Disposition: form-data; name="image"; filename="a.jpg"\r\n'
            "Content-Type: image/jpeg\r\n\r\n").encode() + b"\xff\xd8" + bytes(1000)


def seconds_until_closed(sock: socket.socket, keep_sending: bytes = b"") -> float:
    """How long until the server closes `sock` (EOF or a reset), sending it `keep_sending` meanwhile, a byte
    every quarter of a second (a trickle, as slowloris sends)."""
    started = time.perf_counter()
    sock.settimeout(0.25)
    for byte in keep_sending:
        try:
            sock.sendall(bytes([byte]))
            if sock.recv(1000) == b"":
                return time.perf_counter() - started
        except TimeoutError:
            continue
        except (BrokenPipeError, ConnectionResetError):
            return time.perf_counter() - started
    sock.settimeout(TIMEOUT + MARGIN + 5)
    try:
        assert sock.recv(1000) == b""
    except ConnectionResetError:
        pass
    return time.perf_counter() - started


def new_log(app, since: int, wait_for: str, seconds: float = 10) -> str:
    """The app's log after offset `since`, once `wait_for` is in it (or `seconds` have passed), plus a moment
    for any line that would follow."""
    deadline = time.perf_counter() + seconds
    while wait_for not in app.server_log()[since:] and time.perf_counter() < deadline:
        time.sleep(0.1)
    time.sleep(0.5)
    return app.server_log()[since:]


@pytest.mark.parametrize("path", ["/api/classify", "/gradio_api/upload"])
def test_a_client_leaving_mid_upload_is_one_log_line(app, path):
    since = len(app.server_log())
    with connect(app) as sock:
        sock.sendall(upload_head(path, 100_000))   # 100 kB declared, 1 kB sent
        time.sleep(0.5)
    logged = new_log(app, since, f'"POST {path} HTTP/1.1"')
    assert "Traceback" not in logged, logged
    [line] = logged.splitlines()
    assert re.fullmatch(rf'INFO: +127\.0\.0\.1:\d+ - "POST {path} HTTP/1\.1" connection closed before the request '
                        r"was read", line), logged


def test_request_headers_trickled_in_are_cut_off(app):
    since = len(app.server_log())
    with connect(app) as sock:
        seconds = seconds_until_closed(sock, b"GET /api/health HTTP/1.1\r\nHost: test\r\nX-Slow: " + b"a" * 100)
    assert TIMEOUT - 0.5 < seconds < TIMEOUT + MARGIN
    assert f"closed the connection: no complete request headers within {TIMEOUT} s" in \
        new_log(app, since, "closed the connection")


def test_a_connection_that_sends_nothing_is_closed_without_a_log_line(app):
    since = len(app.server_log())
    with connect(app) as sock:
        seconds = seconds_until_closed(sock)
    assert TIMEOUT - 0.5 < seconds < TIMEOUT + MARGIN
    assert new_log(app, since, "closed", seconds=1) == ""


@pytest.mark.parametrize("path", ["/api/classify", "/gradio_api/upload"])
def test_a_body_that_stops_coming_is_cut_off(app, path):
    since = len(app.server_log())
    with connect(app) as sock:
        sock.sendall(upload_head(path, 100_000))
        seconds = seconds_until_closed(sock)
    assert TIMEOUT - 0.5 < seconds < TIMEOUT + MARGIN
    logged = new_log(app, since, "connection closed before the request was read")
    assert f'"POST {path}" closed the connection: no request body for {TIMEOUT} s' in logged
    assert "Traceback" not in logged


def test_a_slow_but_steady_upload_is_served(app):
    """The body limit is on silence, not on the whole upload: a body sent over twice the timeout, a piece a
    second, is read to its end and answered."""
    out = io.BytesIO()
    Image.new("RGB", (64, 48), 128).save(out, "PNG")
    photo = out.getvalue()
    head, tail = (b'--b\r\nContent-Disposition: form-data; name="image"; filename="plain.png"\r\n'
                  b"Content-Type: image/png\r\n\r\n"), b"\r\n--b--\r\n"
    body = head + photo + tail
    size = len(body) // 5 + 1
    pieces = [body[i:i + size] for i in range(0, len(body), size)]
    started = time.perf_counter()
    with connect(app) as sock:
        sock.sendall(b"POST /api/classify HTTP/1.1\r\nHost: test\r\nConnection: close\r\n"
                     b"Content-Type: multipart/form-data; boundary=b\r\n"
                     b"Content-Length: %d\r\n\r\n" % len(body))
        for piece in pieces:
            time.sleep(TIMEOUT / 2)
            sock.sendall(piece)
        reply = b""
        while chunk := sock.recv(65536):
            reply += chunk
    assert time.perf_counter() - started > TIMEOUT * 2
    assert reply.startswith(b"HTTP/1.1 200") and reply.endswith(
        b'{"schema":"glasses.prediction.v1","name":"plain.png","width":64,"height":48,"faces":[],"error":null}'), reply


def test_the_timeouts_are_30_s_unless_the_environment_says(monkeypatch):
    monkeypatch.delenv(TIMEOUT_ENV, raising=False)
    assert slow_client_timeouts() == (HEADER_TIMEOUT_S, BODY_IDLE_TIMEOUT_S) == (30, 30)
    monkeypatch.setenv(TIMEOUT_ENV, "2.5")
    assert slow_client_timeouts() == (2.5, 2.5)
    for wrong in ["", "abc", "0", "-1", "inf", "nan"]:
        monkeypatch.setenv(TIMEOUT_ENV, wrong)
        with pytest.raises(ValueError, match=f"{TIMEOUT_ENV} must be a positive number of seconds"):
            slow_client_timeouts()
