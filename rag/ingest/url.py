"""Web pages by URL: a bounded fetch, the page stored as a file, its main text by trafilatura.

`fetch_page(url, folder, limits)` downloads one page and stores it in `folder` (the index's
`fetched/`) as NAME.html with a sidecar NAME.meta.json = {"source_url": url, "reader": "web"}.
That stored HTML is the page's raw source: citations index into it and are checked against it
like any local .html file, so they stay checkable after the live page changes or disappears.
NAME is the host and path made file-safe plus a hash of the URL, so fetching the same URL again
replaces the same document (its id is NAME.html) and two URLs never collide.

The fetch is bounded: http(s) only, at most `max_redirects` redirects, a text/html or
application/xhtml+xml content type, at most `max_bytes` (checked on Content-Length and while
reading) and `timeout_s` for the whole exchange, not only per socket read. No compression is
asked for, so what is read is what is stored. Anything else is one InputError naming the URL;
nothing is written then. The page is decoded with its declared charset (HTTP header, then
<meta charset>), else UTF-8, else Windows-1252 as browsers do, and stored as UTF-8.

Reading (`WebPageReader`, chosen through the sidecar's "reader"): trafilatura decides which
text is the article (not a hand-written boilerplate stripper) and supplies the title, author
and date from the page's metadata. trafilatura returns text without positions, so its words are
aligned (difflib) to the page's visible text as our offset-keeping HTML extractor
(`html.extract_html`) reads it; each run of at least `MIN_RUN_WORDS` aligned words becomes a
region, and regions are cleaned separately, so a sentence never spans text that trafilatura left
out (which the checker could not excuse).
"""

from __future__ import annotations

import hashlib
import http.client
import ipaddress
import socket
import json
import os
import re
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from difflib import SequenceMatcher
from email.message import Message
from functools import lru_cache
from pathlib import Path
from typing import Any

from rag.errors import InputError
from rag.ingest.base import Extracted, decode_utf8, read_sidecar
from rag.ingest.clean import clean_paragraphs
from rag.ingest.html import extract_html
from rag.ingest.mapped import MappedBuilder, MappedText
from rag.inputs import size_text

HTML_TYPES = ("text/html", "application/xhtml+xml")
MIN_RUN_WORDS = 3
USER_AGENT = "rag-ingest/0.1 (+one page per request; article text for question answering)"
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([\w.:-]+)""", re.IGNORECASE)


@dataclass(frozen=True)
class FetchLimits:
    timeout_s: float = 15.0
    max_bytes: int = 20_000_000
    max_redirects: int = 5
    # False: refuse hosts that resolve to loopback, private, link-local or reserved addresses, at
    # every redirect. Pages fetched for remote users (the chat, the HTTP API) must not reach the
    # server's own network (an intranet page, a cloud metadata endpoint). The check resolves the
    # name once before connecting; a DNS answer that changes in between is not caught.
    allow_private: bool = True

    def __post_init__(self) -> None:
        if not self.timeout_s > 0:
            raise InputError(f"the URL timeout must be a positive number of seconds. Currently, timeout_s={self.timeout_s}")


@dataclass(frozen=True)
class Page:
    url: str  # as asked for
    final_url: str  # after redirects
    body: bytes
    charset: str | None  # from the Content-Type header


def is_url(text: str | os.PathLike) -> bool:
    return isinstance(text, str) and text.lower().startswith(("http://", "https://"))


def check_url(url: str) -> str:
    """The URL without its fragment; InputError unless it is an absolute http(s) URL with a host."""
    try:
        parts = urllib.parse.urlsplit(url.strip())  # ValueError: "http://[::1"
        _ = parts.port  # parsed on use: ValueError for ":99999"
    except ValueError as e:
        raise InputError(f"{url}: not a web address ({e})") from None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise InputError(f"{url}: not a web address (use http:// or https:// and a host name)")
    return urllib.parse.urlunsplit(parts._replace(fragment=""))


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """Redirects come back as HTTPError, so `fetch` follows them itself and counts them."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):  # noqa: D401 - urllib's signature
        return None


_OPENER = urllib.request.build_opener(_NoRedirects)


