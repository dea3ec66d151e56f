"""What the language model is shown and asked, and how its reply is read back.

The model sees sentences, not chunks: the best-ranked sentences of the retrieved passages (the
extractive answerer's ranking: cheap scores, then the cross-encoder), numbered [1]..[m], grouped
under their article's title and in reading order within an article. Sentences because every
claim must be checked against what it cites, and a citation must be an exact raw span of one
sentence; a numbered sentence is both. Few of them (`PromptConfig`), because reading the
prompt is the slow part on a CPU (~44 tokens/s for the 1.5B model on one core: 200 tokens of
sentences are ~4.5 s before the first word). The instructions come first and never change, so
llama.cpp's server reuses their cached state and reads only the sentences and the question.

Two reply formats (RAG_LLM_FORMAT). `text`, the default: 1-4 sentences, each ending with the
numbers it rests on ("... 340 meters long [2]."), or "NO ANSWER" to decline. The instructions
give no example sentence: the 1.5B model copied one ("The bridge is 340 meters long") into
answers about anything. `json`: JSON of
`reply_schema(m)` sent as structured output, a list of at most four {text, cites} objects whose
grammar allows only the numbers 1..m, so an id that does not exist cannot even be written; a
server that refuses the schema gets the same instructions without it. Text is the default
because it answered better: with the schema enforced, Qwen2.5-Coder-1.5B mostly copied the last
numbered sentence whatever the question (README, "Generative answers"). `parse_reply` reads
both formats whichever was asked for, since models often write the other one. A sentence that only says the sentences do not answer ("The
article does not say how high ...") is a decline, not a claim (`is_decline`).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Sequence

from rag.text.sentences import split_sentences

MAX_SENTENCES = 4  # the answer's sentences, as the issue asks: 1-4
MAX_CITES = 3  # numbers per sentence

DECLINE = "NO ANSWER"
# Plain text with [n] markers: the default. With JSON-schema constrained decoding the 1.5B model
# mostly copied the last numbered sentence whatever the question (README, "Generative answers").
SYSTEM_TEXT = (
    "You answer a question using only the numbered sentences from articles that you are given.\n"
    "Rules:\n"
    "- Use only what the numbered sentences say. Never add facts from memory.\n"
    "- Answer in 1 to 4 short sentences; the first one answers the question directly.\n"
    "- End each sentence with the number of the sentence it is based on in square brackets, for example [4].\n"
    "- Copy names, numbers and dates exactly as the numbered sentences write them.\n"
    f"- If the numbered sentences do not answer the question, write only: {DECLINE}"
)
SYSTEM_JSON = (
    "You answer a question using only the numbered sentences from articles that you are given.\n"
    "Rules:\n"
    "- Use only what the numbered sentences say. Never add facts from memory.\n"
    "- Answer in 1 to 4 short sentences; the first one answers the question directly.\n"
    "- Give each sentence the numbers of the sentences it is based on.\n"
    "- Copy names, numbers and dates exactly as the numbered sentences write them.\n"
    "- If the numbered sentences do not answer the question, give no sentences: {\"sentences\": []}.\n"
    "Reply with JSON only: {\"sentences\": [{\"text\": \"...\", \"cites\": [4]}]}"
)
FORMATS = ("text", "json")


@dataclass(frozen=True)
class PromptConfig:
    max_sentences: int = 6  # numbered sentences shown at most
    budget_chars: int = 650  # ... and at most this many characters of them (the first always fits)
    title_words: int = 6  # of each article's title


@dataclass(frozen=True)
class Shown:
    """One numbered sentence as the model saw it."""

    n: int
    key: tuple[str, int, int]  # (doc_id, raw start, raw end): the candidate it came from
    title: str
    text: str


@dataclass(frozen=True)
class Claim:
    """One sentence of the model's reply and the numbers it cites (as written: may not exist)."""

    text: str
    cites: tuple[int, ...]


@dataclass(frozen=True)
class Reply:
    claims: tuple[Claim, ...]
    declined: bool  # the model said the sentences do not answer (and wrote nothing else)
    structured: bool  # read as JSON of the schema (else as text)


def short_title(title: str, words: int) -> str:
    parts = title.split()
    return " ".join(parts[:words]) + (" …" if len(parts) > words else "")


