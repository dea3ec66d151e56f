"""The CLI through main([...]): outputs, JSON schema, errors with exit code 2."""

from __future__ import annotations

import json
import shutil

import pytest

from conftest import SEED_FILE
from rag.cite.verify import citation_problem_for
from rag.cli import main
from rag.types import Citation


@pytest.fixture(scope="module")
def cli_index(tmp_path_factory):
    corpus = tmp_path_factory.mktemp("cli-corpus")
    shutil.copy(SEED_FILE, corpus / SEED_FILE.name)
    index = tmp_path_factory.mktemp("cli-index")
    assert main(["ingest", str(corpus), "--index", str(index), "--quiet"]) == 0
    return index, corpus


def test_ask_json_matches_schema_and_citations_verify(cli_index, capsys):
    index, _ = cli_index
    capsys.readouterr()
    assert main(["ask", "How long did the missile stay airborne?", "--index", str(index), "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    # The keys of issue 1, then who answered (issue 9); "sentences" only for a language model's answer.
    assert set(d) == {"question", "answer", "abstained", "citations", "hits", "timings_ms", "answerer"}
    assert d["answerer"] == {"kind": "extractive", "model": None, "fallback": None, "message": None}
    assert d["citations"] and not d["abstained"]
    for c in d["citations"]:
        assert citation_problem_for(Citation(**c)) is None


def test_ask_says_how_it_read_a_misspelt_question(cli_index, capsys):
    index, _ = cli_index
    capsys.readouterr()
    assert main(["ask", "How long did the misslie stay airborne?", "--index", str(index)]) == 0
    out = capsys.readouterr()
    assert "(read as: How long did the missile stay airborne?)" in out.err
    assert "86 minutes" in out.out
    assert main(["ask", "Hi! How long did the missile stay airborne?", "--index", str(index)]) == 0
    assert "read as" not in capsys.readouterr().err  # only a corrected word is worth saying


def test_search_stats_and_text_output(cli_index, capsys):
    index, _ = cli_index
    assert main(["search", "Kursk troops", "--index", str(index), "-k", "2", "--json"]) == 0
    hits = json.loads(capsys.readouterr().out)
    assert len(hits) == 2 and hits[0]["rank"] == 1
    assert main(["stats", "--index", str(index)]) == 0
    assert "1 documents" in capsys.readouterr().out
    assert main(["ask", "What did Zelensky say about China?", "--index", str(index)]) == 0
    assert "[1]" in capsys.readouterr().out


@pytest.mark.parametrize("argv,needle", [
    (["ask", ""], "question is empty"),
    (["ask", "troops?", "-k", "0"], "k must be"),
    (["search", "   "], "query is empty"),
    (["remove", "no-such-doc"], "no document"),
])
def test_errors_are_one_line_and_exit_2(cli_index, capsys, argv, needle):
    index, _ = cli_index
    assert main(argv + ["--index", str(index)]) == 2
    err = capsys.readouterr().err
    assert needle in err and len(err.strip().splitlines()) == 1


def test_missing_index_and_unreadable_path(tmp_path, capsys):
    assert main(["ask", "troops?", "--index", str(tmp_path / "none")]) == 2
    assert "no index" in capsys.readouterr().err
    assert main(["ingest", str(tmp_path / "missing"), "--index", str(tmp_path / "i")]) == 2
    assert "no such file" in capsys.readouterr().err
    assert not (tmp_path / "i" / "CURRENT").exists()


def test_a_folder_without_articles_is_an_error_and_creates_no_index(cli_index, tmp_path, capsys):
    # Found by review: a folder of other files (or none) "succeeded" with exit 0 and no index.
    other, empty = tmp_path / "other", tmp_path / "empty"
    other.mkdir()
    empty.mkdir()
    (other / "table.csv").write_text("a,b\n1,2\n", encoding="utf-8")
    for folder in (other, empty):
        assert main(["ingest", str(folder), "--index", str(tmp_path / "i"), "--quiet"]) == 2
        err = capsys.readouterr().err
        assert "no article files here" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "i").exists()
    # A file that is skipped: exit 2, and the summary does not point at an index as if one was made.
    (other / "empty.txt").write_text("", encoding="utf-8")
    assert main(["ingest", str(other / "empty.txt"), "--index", str(tmp_path / "i"), "--quiet"]) == 2
    out = capsys.readouterr()
    assert "nothing was indexed" in out.out and "->" not in out.out and "empty file" in out.err
    # With an index whose files were all deleted, --prune still empties it.
    doc = empty / "note.md"
    doc.write_text("Quell ferry\n\nThe ferry carries 90 passengers.\n", encoding="utf-8")
    assert main(["ingest", str(empty), "--index", str(tmp_path / "i"), "--quiet"]) == 0
    doc.unlink()
    capsys.readouterr()
    assert main(["ingest", str(empty), "--index", str(tmp_path / "i"), "--prune", "--json", "--quiet"]) == 0
    assert json.loads(capsys.readouterr().out)["removed"] == ["note.md"]


def test_ask_warns_when_a_cited_file_changed_since_it_was_indexed(tmp_path, capsys):
    # Found by review: after an edit, `ask` printed offsets that no longer matched the file, silently.
    corpus = tmp_path / "c"
    corpus.mkdir()
    note = corpus / "lighthouse.txt"
    note.write_text("The harbour lighthouse was built in 1872.\n\nIt is 30 meters tall.\n", encoding="utf-8")
    index = str(tmp_path / "i")
    assert main(["ingest", str(corpus), "--index", index, "--quiet"]) == 0
    assert main(["ask", "How tall is the lighthouse?", "--index", index]) == 0
    assert "warning" not in capsys.readouterr().err
    note.write_text("Back then the harbour lighthouse was built in 1872.\n\nIt is 30 meters tall.\n", encoding="utf-8")
    assert main(["ask", "How tall is the lighthouse?", "--index", index]) == 0
    assert f"warning: {note} changed or was removed since it was indexed" in capsys.readouterr().err
    note.unlink()
    assert main(["ask", "How tall is the lighthouse?", "--index", index, "--json"]) == 0
    out = capsys.readouterr()
    assert json.loads(out.out)["citations"] and "changed or was removed" in out.err


def test_inputs_that_were_tracebacks_are_one_line_and_exit_2(cli_index, tmp_path, capsys, monkeypatch):
    """Found by review: each of these raised a Python exception instead of saying what is wrong."""
    import socket

    index, corpus = cli_index

    def one_line_error(argv: list[str], needle: str) -> None:
        assert main(argv) == 2, argv
        err = capsys.readouterr().err
        assert needle in err and len(err.strip().splitlines()) == 1, (argv, err)

    for mb in ("nan", "inf", "-1", "0"):
        one_line_error(["ingest", str(corpus), "--index", str(tmp_path / "i"), "--max-file-mb", mb, "--quiet"],
                       "must be a positive number of megabytes")
    monkeypatch.setenv("RAG_MAX_FILE_MB", "inf")
    one_line_error(["ingest", str(corpus), "--index", str(tmp_path / "i"), "--quiet"], "RAG_MAX_FILE_MB")
    monkeypatch.delenv("RAG_MAX_FILE_MB")
    assert not (tmp_path / "i" / "CURRENT").exists()

    a_file = tmp_path / "not-a-folder"
    a_file.write_text("x", encoding="utf-8")
    for argv in (["ask", "troops?"], ["ingest", str(corpus)], ["stats"], ["serve"]):
        one_line_error(argv + ["--index", str(a_file)], "is a file, not an index folder")
    assert a_file.read_text(encoding="utf-8") == "x"

    one_line_error(["serve", "--index", str(index), "--port", "99999"], "--port must be a number from 1 to 65535")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        one_line_error(["serve", "--index", str(index), "--port", str(port)], f"cannot listen on 127.0.0.1:{port}")


def test_an_unreadable_sidecar_skips_its_file(tmp_path, capsys):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "a.txt").write_text("The bridge is 340 meters long.\n", encoding="utf-8")
    assert main(["ingest", str(corpus), "--index", str(tmp_path / "i"), "--quiet"]) == 0
    (corpus / "a.meta.json").symlink_to("/proc/self/mem")  # a file whose reading fails, also as root
    capsys.readouterr()
    assert main(["ingest", str(corpus), "--index", str(tmp_path / "i"), "--quiet"]) == 2
    assert "unreadable metadata sidecar" in capsys.readouterr().err
    assert main(["ask", "How long is the bridge?", "--index", str(tmp_path / "i")]) == 0  # the index is as it was


def test_eval_errors_exit_2(tmp_path, capsys):
    assert main(["eval", str(tmp_path / "no-such-set"), "--quiet"]) == 2
    assert "no such dataset" in capsys.readouterr().err
    assert main(["eval", str(tmp_path), "--modes", "hybrid,fuzzy", "--quiet"]) == 2
    assert "unknown mode" in capsys.readouterr().err


def test_import_rag_does_not_import_torch():
    import subprocess
    import sys

    code = "import sys, rag; rag.Assistant; print('torch' in sys.modules, 'faiss' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False False"
