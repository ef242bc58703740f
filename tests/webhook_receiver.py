"""A results-webhook receiver for tests: a real `http.server` in a thread that keeps every
POST (its headers and exact body) and answers each with the next of the answers it was
given (status code, and seconds to wait first), then 200 at once; and how a receiver
checks AdForge's signature, written out here from the README, not imported."""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Post:
    headers: dict[str, str]
    body: bytes

    def document(self) -> dict[str, Any]:
        return json.loads(self.body)


class ResultsReceiver:
    """POSTs land in `posts`; `answers` [(status, delay_s), ...] are used up in turn."""

    def __init__(self, answers: list[tuple[int, float]] | None = None) -> None:
        self.posts: list[Post] = []
        self.answers = list(answers or [])
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                status, delay_s = receiver.answers.pop(0) if receiver.answers else (200, 0.0)
                time.sleep(delay_s)
                receiver.posts.append(Post(dict(self.headers.items()), body))
                self.send_response(status)
                self.end_headers()
                self.wfile.write(b"ok" if status < 300 else b"receiver says no")

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/adforge?token=t0k"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self) -> ResultsReceiver:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def closed_port_url() -> str:
    """A loopback URL where nothing listens: every attempt is a refused connection."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/hooks/adforge"


def signature_is_valid(post: Post, secret: str, max_age_s: int = 300) -> bool:
    """A receiver's check: HMAC-SHA256 of b"<timestamp>." + body, and a fresh timestamp."""
    timestamp = post.headers["X-AdForge-Timestamp"]
    expected = "sha256=" + hmac.new(secret.encode(), timestamp.encode() + b"." + post.body,
                                    hashlib.sha256).hexdigest()
    fresh = abs(time.time() - int(timestamp)) <= max_age_s
    return fresh and hmac.compare_digest(expected, post.headers["X-AdForge-Signature"])
