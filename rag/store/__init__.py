"""Where an index lives: snapshots in memory, version folders on disk, the vector index seam."""

from rag.store.folder import IndexFolder, check_format, check_model
from rag.store.snapshot import FORMAT_VERSION, LEXICAL_ANALYZER, SENTENCE_VECTORS, Snapshot, build_bm25, empty_manifest, make_snapshot, now_iso

__all__ = ["FORMAT_VERSION", "LEXICAL_ANALYZER", "SENTENCE_VECTORS", "IndexFolder", "Snapshot", "build_bm25", "check_format", "check_model",
           "empty_manifest", "make_snapshot", "now_iso"]