def fetch(url: str, limits: FetchLimits) -> Page:
    """The page at `url` within `limits`; InputError naming the URL and what went wrong."""
    first = url = check_url(url)
    deadline = time.monotonic() + limits.timeout_s
    for _ in range(limits.max_redirects + 1):
        left = deadline - time.monotonic()
        if left <= 0:
            raise InputError(f"{first}: no complete answer within {limits.timeout_s:g} s (RAG_URL_TIMEOUT)")
        if not limits.allow_private:
            check_public(first, url)
        request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT, "Accept": ", ".join(HTML_TYPES),
                                                       "Accept-Encoding": "identity"})
        try:
            response = _OPENER.open(request, timeout=left)
        except urllib.error.HTTPError as e:
            location = e.headers.get("Location") if e.code in (301, 302, 303, 307, 308) else None
            e.close()
            if location:
                url = check_url(urllib.parse.urljoin(url, location))
                continue
            raise InputError(f"{first}: the server answered HTTP {e.code} {e.reason}") from None
        except (TimeoutError, OSError, urllib.error.URLError, ValueError, http.client.HTTPException) as e:
            # HTTPException: a malformed answer ("HTTP/1.1 abc" is BadStatusLine), not an OSError.
            raise InputError(f"{first}: {_network_problem(e, limits)}") from None
        with response:
            return _read(first, url, response, limits, deadline)
    raise InputError(f"{first}: more than {limits.max_redirects} redirects; giving up")


def check_public(first: str, url: str) -> None:
    """InputError when `url`'s host resolves to an address that is not public."""
    host = urllib.parse.urlsplit(url).hostname or ""
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(host, None)}
    except (OSError, UnicodeError) as e:
        raise InputError(f"{first}: cannot resolve {host}: {e}") from None
    for address in addresses:
        ip = ipaddress.ip_address(address.split("%")[0])
        if not ip.is_global:
            raise InputError(f"{first}: {host} is a private or local address ({ip}); this server fetches public "
                             "web pages only (RAG_URL_ALLOW_PRIVATE=1 lifts that)")


def _network_problem(e: Exception, limits: FetchLimits) -> str:
    if isinstance(e, http.client.HTTPException):
        return f"the server's answer is not valid HTTP ({type(e).__name__})"
    reason = getattr(e, "reason", e)
    if isinstance(reason, TimeoutError) or "timed out" in str(reason):
        return f"no answer within {limits.timeout_s:g} s (RAG_URL_TIMEOUT)"
    return f"cannot fetch: {reason}"


def _read(first: str, url: str, response, limits: FetchLimits, deadline: float) -> Page:
    headers: Message = response.headers
    content_type = headers.get_content_type()
    if content_type not in HTML_TYPES:
        raise InputError(f"{first}: content type {content_type!r} is not a web page ({' or '.join(HTML_TYPES)})")
    declared = headers.get("Content-Length")
    if declared and declared.isdigit() and int(declared) > limits.max_bytes:
        raise InputError(f"{first}: page is {size_text(int(declared))}, over the "
                         f"{size_text(limits.max_bytes)} limit (RAG_MAX_FILE_MB)")
    parts, size = [], 0
    try:
        while True:
            if time.monotonic() > deadline:
                raise InputError(f"{first}: no complete answer within {limits.timeout_s:g} s (RAG_URL_TIMEOUT)")
            block = response.read1(65536) if hasattr(response, "read1") else response.read(65536)
            if not block:
                break
            size += len(block)
            if size > limits.max_bytes:
                raise InputError(f"{first}: page is over the {size_text(limits.max_bytes)} limit (RAG_MAX_FILE_MB)")
            parts.append(block)
    except (TimeoutError, OSError, http.client.HTTPException) as e:  # IncompleteRead: broken chunking
        raise InputError(f"{first}: {_network_problem(e, limits)}") from None
    if declared and declared.isdigit() and size < int(declared):
        raise InputError(f"{first}: the connection closed after {size:,} of the {int(declared):,} bytes "
                         "the server announced; the page is incomplete")
    return Page(first, url, b"".join(parts), headers.get_content_charset())


def decode_page(page: Page) -> str:
    """The page's text: declared charset, then <meta charset>, then UTF-8, then Windows-1252."""
    candidates = [page.charset]
    m = _META_CHARSET.search(page.body[:4096])
    if m:
        candidates.append(m.group(1).decode("ascii", "ignore"))
    for charset in [c for c in candidates if c] + ["utf-8"]:
        try:
            text = page.body.decode(charset)
        except (LookupError, UnicodeDecodeError):
            continue
        return text.lstrip("\ufeff")
    return page.body.decode("cp1252", errors="replace")


def page_name(url: str) -> str:
    """A stable, file-safe name for `url`: host and path slug plus a hash of the whole URL."""
    parts = urllib.parse.urlsplit(url)
    slug = re.sub(r"[^A-Za-z0-9]+", "-", f"{parts.hostname}{parts.path}").strip("-").lower()[:80].rstrip("-")
    return f"{slug or 'page'}-{hashlib.sha256(url.encode()).hexdigest()[:10]}"


