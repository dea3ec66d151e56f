"""Ingestion: finding article files and turning each into clean text mapped to its raw source.

One reader per format (`formats.py` holds the table: .txt, .md, .html, .pdf, .docx, and web
pages fetched by `url.py`); the raw source is the file's own text or, for PDF and Word, a
deterministic extraction of it. This package knows nothing about chunks, embeddings or indexes.
"""

from rag.ingest.files import collect_files
from rag.ingest.reader import SUPPORTED_SUFFIXES, Article, read_article

__all__ = ["Article", "SUPPORTED_SUFFIXES", "collect_files", "read_article"]
