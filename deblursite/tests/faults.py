"""A store that dies part-way, for tests: an HTTP proxy between boto3 and the S3 server.

It forwards every request until told to die after so many requests of a kind (the 2nd PUT,
the 3rd DELETE): from then on it drops the connection of every request, of any kind,
without an answer, as a store that went away would. boto3's retries of a dropped request
are dropped too. `revive` brings the store back, for what happens after it recovers.
`latency` holds each request back that many seconds, as a store across a network would."""

import http.client
import socket
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlparse

# Headers about this hop, not the request: the proxy sets its own.
HOP_HEADERS = {"connection", "keep-alive", "transfer-encoding", "expect", "proxy-connection"}


class FaultProxy:
    def __init__(self, upstream: str) -> None:
        parts = urlparse(upstream)
        self.upstream = (parts.hostname, parts.port)
        self.lock = threading.Lock()
        self.forwarded: Counter[str] = Counter()
        self.dropped: list[tuple[str, str]] = []
        self._death: tuple[str, int] | None = None
        self.dead = False
        self.latency = 0.0
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.server.daemon_threads = True
        self.server.proxy = self
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> "FaultProxy":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()

    def die_after(self, method: str, count: int) -> None:
        """Forward `count` more requests of this method, then die."""
        with self.lock:
            self._death = (method, self.forwarded[method] + count)

    def revive(self) -> None:
        with self.lock:
            self._death, self.dead = None, False

    def admit(self, method: str, path: str) -> bool:
        with self.lock:
            if self._death and method == self._death[0] and self.forwarded[method] >= self._death[1]:
                self.dead = True
            if self.dead:
                self.dropped.append((method, path))
                return False
            self.forwarded[method] += 1
            return True


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as boto3 uses it, and 100-continue

    def log_message(self, format, *args) -> None:
        pass

    def _body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while size := int(self.rfile.readline().split(b";")[0], 16):
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            while self.rfile.readline() not in (b"\r\n", b"\n", b""):  # trailers
                pass
            return b"".join(chunks)
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def _relay(self) -> None:
        body = self._body()
        if not self.server.proxy.admit(self.command, self.path):
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        time.sleep(self.server.proxy.latency)
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_HEADERS}
        headers["Content-Length"] = str(len(body))
        upstream = http.client.HTTPConnection(*self.server.proxy.upstream, timeout=30)
        try:
            upstream.request(self.command, self.path, body=body, headers=headers)
            response = upstream.getresponse()
            content = response.read()
        finally:
            upstream.close()
        self.send_response_only(response.status, response.reason)
        for key, value in response.getheaders():
            if key.lower() not in HOP_HEADERS and key.lower() != "content-length":
                self.send_header(key, value)
        length = response.getheader("Content-Length") if self.command == "HEAD" else str(len(content))
        self.send_header("Content-Length", length or "0")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(content)

    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _relay
