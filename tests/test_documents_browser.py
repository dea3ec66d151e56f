"""The Documents tab and the passage viewer with a PDF and a web page, in a real headless Chromium."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from conftest import make_assistant
from documents import article_pdf
from ui.server import ServerThread, create_app
from webserver import LocalWebServer

pytestmark = pytest.mark.slow
# `expect` waits 5 s by default; an upload took longer than that on a slower CPU (2026-11-28).
expect.set_options(timeout=60_000)

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def test_upload_a_pdf_fetch_a_page_and_read_the_cited_page(tmp_path, embedder):
    from playwright.sync_api import sync_playwright

    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: `make install` installs the Debian chromium package")
    pdf = article_pdf(tmp_path / "zorblat.pdf")
    # The test's web server is on 127.0.0.1: a private address, which the server refuses by default.
    assistant = make_assistant(tmp_path / "index", embedder, url_allow_private=True)
    with LocalWebServer() as web, ServerThread(create_app(assistant)) as url, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        context.set_default_timeout(60_000)
        requested: list[str] = []
        context.on("request", lambda r: requested.append(r.url))
        page = context.new_page()
        page.goto(url)
        page.get_by_role("tab", name="Documents").click()

        page.locator("#rag-upload input[type=file]").set_input_files(str(pdf))
        expect(page.locator("#rag-upload-status .rag-notice")).to_contain_text("1 added")
        page.locator("#rag-url textarea").fill(f"{web}/article")
        page.locator("#rag-fetch").click()
        expect(page.locator("#rag-upload-status .rag-notice")).to_contain_text(f"Ingested {web}/article")
        expect(page.locator("#rag-documents")).to_contain_text("The night ferry returns to the river Quell")
        page.locator("#rag-url textarea").fill(f"{web}/report.pdf")
        page.locator("#rag-fetch").click()
        expect(page.locator("#rag-upload-status .rag-error")).to_contain_text("is not a web page")

        page.get_by_role("tab", name="Chat").click()
        page.locator("#rag-question textarea").fill("How long is the Zorblat bridge?")
        page.locator("#rag-ask").click()
        answer = page.locator('#rag-chat .rag-answer[data-turn="1"]')
        answer.wait_for()
        answer.locator("a.rag-cite").first.click()
        panel = answer.locator("details.rag-passage[open]")
        expect(panel.locator(".rag-page")).to_have_text("page 3")
        expect(panel.locator("mark.rag-cited")).to_contain_text("340 meters")
        expect(page.locator("#rag-sources .rag-page").first).to_have_text("page 3")
        browser.close()
    own = urlsplit(url).netloc
    assert not [u for u in requested if urlsplit(u).scheme in ("http", "https", "ws", "wss")
                and urlsplit(u).netloc != own]