def number_sentences(items: Sequence[tuple[tuple[str, int, int], str, str]], config: PromptConfig) -> list[Shown]:
    """Number the best sentences for the prompt. `items` are (key, title, text), best first.

    Takes sentences in rank order while they fit `config`; then orders them by article (the
    article of the best sentence first) and, within an article, by position, so the model reads
    each article's sentences in their own order.
    """
    chosen: list[tuple[tuple[str, int, int], str, str]] = []
    used = 0
    for key, title, text in items:
        if len(chosen) >= config.max_sentences:
            break
        if chosen and used + len(text) > config.budget_chars:
            continue
        chosen.append((key, title, text))
        used += len(text)
    doc_rank: dict[str, int] = {}
    for key, _, _ in chosen:
        doc_rank.setdefault(key[0], len(doc_rank))
    chosen.sort(key=lambda item: (doc_rank[item[0][0]], item[0][1]))
    return [Shown(i + 1, key, short_title(title, config.title_words), " ".join(text.split()))
            for i, (key, title, text) in enumerate(chosen)]


def user_message(question: str, shown: Sequence[Shown], context: str | None = None) -> str:
    """The question and the numbered sentences, grouped under their article's title."""
    lines: list[str] = []
    title = None
    for s in shown:
        if s.title != title:
            title = s.title
            lines.append(f"Article: {title}")
        lines.append(f"[{s.n}] {s.text}")
    if context:
        lines.append(f"\nEarlier question: {context}")
    lines.append(f"\nQuestion: {question}")
    return "\n".join(lines)


def reply_schema(m: int) -> dict[str, Any]:
    """JSON schema of a reply over `m` numbered sentences."""
    return {
        "type": "object",
        "properties": {
            "sentences": {
                "type": "array", "maxItems": MAX_SENTENCES,
                "items": {
                    "type": "object",
                    "properties": {
                        "text": {"type": "string", "minLength": 1, "maxLength": 400},
                        "cites": {"type": "array", "minItems": 1, "maxItems": MAX_CITES,
                                  "items": {"type": "integer", "enum": list(range(1, m + 1))}},
                    },
                    "required": ["text", "cites"], "additionalProperties": False,
                },
            },
        },
        "required": ["sentences"], "additionalProperties": False,
    }


# "[2]", "[1, 3]", "[1][3]", and ranges "[1-3]" (read as 1, 2, 3): a range once stayed in the
# sentence, and its numbers were checked as facts the sentence claims.
_GROUP = r"\[\s*\d+(?:\s*[,;–-]\s*\d+)*\s*\]"
_MARKERS = re.compile(r"\s*((?:%s\s*)+)" % _GROUP)
_MARKER_NUMBERS = re.compile(r"\d+")
_MARKER_ITEMS = re.compile(r"(\d+)(?:\s*[–-]\s*(\d+))?")
_LEADING_MARKERS = re.compile(r"^\s*(?:%s\s*)+" % _GROUP)
MAX_RANGE = 10  # a wider "range" is not a list of sentences: only its two ends are read


def _marker_numbers(markers: str) -> tuple[int, ...]:
    """The sentence numbers of a run of markers, ranges expanded: "[1-3][5]" -> (1, 2, 3, 5)."""
    out: list[int] = []
    for m in _MARKER_ITEMS.finditer(markers):
        first, last = int(m.group(1)), int(m.group(2) or m.group(1))
        out += range(first, last + 1) if 0 <= last - first <= MAX_RANGE else (first, last)
    return tuple(out)
_DECLINE = re.compile(
    r"\b(?:do|does|did|can|could)(?:\s+not|n't)\s+(?:say|mention|state|specify|provide|give|contain|answer|include|"
    r"tell|indicate|be determined|be answered)\b|\bno (?:information|mention|answer)\b|"
    r"\bnot (?:mentioned|stated|specified|provided|given|available|known)\b|\bcannot (?:be )?(?:determined|answered)\b|"
    r"\bnumbered sentences\b|\bthe (?:given|provided) (?:sentences|text|information)\b", re.I)


def is_decline(text: str) -> bool:
    """True for a sentence that says the sentences do not answer, rather than answering."""
    return _DECLINE.search(text) is not None


def parse_reply(text: str) -> Reply:
    """The model's reply as claims. JSON of the schema if it is that, else text with [n] markers.

    JSON cut off at max_tokens keeps the sentences that were complete. Text is split into
    sentences; each sentence's markers (`[2]`, `[1][3]`, `[1, 3]`), wherever in the sentence,
    are its citations, and are removed from its text.
    """
    structured = _parse_json(text)
    if structured is not None:
        return structured
    stripped = text.strip()
    if not stripped:
        return Reply((), declined=False, structured=False)  # nothing at all: not a reply
    if stripped.upper().startswith(DECLINE):
        return Reply((), declined=True, structured=False)
    # The sentence splitter cuts before an opening bracket, so markers written after the full
    # stop ("... long. [2] Next ...") start the next piece: they belong to the sentence before.
    merged: list[Claim] = []
    for start, end in split_sentences(stripped):
        sentence = stripped[start:end]
        lead = _LEADING_MARKERS.match(sentence)
        if lead and merged:
            numbers = _marker_numbers(lead.group(0))
            merged[-1] = Claim(merged[-1].text, tuple(dict.fromkeys(merged[-1].cites + numbers)))
            sentence = sentence[lead.end():]
        cites = tuple(n for m in _MARKERS.finditer(sentence) for n in _marker_numbers(m.group(1)))
        words = _without_markers(sentence)
        if any(ch.isalnum() for ch in words):
            merged.append(Claim(words, tuple(dict.fromkeys(cites))))
        elif merged:  # a line of markers only
            merged[-1] = Claim(merged[-1].text, tuple(dict.fromkeys(merged[-1].cites + cites)))
    return Reply(tuple(merged), declined=False, structured=False)


