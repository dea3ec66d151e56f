"""Question answering over articles with verifiable citations.

    from rag import Assistant
    assistant = Assistant.open("index")
    assistant.ingest(["seeds/"])
    answer = assistant.ask("How long did the missile stay airborne?")
    print(answer.answer)            # "... staying airborne for about 86 minutes ... [1]"
    print(answer.citations[0])      # source file, title, raw start/end, quote

Importing `rag` loads no model and no torch; that happens on the first question or ingest.
"""

__version__ = "0.1.0"

from rag.assistant import Assistant
from rag.cite.verify import citation_problem, verify_citation
from rag.settings import Settings
from rag.errors import CorruptIndexError, IndexMismatchError, IndexNotFoundError, InputError, RagError
from rag.types import Answer, Chunk, Citation, Hit

__all__ = [
    "Answer",
    "Assistant",
    "Chunk",
    "Citation",
    "CorruptIndexError",
    "Hit",
    "IndexMismatchError",
    "IndexNotFoundError",
    "InputError",
    "RagError",
    "Settings",
    "citation_problem",
    "verify_citation",
]
