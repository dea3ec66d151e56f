"""Text analysis: sentences, chunks, lexical terms, titles, reference marks, spelling.

`VERSION` names how this package splits sentences and analyses terms, and how the cleaner
(rag/ingest/clean.py) makes the paragraphs they are split from. It is part of every file's
content hash (rag/ingest/reader.py), so after a change to either the next ingest reads each file
once more instead of keeping sentences and terms the code no longer makes; passages whose text
did not change keep their vectors (rag/indexer.py), so it costs reading and chunking, and
encoding only what moved.
"""

# 1: before the version was kept. 2: a capital of any script (or "¿", "¡") after a full stop
# starts a sentence; terms are read in NFKC form (rag/text/sentences.py, rag/text/lexical.py).
# 3: the cleaner ends a line at a lone "\r" and a paragraph at a code fence, and leaves a
# byte-order mark out of the first word (rag/ingest/clean.py, which this version covers too).
VERSION = "text-3"
