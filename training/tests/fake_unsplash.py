"""A fake Unsplash on loopback, for the client's tests: never the network.

It answers what training.ingestion.unsplash asks for, the way api.unsplash.com does:

- GET /search/photos?query=&page=&per_page=  JSON pages of results (per_page capped at 30)
- GET /photos/<id>/download                  the download tracking that Unsplash requires
- GET /images/<id>.jpg                       the image files (the CDN: no key, not counted)

API requests (search and download tracking) need `Authorization: Client-ID <key>`,
count against `limit` per hour and carry X-Ratelimit-Limit / X-Ratelimit-Remaining;
past the limit the answer is 403 "Rate Limit Exceeded", as Unsplash's. Failures can
be scripted per path prefix (`fail_next`), and every request is recorded (`requests`)
for the tests to look at."""

import functools
import io
import json
import math
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

import numpy as np
from PIL import Image, ImageDraw

ACCESS_KEY = "test-access-key"
MAX_PER_PAGE = 30


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]  # names in lower case

    @property
    def is_api(self) -> bool:
        return not self.path.startswith("/images/")


@dataclass
class Answer:
    status: int
    body: bytes
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)


@functools.lru_cache(maxsize=None)
def photo_jpeg(index: int, size: tuple[int, int] = (400, 300)) -> bytes:
    """A real JPEG that looks like nothing else this makes: smooth random colour fields
    (low-frequency noise, which is what perceptual hashes see) with random shapes on top."""
    rng = np.random.default_rng(1000 + index)
    width, height = size
    coarse = rng.integers(0, 256, (6, 8, 3), dtype=np.uint8)
    image = Image.fromarray(coarse).resize(size, Image.Resampling.BICUBIC)
    draw = ImageDraw.Draw(image)
    for _ in range(6):
        x0, y0 = int(rng.integers(0, width - 40)), int(rng.integers(0, height - 40))
        x1, y1 = x0 + int(rng.integers(20, 160)), y0 + int(rng.integers(20, 120))
        colour = tuple(int(c) for c in rng.integers(0, 256, 3))
        (draw.ellipse if rng.random() < 0.5 else draw.rectangle)((x0, y0, x1, y1), fill=colour)
    texture = rng.integers(-12, 13, (height, width, 3))
    pixels = np.clip(np.asarray(image).astype(int) + texture, 0, 255).astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


