"""The sandbox over HTTP: a local fake of https://www.onurix.com/api/v1.

Standard library only (``http.server.ThreadingHTTPServer``), HTTP/1.1 with keep-alive.
The API answers and their error codes are in ``onurix_sandbox.api`` (table in its docstring).

Endpoints under ``/api/v1`` (auth by ``client`` and ``key``: form body for POST, query string
for GET):
- ``POST /call/send``: form-urlencoded body, answers ``{"status": "1", "id", "data": [...]}``.
- ``GET /messages-state?id=<dispatch id or call id>``: a list of
  ``{"id", "state", "credits", "phone", "dispatch_id"}``.
- ``GET /balance``: ``{"balance": <number>}``.
- ``POST /block-phone``: ``phone`` and ``channel`` (SMS, CALL, WA, ALL); a phone blocked
  for calls is answered ``Rechazado`` and never charged by later sends.

Those are the ``standard`` dialect's shapes; ``SandboxConfig.dialect`` picks others (see
``onurix_sandbox.api``). ``ip_blocked`` refuses every ``/api/v1`` request that gets past the
520 draw.

Inspection endpoints, without auth, for tests and benchmarks:
- ``GET /_sandbox/calls``: ``{"calls": [{"phone", "dispatch_id", "call_id", "at"}], "count"}``.
- ``POST /_sandbox/reset``: forget calls and dispatches, restore the starting balance.
- ``GET|POST /_sandbox/config``: read, or change any ``SandboxConfig`` field with a JSON body
  (``{"error_520_rate": 1.0}``, ``{"dialect": "phones_plus,states_caps"}``,
  ``{"ip_blocked": true}``). The answer is ``{"config": {...}}`` with ``dialect`` normalised.
  The key is never shown.
- ``GET /_sandbox/blocked``: ``{"blocked": {"<phone>": ["CALL", ...]}}``.
- ``GET /_sandbox/traffic``: ``{"requests": [{"path", "arrived", "finished"}],
  "max_in_flight"}``: every API request's arrival and answer (seconds since the epoch) and
  the most requests in flight at once, to check a client's rate and concurrency.
- ``GET /_sandbox/health``: ``{"ok": true}``.

Faults, drawn per ``/api/v1`` request from a generator seeded with ``seed``:
``error_520_rate`` answers 520 before anything is recorded; ``hang_rate`` records the request
(calls accepted and charged) and answers only after ``hang_seconds``; ``drop_rate`` records it
and closes the connection without any answer.

One log line per request on the ``onurix_sandbox`` logger: method, path with ``key``
redacted, status, phones, milliseconds. Bodies are never logged.
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
import socket
import sys
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from onurix_sandbox.api import ERROR_INTERNAL, ApiError, SandboxState, json_number
from onurix_sandbox.config import SandboxConfig

logger = logging.getLogger("onurix_sandbox")

API_PREFIX = "/api/v1"
MAX_BODY_BYTES = 10 * 1024 * 1024
_KEY_IN_QUERY = re.compile(r"(?<=[?&])key=[^&#]*")

# (method, path) -> handler returning (JSON body, phones involved).
_Route = Callable[[SandboxState, dict[str, list[str]]], tuple[object, int]]
_API_ROUTES: dict[str, tuple[str, _Route]] = {
    "/call/send": ("POST", SandboxState.send),
    "/block-phone": ("POST", SandboxState.block_phone),
    "/messages-state": ("GET", SandboxState.messages_state),
    "/balance": ("GET", lambda state, fields: (state.balance_body(fields), 0)),
}


def redact(text: str, key: str) -> str:
    """`text` with `key=` query values and the literal key replaced by ***."""
    text = _KEY_IN_QUERY.sub("key=***", text)
    return text.replace(key, "***") if key else text


def public_config(config: SandboxConfig) -> dict[str, object]:
    """The config as JSON, without the key."""
    shown: dict[str, object] = {}
    for name, value in vars(config).items():
        if name == "key":
            continue
        shown[name] = json_number(value) if name in ("balance", "credits_per_call") else value
    return shown


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "OnurixSandbox/1.0"
    # Headers and body go out in two writes: without TCP_NODELAY, Nagle plus delayed ACK
    # would add ~40 ms to every keep-alive request.
    disable_nagle_algorithm = True
    timeout = 120  # idle keep-alive connections are closed after this
    server: _SandboxHTTPServer

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_PUT(self) -> None:
        self._handle("PUT")

    def do_DELETE(self) -> None:
        self._handle("DELETE")

    def do_PATCH(self) -> None:
        self._handle("PATCH")

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        """Silenced: _handle logs one redacted line per request instead."""

    def log_message(self, format: str, *args: object) -> None:
        logger.debug("connection %s: %s", self.client_address[0], format % args)

    # -- plumbing --------------------------------------------------------------------------

    def _handle(self, method: str) -> None:
        self._started = time.perf_counter()
        self._method = method
        self._logged = False
        self._phones = 0
        split = urlsplit(self.path)
        try:
            body = self._read_body()
            if body is None:
                return
            if split.path.startswith(API_PREFIX + "/"):
                self._api(method, split.path[len(API_PREFIX) :], split.query, body)
            elif split.path.startswith("/_sandbox/"):
                self._inspection(method, split.path, body)
            else:
                self._send_json(404, {"error": 404, "msg": "Recurso no encontrado"})
        except OSError:  # the client went away (or shutdown() closed the socket)
            self.close_connection = True
            self._log("client-gone")
        finally:
            self._log("no-answer")

    def _log(self, status: int | str) -> None:
        """The request's one log line; written before the answer so that a client that
        got its answer also finds the line logged."""
        if self._logged:
            return
        self._logged = True
        logger.info(
            "%s %s %s phones=%d %.1fms",
            self._method,
            redact(self.path, self.server.state.config.key),
            status,
            self._phones,
            (time.perf_counter() - self._started) * 1000,
        )

    def _read_body(self) -> bytes | None:
        length_text = self.headers.get("Content-Length")
        if self.headers.get("Transfer-Encoding"):
            self.close_connection = True
            self._send_json(411, {"error": 411, "msg": "Se requiere Content-Length"})
            return None
        try:
            length = int(length_text) if length_text else 0
        except ValueError:
            length = -1
        if length < 0 or length > MAX_BODY_BYTES:
            self.close_connection = True
            self._send_json(413, {"error": 413, "msg": "Cuerpo de la solicitud no válido"})
            return None
        return self.rfile.read(length) if length else b""

    def _send_json(self, status: int, payload: object, reason: str | None = None) -> None:
        data = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        self._log(status)
        self.send_response(status, reason)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    # -- /api/v1 ---------------------------------------------------------------------------

    def _api(self, method: str, path: str, query: str, body: bytes) -> None:
        entry = self.server.state.request_began(path.rstrip("/"))
        try:
            self._api_answer(method, path, query, body)
        finally:
            self.server.state.request_ended(entry)

    def _api_answer(self, method: str, path: str, query: str, body: bytes) -> None:
        state, stopping = self.server.state, self.server.stopping
        dialect = state.dialect
        route = _API_ROUTES.get(path.rstrip("/"))
        if route is None:
            self._send_json(404, dialect.error_body(404, "Recurso no encontrado"))
            return
        expected_method, handler = route
        if method != expected_method:
            self._send_json(405, dialect.error_body(405, "Método no permitido"))
            return
        config = state.config
        if config.latency:
            stopping.wait(config.latency)
        if state.draw_fault() < config.error_520_rate:
            self._send_json(
                520, dialect.error_body(ERROR_INTERNAL, "Error interno"), reason="Unknown Error"
            )
            return
        # POST reads credentials from the body only, as Onurix documents: a client that puts
        # the key in a POST's URL is wrong and would leak it to access logs.
        text = body.decode("utf-8", errors="replace") if method == "POST" else query
        fields = parse_qs(text, keep_blank_values=True)
        try:
            payload, self._phones = handler(state, fields)
        except ApiError as error:
            self._send_json(error.status, state.dialect.error_body(error.code, error.msg))
            return
        fault = state.draw_fault()
        if fault < config.hang_rate:
            stopping.wait(config.hang_seconds)
        elif fault < config.hang_rate + config.drop_rate:
            self.close_connection = True
            self._log("dropped")
            return
        self._send_json(200, payload)

    # -- /_sandbox -------------------------------------------------------------------------

    def _inspection(self, method: str, path: str, body: bytes) -> None:
        state = self.server.state
        if path == "/_sandbox/health" and method == "GET":
            self._send_json(200, {"ok": True})
        elif path == "/_sandbox/calls" and method == "GET":
            self._send_json(200, state.calls_summary())
        elif path == "/_sandbox/blocked" and method == "GET":
            self._send_json(200, {"blocked": state.blocked()})
        elif path == "/_sandbox/traffic" and method == "GET":
            self._send_json(200, state.traffic_summary())
        elif path == "/_sandbox/reset" and method == "POST":
            state.reset()
            self._send_json(200, {"ok": True})
        elif path == "/_sandbox/config" and method == "GET":
            self._send_json(200, {"config": public_config(state.config)})
        elif path == "/_sandbox/config" and method == "POST":
            try:
                changes = json.loads(body or b"{}")
                if not isinstance(changes, dict):
                    raise ValueError("the body must be a JSON object")
                config = state.configure(**changes)
            except (ValueError, TypeError) as error:
                self._send_json(400, {"error": 400, "msg": redact(str(error), state.config.key)})
                return
            self._send_json(200, {"config": public_config(config)})
        else:
            self._send_json(404, {"error": 404, "msg": "Recurso no encontrado"})


class _SandboxHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    # Do not wait for hanging or idle keep-alive handlers on close; shutdown() ends them.
    block_on_close = False
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], state: SandboxState) -> None:
        self.state = state
        self.stopping = threading.Event()
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()
        super().__init__(address, _Handler)

    def handle_error(self, request, client_address) -> None:  # type: ignore[no-untyped-def]
        """A client that went away mid-request (a killed worker) is not the sandbox's
        error: a debug line, not a traceback on stderr."""
        if isinstance(sys.exc_info()[1], ConnectionError):
            logger.debug("connection %s: the client went away", client_address[0])
            return
        super().handle_error(request, client_address)

    def process_request(self, request, client_address) -> None:  # type: ignore[no-untyped-def]
        with self._open_lock:
            self._open.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request) -> None:  # type: ignore[no-untyped-def]
        with self._open_lock:
            self._open.discard(request)
        super().shutdown_request(request)

    def close_open_connections(self) -> None:
        with self._open_lock:
            sockets = list(self._open)
        for sock in sockets:
            with contextlib.suppress(OSError):  # already closed by its handler
                sock.shutdown(socket.SHUT_RDWR)


class SandboxServer:
    """A running sandbox. `url` is the API base (…/api/v1), `state` the in-memory account.

    Use as a context manager, or call `shutdown()` (idempotent).
    """

    def __init__(self, httpd: _SandboxHTTPServer, thread: threading.Thread) -> None:
        self._httpd = httpd
        self._thread = thread
        self.host, self.port = httpd.server_address[:2]
        self.root_url = f"http://{self.host}:{self.port}"
        self.url = self.root_url + API_PREFIX
        self.state: SandboxState = httpd.state
        self._closed = False

    @property
    def config(self) -> SandboxConfig:
        return self.state.config

    def shutdown(self) -> None:
        """Stop serving, end hanging and keep-alive connections, wait for the thread."""
        if self._closed:
            return
        self._closed = True
        self._httpd.stopping.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        self._httpd.close_open_connections()
        self._thread.join(timeout=5)

    def __enter__(self) -> SandboxServer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.shutdown()

    def __repr__(self) -> str:
        return f"<SandboxServer {self.url}>"


def start_sandbox(
    config: SandboxConfig | None = None, host: str = "127.0.0.1", port: int = 0
) -> SandboxServer:
    """Start a sandbox in a background thread; port 0 picks a free port.

    Raises OSError when the address cannot be bound.
    """
    httpd = _SandboxHTTPServer((host, port), SandboxState(config or SandboxConfig()))
    thread = threading.Thread(
        target=httpd.serve_forever,
        kwargs={"poll_interval": 0.02},  # shutdown() waits up to one interval
        name=f"onurix-sandbox-{httpd.server_address[1]}",
        daemon=True,
    )
    thread.start()
    return SandboxServer(httpd, thread)
