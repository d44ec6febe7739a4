"""The HTTP server every vendor fake runs on: a threaded ``http.server`` on 127.0.0.1 and a free port.

A fake subclasses ``FakeVendor`` and implements ``handle`` (routing) and ``error_response`` (the vendor's
own error body for an injected fault). The server records every call before answering it, and answers
injected faults before routing, so a test can say "the next two calls get 429 with Retry-After: 7".
"""

from __future__ import annotations

import json
import threading
import traceback
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit


@dataclass(frozen=True)
class RecordedCall:
    """One request as the fake received it."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes

    def header(self, name: str) -> str | None:
        for key, value in self.headers.items():
            if key.lower() == name.lower():
                return value
        return None

    @property
    def json(self) -> Any:
        if not self.body:
            return None
        try:
            return json.loads(self.body)
        except ValueError:
            return None

    @property
    def form(self) -> dict[str, str]:
        content_type = self.header("Content-Type") or ""
        if "application/x-www-form-urlencoded" not in content_type:
            return {}
        return {
            key: values[-1] for key, values in parse_qs(self.body.decode(), keep_blank_values=True).items()
        }

    @property
    def params(self) -> dict[str, Any]:
        """Query string, form body and JSON body merged (the last wins), as Slack reads its arguments."""
        merged: dict[str, Any] = {key: values[-1] for key, values in self.query.items()}
        merged.update(self.form)
        body = self.json
        if isinstance(body, dict):
            merged.update(body)
        return merged


@dataclass(frozen=True)
class FakeResponse:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)

    def encoded(self) -> tuple[bytes, str]:
        if isinstance(self.body, bytes):
            return self.body, "text/html; charset=utf-8"
        if self.body is None:
            return b"", "application/json; charset=utf-8"
        return json.dumps(self.body).encode(), "application/json; charset=utf-8"


@dataclass(frozen=True)
class Fault:
    status: int
    retry_after: str | None = None
    body: Any = None
    path_contains: str | None = None


class _Handler(BaseHTTPRequestHandler):
    server: _FakeHTTPServer

    def _serve(self) -> None:
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        call = RecordedCall(
            method=self.command,
            path=unquote(parts.path),
            query=parse_qs(parts.query, keep_blank_values=True),
            headers=dict(self.headers.items()),
            body=body,
        )
        response = self.server.fake.dispatch(call)
        payload, content_type = response.encoded()
        self.send_response(response.status)
        headers = {"Content-Type": content_type, **response.headers}
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the call log is the record."""


class _FakeHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    fake: FakeVendor


class FakeVendor:
    """Base of the vendor fakes: the server, the call log and fault injection."""

    name = "vendor"

    def __init__(self) -> None:
        self.calls: list[RecordedCall] = []
        self._faults: deque[Fault] = deque()
        self._lock = threading.RLock()
        self._server: _FakeHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- lifecycle ---

    def start(self) -> str:
        server = _FakeHTTPServer(("127.0.0.1", 0), _Handler)
        server.fake = self
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, name=f"fake-{self.name}", daemon=True
        )
        self._thread.start()
        return self.base_url

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    @property
    def base_url(self) -> str:
        assert self._server is not None, "The fake is not started."
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    # --- fault injection and the call log ---

    def fail_next(
        self,
        count: int = 1,
        *,
        status: int,
        retry_after: float | str | None = None,
        body: Any = None,
        path_contains: str | None = None,
    ) -> None:
        """Answer the next ``count`` calls (to paths containing ``path_contains``, if given) with ``status``
        and, if given, a ``Retry-After`` header; the body is the vendor's own for that status unless
        ``body`` is given."""
        fault = Fault(
            status=status,
            retry_after=None if retry_after is None else str(retry_after),
            body=body,
            path_contains=path_contains,
        )
        with self._lock:
            self._faults.extend([fault] * count)

    def calls_to(self, path_fragment: str) -> list[RecordedCall]:
        with self._lock:
            return [call for call in self.calls if path_fragment in call.path]

    def dispatch(self, call: RecordedCall) -> FakeResponse:
        with self._lock:
            self.calls.append(call)
            fault = self._take_fault(call)
            if fault is not None:
                response = self.error_response(fault.status, call)
                body = fault.body if fault.body is not None else response.body
                headers = dict(response.headers)
                if fault.retry_after is not None:
                    headers["Retry-After"] = fault.retry_after
                return FakeResponse(response.status, body, headers)
            try:
                return self.handle(call)
            except Exception:
                return FakeResponse(500, traceback.format_exc().encode())

    def _take_fault(self, call: RecordedCall) -> Fault | None:
        for fault in self._faults:
            if fault.path_contains is None or fault.path_contains in call.path:
                self._faults.remove(fault)
                return fault
        return None

    # --- what a vendor fake provides ---

    def handle(self, call: RecordedCall) -> FakeResponse:
        raise NotImplementedError

    def error_response(self, status: int, call: RecordedCall) -> FakeResponse:
        raise NotImplementedError
