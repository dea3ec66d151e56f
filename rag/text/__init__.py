"""Text analysis: sentences, chunks, lexical terms, titles, reference marks, spelling.

`VERSION` names how this package splits sentences and analyses terms. It is part of every file's
content hash (rag/ingest/reader.py), so after a change to either the next ingest reads each file
once more instead of keeping sentences and terms the code no longer makes; passages whose text
did not change keep their vectors (rag/indexer.py), so it costs reading and chunking, and
encoding only what moved.
"""

# 1: before the version was kept. 2: a capital of any script (or "¿", "¡") after a full stop
# starts a sentence; terms are read in NFKC form (rag/text/sentences.py, rag/text/lexical.py).
VERSION = "text-2"