def fetch_page(url: str, folder: Path, limits: FetchLimits,
               replaced: dict[Path, bytes | None] | None = None) -> Path:
    """Fetch `url`, check that it has article text, store it in `folder`; the stored .html path.

    `replaced`, when given, receives the previous bytes of each file this overwrites (None for a
    file it creates), once per file: the stored page of an indexed document is what its citations
    point into, so an ingest that does not commit the new page puts the old one back (`restore`)."""
    page = fetch(url, limits)
    html = decode_page(page)
    name = page_name(page.url)
    meta = {"source_url": page.url, "reader": "web"}
    if page.final_url != page.url:
        meta["fetched_from"] = page.final_url
    # Refuse a page without article text before anything is written.
    WebPageReader().extract(page.url, html, page.url)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.html"
    for target, data in ((folder / f"{name}.meta.json", (json.dumps(meta, indent=2) + "\n").encode()),
                         (path, html.encode("utf-8"))):
        if replaced is not None and target not in replaced:
            replaced[target] = target.read_bytes() if target.exists() else None
        _write_atomic(target, data)
    return path


def restore(replaced: dict[Path, bytes | None]) -> None:
    """Put back what `fetch_page` replaced: the previous bytes, or no file where there was none."""
    for target, data in replaced.items():
        if data is None:
            target.unlink(missing_ok=True)
        else:
            _write_atomic(target, data)


def _write_atomic(final: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=final.parent, prefix=".fetch-")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, final)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class WebPageReader:
    """The `Reader` of a fetched page: the stored HTML is the raw source, trafilatura picks the text."""

    name = "web"
    binary = False
    span_kind = "html"

    @property
    def version(self) -> str:
        return _version()

    def raw_text(self, path: Path, data: bytes) -> str:
        return decode_utf8(path, data)

    def read(self, path: Path, data: bytes) -> Extracted:
        raw = decode_utf8(path, data)
        source_url = str(read_sidecar(path).get("source_url") or "") or None
        clean, meta = self.extract(path, raw, source_url)
        return Extracted(raw, clean, meta)

    def extract(self, where: str | Path, raw: str, url: str | None) -> tuple[MappedText, dict[str, Any]]:
        """Main text of the page `raw`, mapped into it, and its metadata; InputError if none."""
        import trafilatura

        visible, html_meta = extract_html(raw)
        doc = trafilatura.bare_extraction(raw, url=url, with_metadata=True, include_comments=False,
                                          include_tables=True, include_images=False, include_links=False)
        main = (doc.text if doc is not None else None) or ""
        regions = aligned_regions(visible.text, main)
        if not regions:
            found = (f"the {len(main.split())} words trafilatura picked are not running text of the page"
                     if main.strip() else "trafilatura found none")
            raise InputError(f"{where}: no article text found on the page ({found})")
        out = MappedBuilder()
        for a, b in regions:
            part = clean_paragraphs(visible.slice(a, b))
            if not part.text:
                continue
            if len(out):
                out.add_synthetic("\n\n", part.offsets[0])
            out.add_mapped(part.text, part.offsets)
        meta = {k: v for k, v in html_meta.items() if k in ("title", "author", "published")}
        for key, attr in (("title", "title"), ("author", "author"), ("published", "date")):
            value = getattr(doc, attr, None)
            if value:
                meta[key] = str(value)
        return out.build(), meta


def aligned_regions(visible: str, main: str) -> list[tuple[int, int]]:
    """[start, end) ranges of `visible` that hold the words of `main`, in order (see the docstring)."""
    spans = [(m.start(), m.end()) for m in re.finditer(r"\S+", visible)]
    words = [visible[a:b] for a, b in spans]
    wanted = main.split()
    if not spans or not wanted:
        return []
    blocks = SequenceMatcher(None, words, wanted, autojunk=False).get_matching_blocks()
    regions: list[list[int]] = []  # [first word, last word + 1] in `words`
    for i, _, size in blocks:
        if size < MIN_RUN_WORDS:
            continue
        if regions and regions[-1][1] == i:
            regions[-1][1] = i + size
        else:
            regions.append([i, i + size])
    return [(spans[a][0], spans[b - 1][1]) for a, b in regions]


@lru_cache(maxsize=1)
def _version() -> str:
    from importlib.metadata import version

    return f"trafilatura-{version('trafilatura')}/rag-web-1"
