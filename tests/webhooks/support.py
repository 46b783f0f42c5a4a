"""A local HTTP receiver for webhook tests: http.server on 127.0.0.1 in a thread.

It records every request (headers, raw body) and answers from a script: a list of statuses
taken in turn (then ``default``), with an optional delay per request."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    at: float

    def json(self) -> dict:
        return json.loads(self.body)

    @property
    def delivery(self) -> str:
        return self.headers["x-orderdesk-delivery"]

    @property
    def event(self) -> str:
        return self.headers["x-orderdesk-event"]


@dataclass
class Receiver:
    url: str = ""
    script: list[int] = field(default_factory=list)
    default: int = 200
    delay: float = 0.0
    delays: list[float] = field(default_factory=list)
    requests: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    server: ThreadingHTTPServer | None = None

    def answer(self) -> tuple[int, float]:
        with self.lock:
            status = self.script.pop(0) if self.script else self.default
            delay = self.delays.pop(0) if self.delays else self.delay
        return status, delay

    def wait_for(self, n: int, timeout: float = 10.0) -> list[Received]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.requests) >= n:
                    return list(self.requests)
            time.sleep(0.02)
        with self.lock:
            raise AssertionError(f"expected {n} requests within {timeout}s, got {len(self.requests)}")

    def of_type(self, type_: str) -> list[Received]:
        with self.lock:
            return [r for r in self.requests if r.event == type_]

    def close(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()


def start_receiver() -> Receiver:
    receiver = Receiver()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as the sender reuses connections
        disable_nagle_algorithm = True  # headers and body leave at once (no 40 ms delayed-ACK stall)

        def do_POST(self):  # noqa: N802 - http.server's naming
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length)
            status, delay = receiver.answer()
            with receiver.lock:
                receiver.requests.append(Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body,
                                                  time.time()))
            if delay:
                time.sleep(delay)
            payload = json.dumps({"ok": 200 <= status < 300}).encode()
            self.send_response(status)
            if 300 <= status < 400:
                self.send_header("Location", receiver.url + "/moved")
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    receiver.server = server
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return receiver
