"""The browser chat: the Gradio Blocks that `ui.server` mounts at `/` beside the JSON API.

One process, one uvicorn server, one `Assistant`: the chat and the JSON API see the same
index. The chat is rendered by `ui.render` into a `gr.HTML` (not `gr.Chatbot`), because the
markup around article text must be ours alone: answers carry clickable citation markers and
passage panels, and every piece of article or user text is escaped exactly once, by us.

Offline by construction: `ui/__init__` turns off Gradio's analytics before gradio is imported,
the theme uses system fonts (no Google Fonts request), the page script is inline, and no run
history, SSR node server or MCP server is started.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import gradio as gr

from rag.assistant import MAX_QUESTION_CHARS, Assistant
from rag.errors import RagError
from rag.ingest import SUPPORTED_SUFFIXES
from rag.retrieve.hybrid import MODES
from rag.types import Answer
from ui import render
from ui.streaming import ANSWER, DRAFT, answer_events, error_message
from ui.uploads import Inbox, Upload

EXAMPLES = [
    "How many North Korean troops have reached the Kursk region?",
    "How long did the missile stay airborne?",
    "When does Blinken expect the troops to be in combat?",
]
CHAT_QUEUE = 64  # chat events waiting in Gradio's queue before it answers "queue full"
HISTORY_TURNS = 20  # of the chat's own session sent as history: only the last question is used
DRAFT_REFRESH_S = 0.15  # the draft on screen is redrawn at most this often (each redraw sends the chat HTML)
UPLOAD_SUFFIXES = list(SUPPORTED_SUFFIXES)  # .txt .md .markdown .html .htm .pdf .docx

# Event delegation on the document: the chat HTML is replaced on every answer, a listener on
# the document survives that. A marker [n] (or a sources-panel entry) names its panel by id.
PAGE_HEAD = """<script>
(() => {
  if (window.__ragCitations) return;
  window.__ragCitations = true;
  document.addEventListener("click", (event) => {
    const link = event.target instanceof Element ? event.target.closest("[data-cite]") : null;
    if (!link) return;
    const panel = document.getElementById(link.getAttribute("data-cite"));
    if (!panel) return;
    event.preventDefault();
    panel.open = true;
    document.querySelectorAll(".rag-passage.rag-active").forEach((p) => p.classList.remove("rag-active"));
    panel.classList.add("rag-active");
    panel.scrollIntoView({block: "nearest", behavior: "smooth"});
  });
})();
</script>"""

CSS = """
.rag-chat { display: flex; flex-direction: column; gap: 14px; }
.rag-empty { color: var(--body-text-color-subdued); }
.rag-question { align-self: flex-end; max-width: 85%; background: var(--color-accent-soft);
  border-radius: 10px; padding: 6px 12px; }
.rag-question p, .rag-answer-text { margin: 0; white-space: pre-wrap; overflow-wrap: anywhere; }
.rag-role { font-size: 0.75em; font-weight: 600; color: var(--body-text-color-subdued); }
.rag-turn { display: flex; flex-direction: column; gap: 6px; }
.rag-answer { background: var(--block-background-fill); border: 1px solid var(--border-color-primary);
  border-radius: 10px; padding: 10px 12px; max-width: 95%; }
