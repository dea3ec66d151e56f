"""API fuzzing from the OpenAPI schema against a real server (schemathesis + hypothesis).

Every operation of /openapi.json gets generated requests, both ones that fit the schema and
ones that break it (wrong types, missing fields, odd strings). The server must never answer
5xx, and every answer that is not a success must be a JSON object with an "error" message.
Bounded (max_examples, derandomized) so it takes under a minute on 2 cores; it prints the
counts that the README quotes.
"""

from __future__ import annotations

import shutil
from collections import Counter

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode

from conftest import SEEDS, make_assistant
from ui.server import ServerThread, create_app

pytestmark = pytest.mark.slow

EXAMPLES = {GenerationMode.POSITIVE: 250, GenerationMode.NEGATIVE: 250}


@pytest.fixture(scope="module")
def server(tmp_path_factory, embedder):
    corpus = tmp_path_factory.mktemp("fuzz-corpus")
    for f in SEEDS.iterdir():
        shutil.copy(f, corpus / f.name)
    # Generated URLs go nowhere (no network here): a short fetch timeout keeps each such request
    # bounded, so a shared, busy machine cannot push one past the client's timeout.
    assistant = make_assistant(tmp_path_factory.mktemp("fuzz") / "index", embedder, url_timeout=2.0)
    assistant.ingest([corpus])
    with ServerThread(create_app(assistant)) as url:
        yield url


@pytest.mark.parametrize("mode", list(EXAMPLES), ids=lambda m: m.value)
def test_fuzzed_requests_never_get_a_5xx_and_errors_are_json(server, mode):
    schema = schemathesis.openapi.from_url(f"{server}/openapi.json")
    seen: Counter[str] = Counter()
    problems: list[str] = []

    @settings(max_examples=EXAMPLES[mode], deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    @given(case=schema.as_strategy(generation_mode=mode))
    def run(case):
        response = case.call(base_url=server, timeout=60)
        seen[f"{case.method} {case.path} {response.status_code}"] += 1
        where = f"{case.method} {case.formatted_path} -> {response.status_code}"
        if response.status_code >= 500:
            problems.append(f"{where}: {response.text[:200]}")
        elif response.status_code >= 400:
            try:
                body = response.json()
            except ValueError:
                problems.append(f"{where}: not JSON: {response.text[:200]!r}")
                return
            if not (isinstance(body, dict) and isinstance(body.get("error"), str)):
                problems.append(f"{where}: no error message: {body!r:.200}")

    run()
    total = sum(seen.values())
    fivexx = sum(n for k, n in seen.items() if k.endswith(tuple(f" {s}" for s in range(500, 600))))
    print(f"\nschemathesis {mode.value}: {total} requests over {len({k.rsplit(' ', 1)[0] for k in seen})} "
          f"operations, {fivexx} answered 5xx, {len(problems)} problems")
    for k, n in sorted(seen.items()):
        print(f"  {n:5d}  {k}")
    assert total >= EXAMPLES[mode] // 2
    assert not problems, "\n".join(problems[:20])
