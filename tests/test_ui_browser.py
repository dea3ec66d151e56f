"""The chat in a real headless Chromium (Debian's /usr/bin/chromium, driven by Playwright).

Gradio pages keep a connection open, so "networkidle" never comes: tests wait for elements.
Every test also checks that the page fetched nothing from any host but the server itself.
"""

from __future__ import annotations

import re
import shutil
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from conftest import SEEDS, SEED_FILE, make_assistant
from rag.cite.verify import citation_problem
from ui.server import ServerThread, create_app

pytestmark = pytest.mark.slow

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
TIMEOUT_MS = 60_000
# `expect` waits 5 s by default; an upload or removal took longer than that on a slower CPU
# (2026-11-28, Intel Xeon, 2 cores). An assertion still fails if the text never comes.
expect.set_options(timeout=TIMEOUT_MS)
BRIDGE_MD = ("# Zorblat Bridge\n\nThe Zorblat bridge in Kettleford was completed in 1911.\n\n"
             "The Zorblat bridge is 340 meters long and crosses the river Quell.\n")
EVIL_TXT = ('Harbor <img src=x onerror="window.__pwned=1"> report\n\n'
            "The harbor crane <script>window.__pwned=1</script> lifts 90 tonnes {{this}} ${1+1} per hour.\n")


@pytest.fixture(scope="module")
def server(tmp_path_factory, embedder):
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: `make install` installs the Debian chromium package")
    corpus = tmp_path_factory.mktemp("ui-browser-corpus")
    for f in SEEDS.iterdir():
        shutil.copy(f, corpus / f.name)
    assistant = make_assistant(tmp_path_factory.mktemp("ui-browser") / "index", embedder)
    assistant.ingest([corpus])
    with ServerThread(create_app(assistant)) as url:
        yield SimpleNamespace(url=url, assistant=assistant)


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield b
        b.close()


