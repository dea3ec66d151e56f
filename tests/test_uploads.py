"""The uploads folder (ui/uploads.py): a re-upload that the index does not take leaves the old copy,
whose text the index still holds, so its citations keep checking."""

from __future__ import annotations

import pytest

from conftest import assert_citations_verified, make_assistant
from rag.errors import InputError
from ui.uploads import Inbox, Upload

BRIDGE = ("Zorblat Bridge\n\nThe Zorblat bridge in Kettleford was completed in 1911.\n\n"
          "The Zorblat bridge is 340 meters long and crosses the river Quell.\n")
QUESTION = "How long is the Zorblat bridge?"


def test_a_failed_re_upload_puts_the_old_copy_back(tmp_path, embedder):
    index = tmp_path / "index"
    inbox = Inbox(make_assistant(index, embedder))
    report, rejected = inbox.ingest([Upload("bridge.txt", BRIDGE.encode())])
    assert report.added == ["bridge.txt"] and not rejected
    # The same index opened with other chunking settings refuses to ingest (a real failure, after
    # the file has been checked and written).
    other = Inbox(make_assistant(index, embedder, chunk_tokens=120))
    edited = "Editor's note: updated.\n\n" + BRIDGE
    with pytest.raises(InputError, match="chunked with"):
        other.ingest([Upload("bridge.txt", edited.encode())])
    assert (index / "uploads" / "bridge.txt").read_text() == BRIDGE
    answer = other.assistant.ask(QUESTION)
    assert not answer.abstained and "340 meters" in answer.answer
    assert_citations_verified(answer)
    # A new file the index did not take is removed, not left behind.
    with pytest.raises(InputError):
        other.ingest([Upload("ferry.txt", b"Quell ferry\n\nThe ferry carries 90 passengers.\n")])
    assert not (index / "uploads" / "ferry.txt").exists()
    # And an upload that works replaces the copy.
    report, _ = inbox.ingest([Upload("bridge.txt", edited.encode())])
    assert report.updated == ["bridge.txt"]
    assert (index / "uploads" / "bridge.txt").read_text() == edited
    assert_citations_verified(inbox.assistant.ask(QUESTION))


def test_a_save_that_fails_part_way_puts_every_old_copy_back(tmp_path, embedder):
    # Found by the review of the fix above: the saves ran before the try that restores.
    index = tmp_path / "index"
    inbox = Inbox(make_assistant(index, embedder))
    inbox.ingest([Upload("bridge.txt", BRIDGE.encode())])
    (index / "uploads" / "ferry.txt").mkdir()  # the second save cannot replace a folder: a real OSError
    with pytest.raises(IsADirectoryError, match="ferry.txt"):
        inbox.ingest([Upload("bridge.txt", ("Editor's note.\n\n" + BRIDGE).encode()),
                      Upload("ferry.txt", b"Quell ferry\n\nThe ferry carries 90 passengers.\n")])
    assert (index / "uploads" / "bridge.txt").read_text() == BRIDGE
    assert (index / "uploads" / "ferry.txt").is_dir()  # not ours: left as it was
    assert_citations_verified(inbox.assistant.ask(QUESTION))