def _without_markers(text: str) -> str:
    """`text` without [n] markers, and without the space a marker left before punctuation
    ("... kilometers [1]." -> "... kilometers.")."""
    words = " ".join(_MARKERS.sub(" ", text).split())
    return re.sub(r"\s+([.,;:!?])", r"\1", words)


def _parse_json(text: str) -> Reply | None:
    body = text.strip()
    if body.startswith("```"):  # a fenced block: ```json ... ```
        body = body.strip("`").removeprefix("json").strip()
    if not body.startswith("{"):
        return None
    try:
        data = json.loads(body)
    except ValueError:
        data = _complete_prefix(body)
        if data is None:
            return None
    items = data.get("sentences") if isinstance(data, dict) else None
    if not isinstance(items, list):
        return None
    claims = []
    for item in items[:MAX_SENTENCES]:
        if not isinstance(item, dict) or not isinstance(item.get("text"), str):
            continue
        raw_cites = item.get("cites") if isinstance(item.get("cites"), list) else []
        cites = tuple(dict.fromkeys(c for c in raw_cites if isinstance(c, int) and not isinstance(c, bool)))
        words = _without_markers(item["text"])
        # Markers the model also wrote into the text count as citations too.
        cites += tuple(n for m in _MARKERS.finditer(item["text"]) for n in _marker_numbers(m.group(1))
                       if n not in cites)
        if any(ch.isalnum() for ch in words):
            claims.append(Claim(words, cites))
    return Reply(tuple(claims), declined=not claims, structured=True)


def _complete_prefix(body: str) -> dict[str, Any] | None:
    """A reply cut off mid-JSON: the complete sentence objects before the cut, or None."""
    end = body.rfind("}")
    while end > 0:
        try:
            return json.loads(body[: end + 1] + "]}")
        except ValueError:
            end = body.rfind("}", 0, end)
    return None


class DraftStream:
    """Turns the raw reply, piece by piece, into readable draft text for the screen.

    For JSON replies it shows only the sentences' text as it grows, then their markers once a
    sentence's numbers are complete; plain-text replies are shown as they come. Append-only:
    `feed` returns what to add to the draft shown so far.
    """

    _TEXT = re.compile(r'"text"\s*:\s*"((?:[^"\\]|\\.)*)(")?')
    _CITES = re.compile(r'"cites"\s*:\s*\[([^\]]*)\]')

    def __init__(self) -> None:
        self.raw = ""
        self.shown = ""

    def feed(self, piece: str) -> str:
        self.raw += piece
        draft = self.render(self.raw)
        if not draft.startswith(self.shown):
            return ""  # never rewrite what is on screen; the verified answer replaces it all
        delta, self.shown = draft[len(self.shown):], draft
        return delta

    @classmethod
    def render(cls, raw: str) -> str:
        body = raw.lstrip().removeprefix("```json").lstrip("`").lstrip()
        if not body.startswith("{"):
            return raw  # plain text
        parts = []
        for obj in re.split(r"(?=\{\s*\"text\")", body)[1:]:
            m = cls._TEXT.search(obj)
            if not m:
                continue
            text = _unescape_partial(m.group(1))
            parts.append(text)
            cites = cls._CITES.search(obj, m.end()) if m.group(2) else None
            if cites:
                numbers = "".join(f"[{n}]" for n in _MARKER_NUMBERS.findall(cites.group(1)))
                parts[-1] = f"{text} {numbers}" if numbers else text
        return " ".join(parts)


def _unescape_partial(s: str) -> str:
    """JSON string escapes of a string that may be cut mid-escape."""
    s = re.sub(r"\\u[0-9a-fA-F]{0,3}$|\\$", "", s)
    try:
        return json.loads(f'"{s}"')
    except ValueError:
        return s.replace('\\"', '"').replace("\\n", " ")
