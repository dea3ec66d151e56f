"""The few errors the library raises on purpose.

Every message names what was wrong and, where there is one, the way out. The CLI turns a
`RagError` into one line on stderr and exit code 2; the UI and HTTP API show the message.
"""


class RagError(Exception):
    """Base class: something the user can fix (bad input, missing or mismatched index)."""


class InputError(RagError):
    """A question, a parameter or a file that cannot be used."""


class IndexNotFoundError(RagError):
    """No index exists at the given folder."""


class IndexMismatchError(RagError):
    """The index was built with another model, tokenizer or format version."""


class CorruptIndexError(RagError):
    """The index folder is there but cannot be read."""


class BackendError(RagError):
    """The engine that holds the vectors (a Milvus server or database) is unreachable or refused a request."""
