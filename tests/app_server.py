"""Start `python app.py` on a free loopback port, as a user would, and wait until GET /api/health is 200.

Used by the REST and browser tests (one server per test session) and by bench/app_start.py and bench/load.py;
`call_gradio` calls one of its Gradio endpoints over HTTP.
"""
from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

REPO = Path(__file__).resolve().parents[1]
# Far above the ~20 s it takes on a busy 2-core machine: a limit for a hung start, not a speed check.
STARTUP_TIMEOUT = 180


@dataclass(frozen=True)
class RunningApp:
    url: str
    startup_seconds: float         # from starting the process to the first 200 of /api/health
    server_log: Callable[[], str]  # what the app has printed so far (stdout and stderr)
    pid: int                       # the app's process, e.g. for bench/load.py to read its memory


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def running_app(*args: str, env: dict[str, str] | None = None) -> Iterator[RunningApp]:
    """`args`: more flags for app.py (e.g. --manifest for the Relabel tab); `env`: variables to set for it on
    top of this process's own."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryFile("w+") as log:
        started = time.perf_counter()
        process = subprocess.Popen([sys.executable, "app.py", "--host", "127.0.0.1", "--port", str(port), *args],
                                   cwd=REPO, stdout=log, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})})
        try:
            _wait_for_health(url, process, log, started + STARTUP_TIMEOUT)
            yield RunningApp(url, time.perf_counter() - started, lambda: _read_all(log), process.pid)
        finally:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _wait_for_health(url: str, process: subprocess.Popen, log, deadline: float) -> None:
    while time.perf_counter() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"app.py exited with status {process.returncode}:\n{_tail(log)}")
        try:
            with urllib.request.urlopen(f"{url}/api/health", timeout=5) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.1)
    raise RuntimeError(f"app.py did not answer {url}/api/health in time:\n{_tail(log)}")


def _read_all(log) -> str:
    """The log so far, read without moving the file offset the running app writes at."""
    return os.pread(log.fileno(), os.fstat(log.fileno()).st_size, 0).decode(errors="replace")


def _tail(log, chars: int = 3000) -> str:
    log.seek(0)
    return log.read()[-chars:]


def call_gradio(app, endpoint: str, data: list) -> tuple[str, str]:
    """Gradio's own HTTP API, without gradio_client (which uploads files first): (last event, its data)."""
    request = urllib.request.Request(f"{app.url}/gradio_api/call/{endpoint}", json.dumps({"data": data}).encode(),
                                     {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as response:
        event_id = json.load(response)["event_id"]
    with urllib.request.urlopen(f"{app.url}/gradio_api/call/{endpoint}/{event_id}", timeout=120) as response:
        lines = response.read().decode().splitlines()
    events = [line.removeprefix("event: ") for line in lines if line.startswith("event: ")]
    payloads = [line.removeprefix("data: ") for line in lines if line.startswith("data: ")]
    return events[-1], payloads[-1]