@contextmanager
def local_page(browser, url: str):
    """A page opened at `url` that must fetch nothing from other hosts (checked on exit)."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(TIMEOUT_MS)
    requested: list[str] = []
    context.on("request", lambda r: requested.append(r.url))
    try:
        page = context.new_page()
        page.goto(url)
        yield page
    finally:
        context.close()
    own = urlsplit(url).netloc
    outside = [u for u in requested if urlsplit(u).scheme in ("http", "https", "ws", "wss")
               and urlsplit(u).netloc != own]
    assert not outside, f"the page fetched from other hosts: {outside}"


@pytest.fixture
def page(browser, server):
    with local_page(browser, server.url) as page:
        page.locator("#rag-question textarea").wait_for()
        yield page


def ask(page, question: str, turn: int = 1):
    page.locator("#rag-question textarea").fill(question)
    page.locator("#rag-ask").click()
    answer = page.locator(f'#rag-chat .rag-answer[data-turn="{turn}"]')
    answer.wait_for()
    return answer


def upload(page, path: Path) -> str:
    page.get_by_role("tab", name="Documents").click()
    page.locator("#rag-upload input[type=file]").set_input_files(str(path))
    notice = page.locator("#rag-upload-status .rag-notice")
    notice.wait_for()
    return notice.inner_text()


def open_citation(page, turn: int, n: int):
    page.locator(f'#rag-chat .rag-answer[data-turn="{turn}"] a.rag-cite[data-cite="cite-{turn}-{n}"]').click()
    panel = page.locator(f"#cite-{turn}-{n}")
    panel.locator("mark.rag-cited").wait_for(state="visible")
    return panel


def test_answer_citation_opens_the_highlighted_span(page, server, tmp_path):
    page.get_by_text("How long did the missile stay airborne?", exact=True).click()  # an example question
    expect(page.locator("#rag-question textarea")).to_have_value("How long did the missile stay airborne?")
    page.locator("#rag-ask").click()
    answer = page.locator('#rag-chat .rag-answer[data-turn="1"]')
    answer.wait_for()
    assert "86 minutes" in answer.locator(".rag-answer-text").inner_text()
    assert page.locator("#cite-1-1").get_attribute("open") is None  # closed until the marker is clicked

    panel = open_citation(page, 1, 1)
    assert "rag-active" in panel.get_attribute("class")
    meta = panel.locator(".rag-meta").inner_text()
    assert str(server.assistant.snapshot.documents[SEED_FILE.name].source) in meta and "2024-10-31" in meta
    start, end = map(int, re.search(r"chars (\d+)–(\d+)", meta).groups())
    raw = SEED_FILE.read_text(encoding="utf-8")
    highlighted = " ".join(panel.locator("mark.rag-cited").inner_text().split())
    assert citation_problem(raw, start, end, highlighted) is None  # the highlight is exactly the raw span
    assert "86 minutes" in highlighted
    context = panel.locator(".rag-context").inner_text()
    assert len(context) > len(highlighted) + 100  # the paragraphs around it are shown too

    sources = page.locator("#rag-sources .rag-source")
    assert sources.count() >= 1 and sources.first.inner_text().startswith("[1]")
    page.screenshot(path=str(tmp_path / "answered.png"), full_page=True)
    assert (tmp_path / "answered.png").stat().st_size > 10_000

    follow = ask(page, "And how long did it stay up?", turn=2)  # the second turn keeps the first on screen
    assert page.locator("#rag-chat .rag-turn").count() == 2
    assert follow.locator('a.rag-cite:not([data-cite^="cite-2-"])').count() == 0  # markers open their own turn

    # A bare follow-up is answered as the whole question it stands for, and says how it was read.
    bare = ask(page, "And how high?", turn=3)
    expect(bare.locator(".rag-read-as")).to_have_text("Read as: How high did it stay up?")
    assert "7,000" in bare.locator(".rag-answer-text").inner_text()


def test_abstained_answer_looks_different_and_lists_nearest_passages(page):
    answer = ask(page, "What is the best recipe for sourdough bread?")
    assert "rag-abstained" in answer.get_attribute("class")
    assert "No answer in the articles" in answer.inner_text()
    assert answer.locator(".rag-hit").count() >= 1 and answer.locator("a.rag-cite").count() == 0
    assert "No sources" in page.locator("#rag-sources").inner_text()


def test_upload_then_ask_about_it(page, tmp_path):
    article = tmp_path / "zorblat.md"
    article.write_text(BRIDGE_MD, encoding="utf-8")
    assert "1 added" in upload(page, article)
    assert "Zorblat Bridge" in page.locator("#rag-documents").inner_text()
    page.get_by_role("tab", name="Chat").click()
    answer = ask(page, "How long is the Zorblat bridge?")
    assert "340 meters" in answer.locator(".rag-answer-text").inner_text()
    panel = open_citation(page, 1, 1)
    assert "Zorblat Bridge" in panel.locator("summary").inner_text()
    assert "340 meters" in panel.locator("mark.rag-cited").inner_text()
    assert "uploads/zorblat.md" in panel.locator(".rag-meta").inner_text()


def test_rejected_upload_shows_why(page, tmp_path):
    bad = tmp_path / "binary.txt"
    bad.write_bytes(b"abc\x00def")
    notice = upload(page, bad)
    assert "Nothing was ingested" in notice and "binary.txt" in notice and "binary file" in notice


def test_article_markup_is_shown_as_text_and_runs_nothing(page, tmp_path):
    evil = tmp_path / "evil.txt"
    evil.write_text(EVIL_TXT, encoding="utf-8")
    assert "1 added" in upload(page, evil)
    assert 'Harbor <img src=x onerror="window.__pwned=1"> report' in page.locator("#rag-documents").inner_text()
    page.get_by_role("tab", name="Chat").click()
    answer = ask(page, "How much does the harbor crane lift?")
    text = answer.locator(".rag-answer-text").inner_text()
    assert "<script>window.__pwned=1</script>" in text and "{{this}} ${1+1}" in text
    panel = open_citation(page, 1, 1)
    assert '<img src=x onerror="window.__pwned=1">' in panel.locator("summary").inner_text()
    ask(page, '<img src=x onerror="window.__pwned=1"> what does the crane lift?', turn=2)
    assert '<img src=x onerror="window.__pwned=1">' in page.locator("#rag-chat .rag-question").last.inner_text()
    page.wait_for_timeout(300)  # give an injected handler the chance it must not have
    assert page.locator("#rag-chat img, #rag-chat script, #rag-sources img, #rag-documents img").count() == 0
    assert page.evaluate("typeof window.__pwned") == "undefined"


def test_empty_question_shows_the_core_message(page):
    page.locator("#rag-ask").click()
    toast = page.get_by_test_id("toast-body").first
    toast.wait_for()
    assert "question is empty" in toast.inner_text()


def test_remove_a_document_from_the_documents_tab(page, tmp_path):
    doc = tmp_path / "removeme.txt"
    doc.write_text("Removable note\n\nThe blue kettle in room nine was sold on Tuesday.\n", encoding="utf-8")
    assert "1 added" in upload(page, doc)
    page.locator("#rag-doc-pick input").click()
    page.get_by_role("option", name="removeme.txt").click()
    page.locator("#rag-remove").click()
    expect(page.locator("#rag-upload-status")).to_contain_text("Removed removeme.txt")
    expect(page.locator("#rag-documents")).not_to_contain_text("removeme.txt")


def test_password_login_then_chat(browser, tmp_path, embedder):
    assistant = make_assistant(tmp_path / "index", embedder)  # no index yet: the page must say so
    with ServerThread(create_app(assistant, credentials=("ann", "s3cret"))) as url:
        page = browser.new_page()
        page.set_default_timeout(TIMEOUT_MS)
        page.goto(url)
        page.locator("input[type=password]").wait_for()
        assert page.locator("#rag-question").count() == 0
        page.locator("input[type=text]").fill("ann")
        page.locator("input[type=password]").fill("s3cret")
        page.get_by_role("button", name="Login").click()
        page.locator("#rag-question textarea").wait_for()
        expect(page.locator("#rag-stats")).to_contain_text("No index yet")
        page.close()


def test_api_docs_render_from_local_assets(browser, server):
    with local_page(browser, f"{server.url}/docs") as page:
        page.locator(".opblock-summary-path", has_text="/api/ask").first.wait_for()


@pytest.fixture(scope="module")
def llm_server(server, embedder):
    """The same index served with a scripted model server whose reply pauses after its first
    word (so the draft is on screen for a while) and holds one sentence the articles do not say."""
    from fake_llm import FakeLLM, Reply, number_of

    def behaviour(request):
        n = number_of(request, "staying airborne for about 86 minutes")
        return Reply(f"The missile stayed airborne for about 86 minutes [{n}]. It was fired by Napoleon [{n}].",
                     stall_s=2.0)

    with FakeLLM(behaviour) as fake:
        assistant = make_assistant(server.assistant.folder.path, embedder, llm_url=fake.url, llm_model="scripted")
        with ServerThread(create_app(assistant)) as url:
            yield SimpleNamespace(url=url)


def test_llm_toggle_shows_the_draft_then_the_verified_answer(browser, llm_server):
    with local_page(browser, llm_server.url) as page:
        page.locator("#rag-llm input[type=checkbox]").check()
        page.locator("#rag-question textarea").fill("How long did the missile stay airborne?")
        page.locator("#rag-ask").click()
        draft = page.locator("#rag-chat .rag-draft")
        draft.wait_for()
        assert "not yet checked" in draft.inner_text()
        answer = page.locator('#rag-chat .rag-answer[data-turn="1"]')
        answer.wait_for()
        assert page.locator("#rag-chat .rag-draft").count() == 0  # the draft was replaced
        text = answer.locator(".rag-answer-text").inner_text()
        assert "86 minutes" in text and "Napoleon" not in text
        assert "Written by the language model" in answer.inner_text()
        rejected = answer.locator(".rag-unsupported")
        assert rejected.count() == 1 and "Not supported by the articles" in rejected.inner_text()
        assert "Napoleon" in rejected.inner_text()
        panel = open_citation(page, 1, 1)
        assert "86 minutes" in panel.locator("mark.rag-cited").inner_text()
