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
