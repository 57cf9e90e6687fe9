"""How the server treats its connections: a slow client is cut off, one that leaves mid-request logs one line.

uvicorn closes a keep-alive connection left idle after a response (its timeout_keep_alive), but sets no limit
on how long a client may take to send a request: a connection that trickles its headers (slowloris) or stops
halfway through its body is held for as long as the client likes, and enough of them use up the server's
sockets and memory. `slow_client_protocol` is uvicorn's h11 protocol with two limits added:

- the request headers must be complete within `header_timeout` seconds of the connection opening, or of the
  previous response on a keep-alive connection (a total, not an idle time: a byte now and then does not reset it;
  a keep-alive connection that sends nothing at all is closed sooner, by uvicorn's 5 s timeout_keep_alive);
- while a request body is being received, the client may be silent for at most `body_idle_timeout` seconds.
  The clock only runs while the server is reading: a request waiting for its turn (the server has stopped
  reading its body, and TCP holds the client back) or for a `100 Continue` is not the client's delay.

A connection over either limit is closed, with one log line saying which (none for a connection that sent
nothing at all).

`LogClientDisconnects` is an ASGI middleware for the other end of it: a client that goes away before its
request is read (a closed browser tab mid-upload, a connection closed for being slow) makes Starlette raise
ClientDisconnect in whichever route was reading, the REST route or Gradio's upload route; uvicorn would log
that as an error with its full traceback. Nothing can be answered to a client that is gone, so it is one line.
"""
from __future__ import annotations

import asyncio
import logging
import os

import h11
from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Receive, Scope, Send
from uvicorn.protocols.http.flow_control import FlowControl
from uvicorn.protocols.http.h11_impl import H11Protocol

# Request headers are a few hundred bytes to a few kilobytes: any live client sends them in well under a second.
# 30 s leaves room for a mobile link stalled by retransmissions, and still frees a slowloris' socket in half a
# minute rather than never (nginx allows 60 s, Apache's mod_reqtimeout 20 to 40 s).
HEADER_TIMEOUT_S = 30.0
# A live upload, however slow its link, delivers some data every few seconds; 30 s of silence means the client
# has stalled or gone (nginx's client_body_timeout is 60 s between two reads).
BODY_IDLE_TIMEOUT_S = 30.0
# Both limits at once, in seconds, e.g. 2 for tests that watch a slow connection being closed.
TIMEOUT_ENV = "GLASSES_SLOW_CLIENT_TIMEOUT_S"

log = logging.getLogger("uvicorn.error")   # the server's own log, where uvicorn reports its connections


def slow_client_timeouts() -> tuple[float, float]:
    """(header_timeout, body_idle_timeout): the constants above, or both the seconds $GLASSES_SLOW_CLIENT_TIMEOUT_S
    gives. A value that is not a positive number raises ValueError naming the variable."""
    text = os.environ.get(TIMEOUT_ENV)
    if text is None:
        return HEADER_TIMEOUT_S, BODY_IDLE_TIMEOUT_S
    try:
        seconds = float(text)
    except ValueError:
        seconds = 0.0
    if not 0 < seconds < float("inf"):
        raise ValueError(f"{TIMEOUT_ENV} must be a positive number of seconds, got {text!r}")
    return seconds, seconds


def slow_client_protocol(header_timeout: float, body_idle_timeout: float) -> type[H11Protocol]:
    """uvicorn's h11 protocol closing a connection that is too slow to send its request, for `http=` of
    uvicorn.run."""
    return type("SlowClientH11Protocol", (_SlowClientH11Protocol,),
                {"header_timeout": header_timeout, "body_idle_timeout": body_idle_timeout})


class _SlowClientH11Protocol(H11Protocol):
    """After every event that may change what the connection waits for (data in, a response done, reading
    resumed), `_watch` arms the one timer that fits: headers (a deadline), body (an idle time), or none while
    the request is complete and the app is answering it."""

    header_timeout: float
    body_idle_timeout: float

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._timer: asyncio.TimerHandle | None = None
        self._waiting_for: str | None = None   # "headers", "body" or None: what the timer is for
        self._upgraded = False                 # the connection became a WebSocket's

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self.flow = _FlowControl(transport, self._watch)   # before any request cycle takes it
        self._watch()

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_timer()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        self._watch()

    def on_response_complete(self) -> None:
        super().on_response_complete()   # may start on a pipelined request already received
        self._watch()

    def handle_websocket_upgrade(self, event: h11.Request) -> None:
        """The connection becomes a WebSocket's, whose protocol takes the transport: this one's timers stop
        here, or the body timer h11 left running would close a healthy WebSocket after its seconds."""
        self._stop_timer()
        self._upgraded = True
        super().handle_websocket_upgrade(event)

    def _watch(self) -> None:
        if self._upgraded:
            return
        state = self.conn.their_state
        if self.transport.is_closing() or state not in (h11.IDLE, h11.SEND_BODY):
            self._stop_timer()   # the request is complete (the app is answering it) or the connection done
        elif state is h11.IDLE:
            if self._waiting_for != "headers":   # a deadline: it runs from when the server began waiting
                self._start_timer("headers")
        else:   # an idle time: it starts again with every piece of the body, and when the server reads again
            self._start_timer("body")

    def _start_timer(self, waiting_for: str) -> None:
        self._stop_timer()
        self._waiting_for = waiting_for
        delay = self.header_timeout if waiting_for == "headers" else self.body_idle_timeout
        self._timer = self.loop.call_later(delay, self._timed_out)

    def _stop_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._timer, self._waiting_for = None, None

    def _timed_out(self) -> None:
        waiting_for, self._timer = self._waiting_for, None
        if self.transport.is_closing():
            return
        if waiting_for == "body" and (self.flow.read_paused or (self.cycle and self.cycle.waiting_for_100_continue)):
            # The server is not reading (the request waits its turn) or has not yet asked for the body: the
            # client is not the one being slow.
            self._start_timer(waiting_for)
            return
        client = _client(self.client)
        if waiting_for == "headers":
            # A connection that has sent nothing is closed without a word, as uvicorn closes one left idle
            # after a response: browsers open connections ahead of need and leave some unused.
            if self.conn.trailing_data[0]:
                log.info("%s - closed the connection: no complete request headers within %g s", client,
                         self.header_timeout)
        else:
            log.info('%s - "%s %s" closed the connection: no request body for %g s', client,
                     self.scope["method"], self.scope["path"], self.body_idle_timeout)
        self.transport.close()


class _FlowControl(FlowControl):
    """uvicorn's flow control, telling the protocol when it reads from the client again."""

    def __init__(self, transport: asyncio.Transport, on_resume) -> None:
        super().__init__(transport)
        self._on_resume = on_resume

    def resume_reading(self) -> None:
        paused = self.read_paused
        super().resume_reading()
        if paused:
            self._on_resume()


class LogClientDisconnects:
    """ASGI middleware: a client gone before its request was read is one line in the log, not a traceback."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await self.app(scope, receive, send)
        except ClientDisconnect:
            self._log(scope)
        except BaseExceptionGroup as group:   # raised from a task group, e.g. by Starlette's BaseHTTPMiddleware
            if group.split(ClientDisconnect)[1] is not None:
                raise
            self._log(scope)

    @staticmethod
    def _log(scope: Scope) -> None:
        client = _client(scope.get("client"))
        log.info('%s - "%s %s HTTP/%s" connection closed before the request was read', client, scope["method"],
                 scope["path"], scope["http_version"])


def _client(address) -> str:
    """host:port of a client for the log, as uvicorn writes it."""
    return "%s:%d" % tuple(address) if address else "a client"
