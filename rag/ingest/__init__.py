"""Ingestion: finding article files and turning each into clean text mapped to its raw file.

This package knows nothing about chunks, embeddings or indexes.
"""

from rag.ingest.files import collect_files
from rag.ingest.reader import SUPPORTED_SUFFIXES, Article, read_article

__all__ = ["Article", "SUPPORTED_SUFFIXES", "collect_files", "read_article"]