class FakeUnsplash:
    def __init__(self, photo_count: int = 75, limit: int = 1000, access_key: str = ACCESS_KEY) -> None:
        self.photo_count = photo_count
        self.limit = limit  # API requests per hour
        self.used = 0
        self.access_key = access_key
        self.requests: list[Recorded] = []
        # Photo id -> HTTP status its image is answered with instead of the file.
        self.broken_images: dict[str, int] = {}
        # When set, every API answer says this many requests are left (what the real
        # counter says when other clients share the key).
        self.remaining_override: int | None = None
        self._scripted: list[tuple[str, Answer]] = []
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # Running

    def start(self) -> "FakeUnsplash":
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body in one write, sent at once (no Nagle wait for the client's ACK).
            wbufsize = 1 << 16
            disable_nagle_algorithm = True

            def do_GET(self) -> None:  # noqa: N802
                answer = fake.answer(self)
                self.send_response(answer.status)
                self.send_header("Content-Type", answer.content_type)
                self.send_header("Content-Length", str(len(answer.body)))
                for name, value in answer.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(answer.body)

            def log_message(self, *args) -> None:
                pass

        class Server(ThreadingHTTPServer):
            daemon_threads = True

            def handle_error(self, request, client_address) -> None:
                pass  # a client that hangs up early (a download cut at the size limit) is no news

        self._server = Server(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    # Scripting and inspection

    def fail_next(self, path_prefix: str, status: int, body: str | dict = "", times: int = 1) -> None:
        """Answer the next `times` requests whose path starts with path_prefix with this instead."""
        if isinstance(body, dict):
            answer = Answer(status, json.dumps(body).encode())
        else:
            answer = Answer(status, body.encode(), content_type="text/plain")
        with self._lock:
            self._scripted += [(path_prefix, answer)] * times

    def api_requests(self) -> list[Recorded]:
        return [r for r in self.requests if r.is_api]

    def searches(self) -> list[Recorded]:
        return [r for r in self.requests if r.path == "/search/photos"]

    def tracked(self) -> list[str]:
        """The ids of the photos whose download_location was called."""
        return [r.path.split("/")[2] for r in self.requests if r.path.endswith("/download")]

    def photo_id(self, index: int) -> str:
        return f"photo-{index:03d}"

    def image(self, index: int) -> bytes:
        return photo_jpeg(index)

    def photo_json(self, index: int) -> dict:
        photo_id = self.photo_id(index)
        image = f"{self.url}/images/{photo_id}.jpg"
        return {
            "id": photo_id,
            "width": 400,
            "height": 300,
            "alt_description": f"test photo {index}",
            "urls": {
                "raw": f"{image}?ixid=abc",
                "full": f"{image}?ixid=abc&q=85",
                "regular": f"{image}?ixid=abc&w=1080",
                "small": f"{image}?ixid=abc&w=400",
            },
            "links": {
                "self": f"{self.url}/photos/{photo_id}",
                "html": f"https://unsplash.com/photos/{photo_id}",
                "download": f"https://unsplash.com/photos/{photo_id}/download",
                "download_location": f"{self.url}/photos/{photo_id}/download?ixid=abc",
            },
            "user": {
                "id": f"user-{index}",
                "username": f"snapper{index}",
                "name": f"Ann Snapper {index}",
                "links": {"html": f"https://unsplash.com/@snapper{index}"},
            },
        }

    # Answering

    def answer(self, handler: BaseHTTPRequestHandler) -> Answer:
        parts = urlsplit(handler.path)
        recorded = Recorded(
            handler.command,
            parts.path,
            dict(parse_qsl(parts.query)),
            {name.lower(): value for name, value in handler.headers.items()},
        )
        with self._lock:
            self.requests.append(recorded)
            scripted = None
            for position, (prefix, answer) in enumerate(self._scripted):
                if parts.path.startswith(prefix):
                    scripted = answer
                    del self._scripted[position]
                    break
        if recorded.is_api:
            return self._api(recorded, scripted)
        if scripted is not None:
            return scripted
        return self._image(recorded)

    def _api(self, request: Recorded, scripted: Answer | None) -> Answer:
        with self._lock:
            self.used += 1
            remaining = max(self.limit - self.used, 0)
            over = self.used > self.limit
        if self.remaining_override is not None:
            remaining = self.remaining_override
        headers = {"X-Ratelimit-Limit": str(self.limit), "X-Ratelimit-Remaining": str(remaining)}
        if scripted is not None:
            return Answer(scripted.status, scripted.body, scripted.content_type, headers)
        if request.headers.get("authorization") != f"Client-ID {self.access_key}":
            return Answer(401, json.dumps({"errors": ["OAuth error: The access token is invalid"]}).encode())
        if over:
            return Answer(403, b"Rate Limit Exceeded", "text/plain", headers)
        if request.path == "/search/photos":
            return Answer(200, json.dumps(self._search(request.query)).encode(), headers=headers)
        pieces = request.path.split("/")
        if len(pieces) == 4 and pieces[1] == "photos" and pieces[3] == "download":
            body = {"url": f"{self.url}/images/{pieces[2]}.jpg?ixid=abc"}
            return Answer(200, json.dumps(body).encode(), headers=headers)
        return Answer(404, json.dumps({"errors": ["Couldn't find Photo"]}).encode(), headers=headers)

    def _search(self, query: dict[str, str]) -> dict:
        page = int(query.get("page", 1))
        per_page = min(int(query.get("per_page", 10)), MAX_PER_PAGE)
        start = (page - 1) * per_page
        indexes = range(start, min(start + per_page, self.photo_count))
        return {
            "total": self.photo_count,
            "total_pages": math.ceil(self.photo_count / per_page),
            "results": [self.photo_json(i) for i in indexes],
        }

    def _image(self, request: Recorded) -> Answer:
        name = request.path.removeprefix("/images/").removesuffix(".jpg")
        if name in self.broken_images:
            return Answer(self.broken_images[name], b"gone", "text/plain")
        try:
            index = int(name.removeprefix("photo-"))
        except ValueError:
            return Answer(404, b"no such image", "text/plain")
        if not 0 <= index < self.photo_count:
            return Answer(404, b"no such image", "text/plain")
        return Answer(200, self.image(index), "image/jpeg")
