# Two commands do all set-up on a fresh machine: `make run` and `make test`.
VENV   := .venv
PY     := $(VENV)/bin/python
RAG    := $(VENV)/bin/rag
STAMP  := $(VENV)/.installed
INDEX  ?= index
SQUAD  ?= ../shared/data/squad-v1.1-dev

.PHONY: install run test test-fast eval bench bench-quick bench-load clean

install: $(STAMP)
	@test -x /usr/bin/chromium || { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium; } || echo "warning: could not install chromium (apt-get, needs root); the browser tests need /usr/bin/chromium"

# constraints.txt pins torch to the CPU build; pyproject.toml leaves torch to the user.
$(STAMP): pyproject.toml constraints.txt
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c constraints.txt -e ".[test]"
	touch $(STAMP)

run: install
	$(RAG) ingest seeds/ --index $(INDEX)
	$(RAG) serve --index $(INDEX)

test: install
	$(PY) -m pytest

test-fast: install
	$(PY) -m pytest -m "not slow"

eval: install
	$(RAG) eval $(SQUAD) --limit 2000 --seed 0 --holdout-docs 0.15 --modes hybrid,dense,lexical --out eval-out --quiet
	$(PY) benchmarks/update_readme_eval.py eval-out/report.json README.md

# Speed benchmarks (issue 5): each prints a table and writes bench-out/{ingest,query,cold,load}.json.
# `bench` is the full run (1M chunks; tens of minutes on 2 cores), `bench-quick` a reduced one (< 5 min).
bench: install
	$(PY) benchmarks/ingest.py --squad $(SQUAD) --out bench-out
	$(PY) benchmarks/query.py --squad $(SQUAD) --out bench-out
	$(PY) benchmarks/cold.py --out bench-out
	$(PY) benchmarks/load.py --squad $(SQUAD) --out bench-out

bench-quick: install
	$(PY) benchmarks/ingest.py --squad $(SQUAD) --articles 6 --questions 200 --rounds 1 --out bench-out
	$(PY) benchmarks/query.py --squad $(SQUAD) --sizes 10000,100000 --queries 50 --pool-articles 12 \
		--recall-vectors 10000 --recall-queries 200 --out bench-out
	$(PY) benchmarks/cold.py --runs 2 --out bench-out
	$(PY) benchmarks/load.py --squad $(SQUAD) --quick --out bench-out

# Load alone (issue 11): clients on /api/ask while uploads run, then overload with and without the bound.
bench-load: install
	$(PY) benchmarks/load.py --squad $(SQUAD) --out bench-out

clean:
	rm -rf build eval-out bench-out .pytest_cache
