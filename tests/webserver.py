"""A small web server on 127.0.0.1 for the URL tests: one article page and every way a fetch can fail.

No test reaches beyond this machine. Each path is one case:
    /article            a news page: navigation, the article, a "most read" box, a footer
    /moved              302 -> /article
    /loop/N             302 -> /loop/N+1, forever
    /slow               answers after 3 s
    /drip               sends headers, then one byte every 0.2 s for 4 s
    /big                200 KB of HTML without Content-Length; /big-declared says 30 MB up front
    /report.pdf         application/pdf
    /latin1             text/html; charset=iso-8859-1
    /menu               a page with links only, no article
    /gone               404
    /edited             the article, edited between any two fetches (its Nth fetch says "N years")
"""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ARTICLE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>Ferry returns to the Quell | Kettleford Daily</title>
<meta property="og:title" content="The night ferry returns to the river Quell">
<meta name="author" content="Ada Lindqvist">
<meta property="article:published_time" content="2024-05-02T07:30:00Z">
</head><body>
<div class="topbar"><a href="/">Home</a> · <a href="/news">News</a> · <a href="/sport">Sport</a> ·
<a href="/weather">Weather</a> · <a href="/subscribe">Subscribe for 1 euro</a></div>
<main><article>
<h1>The night ferry returns to the river Quell</h1>
<p class="byline">By Ada Lindqvist</p>
<p>After eleven years without a service, the night ferry between Kettleford and Ardon Mills
will run again from the first of June, the river authority announced on Thursday.</p>
<p>The new boat, named <em>Marta Quell</em>, carries up to 140 passengers and twelve bicycles.
It was built at the Ardon yard and is the first electric ferry on the river; its batteries are
charged at the Kettleford pier from the town's solar field.</p>
<p>Tickets will cost 3.50 euros for adults, and children under twelve travel free. The crossing
takes about twenty-five minutes, and the last boat leaves Kettleford at half past midnight.</p>
<p>The old night ferry stopped in 2013, when its diesel engine failed and the council could not
find the money for a new one. Residents of Ardon Mills collected 9,000 signatures to bring it back.</p>
</article></main>
<div class="most-read"><h3>Most read</h3><ul>
<li><a href="/a">Cat elected honorary harbour master</a></li>
<li><a href="/b">Rain again: the wettest April since 1998</a></li>
<li><a href="/c">Ten things to do this weekend</a></li></ul></div>
<footer>© 2024 Kettleford Daily. All rights reserved. <a href="/privacy">Privacy</a></footer>
</body></html>
"""

MENU = """<!doctype html><html><head><title>Index</title></head><body>
<ul><li><a href="/a">A</a></li><li><a href="/b">B</a></li></ul></body></html>"""


_EDITS = [0]  # fetches of /edited so far
_EDITS_LOCK = threading.Lock()


class _Handler(BaseHTTPRequestHandler):
    def log_message(self, *args) -> None:  # keep test output clean
        pass

    def _send(self, body: bytes, content_type: str = "text/html; charset=utf-8", status: int = 200,
              length: bool = True) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        if length:
            self.send_header("Content-Length", str(len(body)))
        else:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)

    def _redirect(self, to: str) -> None:
        self.send_response(302)
        self.send_header("Location", to)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        path = self.path
        if path == "/article":
            self._send(ARTICLE.encode())
        elif path == "/moved":
            self._redirect("/article")
        elif path.startswith("/loop/"):
            self._redirect(f"/loop/{int(path.rsplit('/', 1)[1]) + 1}")
        elif path == "/slow":
            time.sleep(3)
            self._send(ARTICLE.encode())
        elif path == "/drip":
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.end_headers()
            try:
                for _ in range(20):
                    self.wfile.write(b" ")
                    self.wfile.flush()
                    time.sleep(0.2)
            except OSError:
                pass  # the client gave up, as it should
        elif path == "/big":
            self._send(b"<html><body><p>" + b"word " * 40_000 + b"</p></body></html>", length=False)
        elif path == "/big-declared":
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(30_000_000))
            self.end_headers()
        elif path == "/report.pdf":
            self._send(b"%PDF-1.4\n", content_type="application/pdf")
        elif path == "/latin1":
            self._send(ARTICLE.replace("Ardon Mills", "Ardon Caf\u00e9 Mills").encode("latin-1"),
                       content_type="text/html; charset=iso-8859-1")
        elif path == "/menu":
            self._send(MENU.encode())
        elif path == "/edited":
            with _EDITS_LOCK:
                _EDITS[0] += 1
                n = _EDITS[0]
            # A longer word early in the page moves every later offset, as a real edit does.
            self._send(ARTICLE.replace("eleven years", f"{'very ' * n}many ({n}) years").encode())
        elif path == "/short":  # announces more bytes than it sends, then closes
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", "5000")
            self.end_headers()
            self.wfile.write(ARTICLE.encode()[:900])
            self.close_connection = True
        elif path == "/garbled":  # not HTTP at all
            self.wfile.write(b"HTTP/1.1 abc\r\n\r\n")
            self.close_connection = True
        else:
            self._send(b"<html><body>not here</body></html>", status=404)


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address) -> None:
        # A client that gave up (the timeout tests) leaves a broken pipe behind: expected here.
        pass


class LocalWebServer:
    """`with LocalWebServer() as base:` serves the pages above at `base` (http://127.0.0.1:PORT)."""

    def __enter__(self) -> str:
        self.server = _Server(("127.0.0.1", 0), _Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, name="test-web", daemon=True)
        self.thread.start()
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)
