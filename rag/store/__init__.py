"""Where an index lives: snapshots in memory, version folders on disk, and the two seams a new
backend plugs into: the vector store (rag/store/vectors.py) and the lexical index
(rag/store/lexical.py)."""

from rag.store.folder import IndexFolder, check_format, check_model
from rag.store.lexical import Bm25Index, LexicalIndex
from rag.store.sentence_terms import SentenceTerms
from rag.store.snapshot import (FORMAT_VERSION, LEXICAL_ANALYZER, SENTENCE_VECTORS, Snapshot, build_lexical,
                                chunk_terms, empty_manifest, make_snapshot, now_iso, sentence_terms_of)
from rag.store.vectors import VectorStore, make_vector_store, open_vector_store

__all__ = ["Bm25Index", "FORMAT_VERSION", "IndexFolder", "LEXICAL_ANALYZER", "LexicalIndex", "SENTENCE_VECTORS",
           "SentenceTerms", "Snapshot", "VectorStore", "build_lexical", "check_format", "check_model", "chunk_terms",
           "empty_manifest", "make_snapshot", "make_vector_store", "now_iso", "open_vector_store", "sentence_terms_of"]
