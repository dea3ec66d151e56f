"""Fetching web pages: limits, errors, the stored page, the main text. Served from 127.0.0.1 only."""

from __future__ import annotations

import json

import pytest

from rag.errors import InputError
from rag.ingest import read_article
from rag.ingest.formats import raw_source, reader_for
from rag.ingest.url import FetchLimits, aligned_regions, fetch, fetch_page, page_name
from rag.text.chunking import ChunkingConfig, chunk_article
from rag.cite.verify import citation_problem
from webserver import LocalWebServer

FAST = FetchLimits(timeout_s=1.0, max_bytes=100_000, max_redirects=3)


@pytest.fixture(scope="module")
def web():
    with LocalWebServer() as base:
        yield base


def test_page_is_stored_with_its_url_and_read_for_its_main_text(web, tmp_path):
    path = fetch_page(f"{web}/article", tmp_path, FAST)
    assert path.parent == tmp_path and path.suffix == ".html"
    sidecar = json.loads(path.with_name(path.stem + ".meta.json").read_text())
    assert sidecar == {"source_url": f"{web}/article", "reader": "web"}
    assert reader_for(path).name == "web"

    a = read_article(path, 1_000_000)
    assert a.raw == path.read_text(encoding="utf-8") == raw_source(path)
    assert a.title == "The night ferry returns to the river Quell"
    assert a.metadata["source_url"] == f"{web}/article"
    assert a.metadata["author"] == "Ada Lindqvist" and a.metadata["published"] == "2024-05-02"
    text = a.clean.text
    assert "the first electric ferry on the river" in text
    for boilerplate in ("Subscribe for 1 euro", "Most read", "Cat elected", "All rights reserved"):
        assert boilerplate not in text
    for chunk in chunk_article(path.name, a.title, a.clean, ChunkingConfig()):
        for s in chunk.sentences:
            assert citation_problem(a.raw, s.start, s.end, s.text, html=True) is None, s


def test_same_url_same_file_and_redirects_are_followed(web, tmp_path):
    first = fetch_page(f"{web}/article#top", tmp_path, FAST)
    assert fetch_page(f"{web}/article", tmp_path, FAST) == first  # the fragment is not part of the page
    moved = fetch_page(f"{web}/moved", tmp_path, FAST)
    meta = json.loads(moved.with_name(moved.stem + ".meta.json").read_text())
    assert meta["source_url"] == f"{web}/moved" and meta["fetched_from"] == f"{web}/article"
    assert page_name(f"{web}/moved") != page_name(f"{web}/article")


def test_declared_charset_is_honoured(web, tmp_path):
    a = read_article(fetch_page(f"{web}/latin1", tmp_path, FAST), 1_000_000)
    assert "Ardon Café Mills" in a.clean.text


@pytest.mark.parametrize("path,problem", [
    ("/slow", r"no answer within 1 s \(RAG_URL_TIMEOUT\)"),
    ("/drip", r"no (complete )?answer within 1 s"),
    ("/big", r"over the 0.1 MB limit \(RAG_MAX_FILE_MB\)"),
    ("/big-declared", r"page is 30.0 MB, over the 0.1 MB limit"),
    ("/report.pdf", r"content type 'application/pdf' is not a web page"),
    ("/loop/0", r"more than 3 redirects"),
    ("/gone", r"HTTP 404"),
    ("/menu", r"no article text"),
    ("/short", r"closed after 900 of the 5,000 bytes"),
    ("/garbled", r"not valid HTTP \(BadStatusLine\)"),
])
def test_a_bad_fetch_is_one_error_naming_the_url_and_writes_nothing(web, tmp_path, path, problem):
    with pytest.raises(InputError, match=problem) as e:
        fetch_page(f"{web}{path}", tmp_path / "fetched", FAST)
    assert str(e.value).startswith(f"{web}{path}")
    assert not (tmp_path / "fetched").exists() or not any((tmp_path / "fetched").iterdir())


@pytest.mark.parametrize("url", ["ftp://127.0.0.1/x", "http://", "file:///etc/passwd", "https:///nohost",
                                 "http://[::1", "http://127.0.0.1:99999/x"])
def test_only_http_urls_with_a_host(url, tmp_path):
    with pytest.raises(InputError, match="not a web address"):
        fetch_page(url, tmp_path, FAST)


def test_nobody_listening_is_a_clear_error(tmp_path):
    import socket

    with socket.socket() as s:  # a port that was free a moment ago: connection refused
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(InputError, match=f"127.0.0.1:{port}/x: cannot fetch"):
        fetch_page(f"http://127.0.0.1:{port}/x", tmp_path, FAST)


def test_aligned_regions_keep_only_runs_of_the_main_text():
    visible = "Home News Sport\n\nThe ferry runs again from June. It carries 140 people.\n\nMost read: cats"
    regions = aligned_regions(visible, "The ferry runs again from June.\nIt carries 140 people.")
    assert [visible[a:b] for a, b in regions] == ["The ferry runs again from June. It carries 140 people."]
    assert aligned_regions(visible, "") == [] and aligned_regions("", "x y z") == []


def test_private_addresses_are_refused_when_not_allowed_and_the_setting_reads_yes_no():
    from rag import Settings

    strict = FetchLimits(timeout_s=1.0, max_bytes=100_000, allow_private=False)
    for url in ("http://127.0.0.1:9/x", "http://localhost/", "http://[::1]/", "http://192.168.1.1/"):
        with pytest.raises(InputError, match="private or local address"):
            fetch(url, strict)
    assert Settings.from_env({"RAG_URL_ALLOW_PRIVATE": "1"}).url_allow_private is True
    assert Settings.from_env({}).url_allow_private is False
    with pytest.raises(InputError, match="yes/no"):
        Settings.from_env({"RAG_URL_ALLOW_PRIVATE": "maybe"})
