"""Reference marks in article text: "[1]", "[2][3]", "[note 1]", "[citation needed]", and
Markdown's footnote references ("[^1]").

Wiki pages carry them after sentences (".[1] It rises..."). Left alone they do two kinds of
harm. The sentence splitter saw no boundary in ".[1] It", so a whole paragraph became one
sentence. And an answer quoting "...South America.[1]" showed a "[1]" that is not one of its
citations, while the chat made it a link to whatever our citation 1 was. So a boundary may end
in reference marks (rag/text/sentences.py), and the text an answer shows, or a language model
reads, leaves them out (`without_reference_marks`); a citation's quote and span keep the
article's text as it is, marks included, so it still checks against the file.

Only marks of the kinds wikis and papers use count: numbers and groups of them ("[3, 4]",
"[5–7]", "[ 8 ]", "[1000]"), "note"/"nb" numbers, Markdown footnotes ("[^note]"), a single
letter right after punctuation ("."[a]), and the inline maintenance tags ("[citation needed]",
"[who?]", "[update]"). Editorial brackets inside quotations ("[his]", "friend[s]") and IPA are
text. Any bracketed number is a mark, however many digits: a "[1000]" or "[2019]" left in an
answer would read as, and in the chat link to, a citation it is not; the quote keeps it.
"""

from __future__ import annotations

import re

_TAGS = ("citation needed|clarification needed|verification needed|page needed|year needed|full citation needed|"
         "better source needed|failed verification|not in citation given|further explanation needed|update|vague|"
         "dubious|disputed|discuss|original research\\??|improper synthesis\\??|unreliable source\\??|specify|"
         "quantify|examples? needed|dead link|permanent dead link|when|who|where|which|why|how|by whom|"
         "according to whom")
# One mark: "[12]", "[3, 4]", "[5–7]", "[^1]", "[note 3]", "[nb 1]", "[citation needed]", "[who?]", or
# "[a]" after punctuation.
_NUMBERS = r"\s*\d+(?:\s*[,;–—-]\s*\d+)*\s*"
MARK = (r"\[(?:%s|\^[\w-]{1,20}|(?:note|nb|n) ?\d{1,3}|(?:%s)\??)\]|(?<=[.,;:!?\"'”’)\]])\[[a-z]\]"
        % (_NUMBERS, _TAGS))
_MARKS = re.compile(r"[ \t]*(?:%s)" % MARK, re.I)


def without_reference_marks(text: str) -> str:
    """`text` without its reference marks (and the space before one): "Oceans.[2][3] Its
    delta covers 41,000 km2 [4]." -> "Oceans. Its delta covers 41,000 km2."."""
    return _MARKS.sub("", text)
