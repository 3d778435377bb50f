"""A stand-in site whose article pages a test chooses: hostile text, legacy encodings, traps.

``HostileSite(pages)`` serves, on 127.0.0.1 and a free port, a home page linking the listing
``/channel/5083/``, which links every path of ``pages``; each path answers its
``tests.badsite.Answer`` (bytes as given: a page in a legacy font encoding stays as it was).
Everything else is a 404 (robots.txt and the sitemap probes included). ``site.hits`` counts
requests by path. Loopback only; the server answers each request once and keeps no loop.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.badsite import LISTING, Answer, article_path

logger = logging.getLogger(__name__)

__all__ = ["LISTING", "Answer", "HostileSite", "article_path"]


class HostileSite:
    """The server: ``with HostileSite({path: Answer}) as site``; ``site.url`` is its base URL."""

    def __init__(self, pages: dict[str, Answer]):
        self.pages = dict(pages)
        self.hits: Counter[str] = Counter()
        self._lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> HostileSite:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def answer(self, path: str) -> Answer:
        """Return the answer to a request for a path (query stripped)."""
        with self._lock:
            self.hits[path] += 1
        if path == "/":
            return Answer(body=f'<html><body><a href="{LISTING}">Chính trị</a></body></html>'
                          .encode())
        if path == LISTING:
            items = "".join(f'<li class="item"><h3 class="title"><a href="{p}">Bài {n}</a>'
                            f"</h3></li>" for n, p in enumerate(self.pages))
            return Answer(body=f'<html><body><ul class="list">{items}</ul></body></html>'
                          .encode())
        return self.pages.get(path) or Answer(status=404, body=b"<html><body>404</body></html>")


def _handler(site: HostileSite) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            answer = site.answer(self.path.split("?", 1)[0])
            try:
                self.send_response(answer.status)
                for name, value in answer.headers:
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(answer.body)))
                self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(answer.body)
            except (BrokenPipeError, ConnectionResetError):
                pass

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            logger.debug("hostile site: " + format, *args)

    return Handler