.rag-abstained { border-style: dashed; border-color: #b7791f; background: #fffaf0; color: #5f370e; }
.rag-badge { display: inline-block; font-size: 0.8em; font-weight: 600; padding: 1px 8px; margin-bottom: 6px;
  border-radius: 999px; background: #f6e05e; color: #5f370e; }
.rag-nearest-label { margin-top: 8px; font-weight: 600; font-size: 0.9em; }
.rag-hits { margin: 4px 0 0 18px; padding: 0; }
.rag-hit { margin-bottom: 6px; }
a.rag-cite { font-weight: 600; text-decoration: none; color: var(--color-accent); cursor: pointer;
  padding: 0 1px; border-radius: 3px; }
a.rag-cite:hover, a.rag-cite:focus { background: var(--color-accent-soft); text-decoration: underline; }
.rag-passages { margin-top: 8px; display: flex; flex-direction: column; gap: 4px; }
.rag-passage { border-left: 3px solid var(--border-color-primary); padding: 2px 0 2px 8px; }
.rag-passage > summary { cursor: pointer; font-size: 0.9em; }
.rag-passage.rag-active { border-left-color: var(--color-accent); background: var(--color-accent-soft); }
.rag-meta { font-size: 0.8em; color: var(--body-text-color-subdued); overflow-wrap: anywhere; }
.rag-context { margin: 4px 0; line-height: 1.5; overflow-wrap: anywhere; }
mark.rag-cited { background: #fde68a; color: #1a1a1a; padding: 0 1px; border-radius: 2px; }
.rag-warning { font-size: 0.8em; color: #9b2c2c; }
.rag-title { font-weight: 600; overflow-wrap: anywhere; }
.rag-sources ol { margin: 0; padding-left: 0; list-style: none; }
.rag-source { margin-bottom: 10px; }
.rag-quote { margin: 4px 0 0 0; padding-left: 8px; border-left: 3px solid #fde68a; font-size: 0.9em; }
table.rag-docs { width: 100%; border-collapse: collapse; font-size: 0.9em; }
table.rag-docs th { white-space: nowrap; }
table.rag-docs th, table.rag-docs td { text-align: left; padding: 4px 6px;
  border-bottom: 1px solid var(--border-color-primary); overflow-wrap: anywhere; }
td.rag-num { text-align: right; }
.rag-notice { padding: 6px 10px; border-radius: 8px; }
.rag-notice p { margin: 0; }
.rag-ok { background: #f0fff4; color: #22543d; }
.rag-error { background: #fff5f5; color: #822727; }
.rag-stats { font-size: 0.9em; color: var(--body-text-color-subdued); }
.rag-answerer { font-size: 0.8em; color: var(--body-text-color-subdued); margin-bottom: 4px; }
.rag-draft { border-style: dotted; color: var(--body-text-color-subdued); font-style: italic; }
.rag-fallback { font-size: 0.85em; padding: 4px 8px; margin-bottom: 6px; border-radius: 6px;
  background: #fffaf0; color: #5f370e; border: 1px solid #f6e05e; }
.rag-unsupported-list { margin: 6px 0 0 0; padding-left: 0; list-style: none; font-size: 0.9em; }
.rag-unsupported { color: var(--body-text-color-subdued); margin-bottom: 4px; }
.rag-unsupported-label { font-size: 0.8em; font-weight: 600; padding: 0 6px; border-radius: 999px;
  background: #fed7d7; color: #822727; }
"""

SYSTEM_FONTS = ["ui-sans-serif", "system-ui", "-apple-system", "Segoe UI", "Roboto", "Helvetica Neue",
                "Arial", "sans-serif"]
MONO_FONTS = ["ui-monospace", "SFMono-Regular", "Menlo", "Consolas", "monospace"]


def theme() -> gr.themes.Base:
    """The default look with system fonts only: nothing is fetched from a font service."""
    return gr.themes.Default(font=SYSTEM_FONTS, font_mono=MONO_FONTS)


# -- the page's functions ----------------------------------------------------------------------
def cited_passages(assistant: Assistant, answer: Answer) -> list[render.Passage]:
    """Each citation with the current raw text around it (for the passage panels)."""
    snap = assistant.snapshot
    out = []
    for c in answer.citations:
        record = snap.documents.get(c.doc_id) if snap is not None else None
        try:
            raw: str | None = assistant.raw_text(c.doc_id)
        except (KeyError, RagError):
            raw = None  # removed since the answer was made; the panel shows the quote only
        meta = record.metadata if record is not None else {}
        published = meta.get("published") or meta.get("date")
        out.append(render.passage_for(c, raw, str(published) if published else None))
    return out


def stats_html(assistant: Assistant) -> str:
    try:
        if assistant.snapshot is None:
            return '<p class="rag-stats">No index yet: upload an article in the Documents tab.</p>'
        s = assistant.stats()
    except RagError as e:
        return render.notice_html(str(e), kind="error")
    return (f'<p class="rag-stats">{s["documents"]} documents · {s["chunks"]} chunks · '
            f'model {render.esc(s["model"]["id"])} · index {render.esc(s["index"])}</p>')


def _documents(assistant: Assistant) -> list[dict[str, Any]]:
    try:
        return assistant.documents() if assistant.snapshot is not None else []
    except RagError:
        return []


def build_blocks(assistant: Assistant, inbox: Inbox) -> gr.Blocks:
    """The chat page. Only `ask` is a public Gradio endpoint; the JSON API covers the rest."""
    settings = assistant.settings

    def index_panel() -> tuple[str, Any, str]:
        docs = _documents(assistant)
        return (render.documents_html(docs), gr.Dropdown(choices=[d["id"] for d in docs], value=None),
                stats_html(assistant))

    def ask(question: str, k: Any, mode: str, llm: bool, turns: list[dict[str, Any]]):
        """Answer `question` with citations; earlier turns of this session are the history. With
        `llm`, the model's draft is shown as it is written, then replaced by the verified answer."""
        turns = list(turns or [])
        history = []
        for t in turns[-HISTORY_TURNS // 2:]:
            history += [{"role": "user", "content": t["question"]}, {"role": "assistant", "content": t["answer"]}]
        try:
            k = int(k)
        except (TypeError, ValueError):
            raise gr.Error(f"k must be a whole number, got {render.esc(repr(k))}") from None
        llm = bool(llm)
        try:
            assistant.check_ask(question, k=k, history=history, mode=mode, llm=llm)
        except RagError as e:
            raise gr.Error(render.esc(e)) from None
        earlier = [t["html"] for t in turns]
        draft, shown_at = "", 0.0
        answer = None
        for kind, value in answer_events(assistant, question, k=k, history=history, mode=mode, llm=llm):
            if kind == DRAFT:
                draft += value
                if time.monotonic() - shown_at >= DRAFT_REFRESH_S:
                    shown_at = time.monotonic()
                    yield (render.conversation_html(earlier + [render.draft_turn_html(question, draft)]),
                           gr.skip(), gr.skip(), gr.skip())
            elif kind == ANSWER:
                answer = value
            else:
                raise gr.Error(render.esc(error_message(value)))
        turn = len(turns) + 1
        passages = cited_passages(assistant, answer)
        turns.append({"question": answer.question, "answer": answer.answer,
                      "html": render.turn_html(answer.question, answer, passages, turn)})
        yield (render.conversation_html([t["html"] for t in turns]), render.sources_html(answer, passages, turn),
               answer.to_dict(), turns)

    def new_conversation():
        return render.conversation_html([]), render.sources_html(None, [], 0), None, []

    def ingest_files(files: list[str] | None, progress=gr.Progress()):
        if not files:
            return (gr.skip(),) * 5
        uploads = [Upload(Path(f).name, Path(f).read_bytes()) for f in files]

        def on_progress(stage: str, done: int, total: int) -> None:
            progress((done, max(total, 1)), desc=stage)

        try:
            report, rejected = inbox.ingest(uploads, on_progress=on_progress)
        except RagError as e:
            report, rejected = None, [str(e)]
        if report is None:
            status = render.notice_html("Nothing was ingested.", rejected, kind="error")
        else:
            problems = rejected + report.skipped
            status = render.notice_html(f"Ingested: {report.summary()}", problems + report.warnings,
                                        kind="error" if problems else "info" if report.warnings else "ok")
        return (status, *index_panel(), None)

    def ingest_url(url: str | None, progress=gr.Progress()):
        """Fetch a web page by URL and ingest it (rag/ingest/url.py bounds the fetch)."""
        if not (url or "").strip():
            return (render.notice_html("Enter the address of a web page (http:// or https://).", kind="error"),
                    *index_panel(), gr.skip())
        progress((0, 1), desc="fetching")
        try:
            report = assistant.ingest_url(url.strip())
        except RagError as e:
            return (render.notice_html(str(e), kind="error"), *index_panel(), gr.skip())
        status = render.notice_html(f"Ingested {url.strip()}: {report.summary()}", report.skipped + report.warnings,
                                    kind="error" if report.skipped else "info" if report.warnings else "ok")
        return (status, *index_panel(), "")

    def remove_document(doc_id: str | None):
        if not doc_id:
            return (render.notice_html("Choose a document to remove.", kind="error"), *index_panel())
        try:
            inbox.remove(doc_id)
            status = render.notice_html(f"Removed {doc_id}.", kind="ok")
        except RagError as e:
            status = render.notice_html(str(e), kind="error")
        return (status, *index_panel())

    with gr.Blocks(title="rag: answers with citations", analytics_enabled=False,
                   delete_cache=(3600, 3600)) as demo:
        turns = gr.State([])
        with gr.Row():
            gr.HTML("<h2 style='margin:0'>Ask your articles</h2>", js_on_load=None)
            stats = gr.HTML(stats_html(assistant), elem_id="rag-stats", js_on_load=None)
        with gr.Tabs():
            with gr.Tab("Chat", id="chat"):
                with gr.Row():
                    with gr.Column(scale=3):
                        chat = gr.HTML(render.conversation_html([]), elem_id="rag-chat", js_on_load=None,
                                       autoscroll=True, max_height=620, min_height=200, container=True,
                                       padding=True)
                        with gr.Row():
                            question = gr.Textbox(placeholder="Ask about the articles…", show_label=False,
                                                  lines=1, max_length=MAX_QUESTION_CHARS, scale=5,
                                                  elem_id="rag-question", autofocus=True)
                            send = gr.Button("Ask", variant="primary", scale=1, elem_id="rag-ask")
                        gr.Examples(EXAMPLES, inputs=[question], label="Try one of these")
                        reset = gr.Button("New conversation", size="sm", elem_id="rag-new")
                    with gr.Column(scale=2):
                        gr.Markdown("### Sources of the latest answer")
                        sources = gr.HTML(render.sources_html(None, [], 0), elem_id="rag-sources",
                                          js_on_load=None)
                        with gr.Accordion("Settings", open=True):
                            k = gr.Slider(1, max(20, settings.k), value=settings.k, step=1,
                                          label="Passages to retrieve (k)", elem_id="rag-k")
                            mode = gr.Radio(list(MODES), value=settings.mode, label="Retrieval mode",
                                            elem_id="rag-mode")
                            llm = gr.Checkbox(
                                value=False, label="Answer with the language model", elem_id="rag-llm",
                                interactive=assistant.generative is not None,
                                info=("Its own words, every sentence checked against its citation; the extractive "
                                      "answer if it cannot give one." if assistant.generative is not None else
                                      "Not configured: start the server with RAG_LLM_URL set (e.g. after `make llm`)."))
                        with gr.Accordion("Answer as JSON (same as POST /api/ask)", open=False):
                            raw_json = gr.JSON(elem_id="rag-json")
            with gr.Tab("Documents", id="documents"):
                upload = gr.File(label=f"Upload articles (.txt, .md, .html, .pdf, .docx; up to "
                                       f"{inbox.max_bytes / 1e6:g} MB each)",
                                 file_count="multiple", file_types=UPLOAD_SUFFIXES, elem_id="rag-upload")
                with gr.Row():
                    page_url = gr.Textbox(placeholder="https://… a web page to fetch and ingest", show_label=False,
                                          lines=1, scale=5, elem_id="rag-url")
                    fetch = gr.Button("Fetch page", scale=1, elem_id="rag-fetch")
                status = gr.HTML(elem_id="rag-upload-status", js_on_load=None)
                docs = gr.HTML(render.documents_html(_documents(assistant)), elem_id="rag-documents",
                               js_on_load=None)
                with gr.Row():
                    pick = gr.Dropdown(choices=[d["id"] for d in _documents(assistant)], value=None,
                                       label="Document", scale=3, elem_id="rag-doc-pick")
                    remove = gr.Button("Remove from index", variant="stop", scale=1, elem_id="rag-remove")

        gr.on([question.submit, send.click], ask, inputs=[question, k, mode, llm, turns],
              outputs=[chat, sources, raw_json, turns], api_name="ask", concurrency_limit=4
              ).success(lambda: "", None, question, api_visibility="private", queue=False)
        reset.click(new_conversation, None, [chat, sources, raw_json, turns], api_visibility="private",
                    queue=False)
        upload.upload(ingest_files, [upload], [status, docs, pick, stats, upload], api_visibility="private",
                      concurrency_limit=1)
        remove.click(remove_document, [pick], [status, docs, pick, stats], api_visibility="private",
                     concurrency_limit=1)
        gr.on([page_url.submit, fetch.click], ingest_url, [page_url], [status, docs, pick, stats, page_url],
              api_visibility="private", concurrency_limit=1)
        demo.load(index_panel, None, [docs, pick, stats], api_visibility="private", queue=False)
    demo.queue(default_concurrency_limit=2, max_size=CHAT_QUEUE)
    return demo
