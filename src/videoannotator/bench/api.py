"""The HTTP API against its own OpenAPI schema: schemathesis, every check, in-process.

``run(app, ...)`` drives schemathesis's engine (all phases: examples, coverage, fuzzing,
stateful; ``--checks all``) over the real app through ASGI, and counts what it found:
requests made, server errors (5xx), status codes and content types the schema does not
declare, and every other check's failures. tests/test_api_contract.py runs it bounded;
``va bench api VIDEO...`` (``bench(...)``) runs it long, as a benchmark
(docs/benchmarks.md).

Two checks are tuned, not dropped, because the schema states shapes and sizes and the
library judges meaning (server/schemas.py):

- ``positive_data_acceptance`` also accepts 422: a schema-valid name can still be refused
  by the label-name rules, ``hide_annotated`` needs ``label``, and so on, each with its
  one-line message;
- ``ensure_resource_availability`` is off: undo answers 404 "nothing to undo" on a label
  that exists, which the check takes for the label going missing.

``max_response_time`` (10 s unless set) is off too: a timing on two shared cores, not a
contract; the run reports its seconds.
"""

from __future__ import annotations

import json
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

HOST = "http://127.0.0.1"  # a loopback Host: the server refuses others without a token
POSITIVE_EXPECTED = ["2xx", "3xx", "401", "403", "404", "409", "422", "429", "5xx"]
EXCLUDED_CHECKS = ["ensure_resource_availability", "max_response_time"]
# Checks whose failures the issue counts apart: the server broke, or said what it never declared.
UNDECLARED = {"status_code_conformance": "undeclared_statuses", "content_type_conformance": "undeclared_content_types"}


def _schemathesis():
    try:
        import schemathesis
    except ImportError:
        from ..errors import MissingDependency

        raise MissingDependency("the API contract run needs schemathesis: pip install -e '.[test]'") from None
    return schemathesis


def prepare(ws) -> None:
    """Give an ingested workspace what every route can show: a built label with annotations
    and a label without a model (feeds, histogram and exports then have something to say)."""
    clips = ws.clip_count()
    if clips < 4:
        raise ValueError(f"the contract run needs a workspace with at least 4 clips, this one has {clips}")
    if not any(label["name"] == "ships" for label in ws.labels.list(include_archived=True)):
        ws.labels.create("ships", "A ship or a boat is visible", ["Sea", "Harbour"])
        ws.labels.create("no-model-yet", "Nothing built")
        ws.annotate("ships", [0, 1], "positive", "bench")
        ws.annotate("ships", [2, 3], "negative", "bench")
        ws.build("ships")
    ws.search("warm up the text model", k=1)  # the first search loads it; not what is measured


def run(
    app,
    *,
    max_examples: int = 10,
    seed: int = 0,
    workers: int = 1,
    max_failures: int = 50,
    paths: list[str] | None = None,
) -> dict:
    """One schemathesis run over ``app`` (only the operations at ``paths``, if given);
    returns the counts (see the module docstring)."""
    schemathesis = _schemathesis()
    from schemathesis import engine
    from schemathesis.engine import events

    config = schemathesis.Config.from_dict(
        {
            "base-url": HOST,
            "seed": seed,
            "workers": workers,
            "suppress-health-check": ["too_slow"],  # generation speed on shared cores is not the API's contract
            "generation": {"max-examples": max_examples, "database": "none"},
            "checks": {"positive_data_acceptance": {"expected-statuses": POSITIVE_EXPECTED}},
        }
    )
    schema = schemathesis.openapi.from_asgi("/openapi.json", app, config=config, headers={"host": "127.0.0.1"})
    schema.config.checks.update(included_check_names=["all"], excluded_check_names=EXCLUDED_CHECKS)
    if paths is not None:
        schema = schema.include(path=paths)
    started = time.perf_counter()
    requests = 0
    statuses: Counter[int] = Counter()
    failures: Counter[str] = Counter()
    errors: list[str] = []
    examples: list[str] = []
    for event in engine.from_schema(schema).execute():
        if isinstance(event, events.ScenarioFinished):
            recorder = event.recorder
            for interaction in recorder.interactions.values():
                requests += 1
                if interaction.response is not None:
                    statuses[interaction.response.status_code] += 1
            for case_id, checks in recorder.checks.items():
                for check in checks:
                    if check.status.value != "failure":
                        continue
                    failures[check.name] += 1
                    if len(examples) < max_failures:
                        examples.append(_describe(check, recorder.cases[case_id].value))
        elif isinstance(event, (events.NonFatalError, events.FatalError)):
            info = getattr(event, "info", None)
            errors.append(str(info.format() if info is not None else event)[:2000])
    return {
        "requests": requests,
        "server_errors": sum(n for status, n in statuses.items() if status >= 500),
        **{name: failures.get(check, 0) for check, name in UNDECLARED.items()},
        "check_failures": dict(sorted(failures.items())),
        "engine_errors": errors,
        "statuses": {str(status): n for status, n in sorted(statuses.items())},
        "failure_examples": examples,
        "seconds": round(time.perf_counter() - started, 1),
        "max_examples": max_examples,
        "seed": seed,
    }


def _describe(check, case) -> str:
    failure = check.failure_info.failure if check.failure_info else None
    title = getattr(failure, "title", "") or check.name
    message = (getattr(failure, "message", "") or "").replace("\n", " ")[:300]
    body = "" if type(case.body).__name__ == "NotSet" else f" body={json.dumps(case.body, default=str)[:200]}"
    return f"{check.name}: {title}: {message} <- {case.method} {case.formatted_path} query={case.query}{body}"


def bench(videos, *, requests: int = 10_000, max_examples: int = 100, home: str | None = None) -> dict:
    """Ingest ``videos`` into a fresh workspace, then repeat runs (seed 0, 1, ...) until at
    least ``requests`` requests were made; the counts are summed."""
    from ..server import create_app
    from ..workspace import Workspace

    with tempfile.TemporaryDirectory(prefix="va-bench-api-") as scratch:
        ws = Workspace(Path(home or scratch) / "home")
        ws.ingest([Path(v) for v in videos], progress=False)
        prepare(ws)
        app = create_app(ws)
        total: dict[str, Any] = {
            "requests": 0,
            "server_errors": 0,
            "undeclared_statuses": 0,
            "undeclared_content_types": 0,
            "check_failures": Counter(),
            "statuses": Counter(),
            "engine_errors": [],
            "failure_examples": [],
            "seconds": 0.0,
            "runs": 0,
            "clips": ws.clip_count(),
            "max_examples": max_examples,
        }
        seed = 0
        while total["requests"] < requests:
            result = run(app, max_examples=max_examples, seed=seed)
            for key in ("requests", "server_errors", "undeclared_statuses", "undeclared_content_types", "seconds"):
                total[key] += result[key]
            total["check_failures"].update(result["check_failures"])
            total["statuses"].update(result["statuses"])
            total["engine_errors"] += result["engine_errors"]
            total["failure_examples"] += result["failure_examples"][:10]
            total["runs"] += 1
            seed += 1
        total["check_failures"] = dict(total["check_failures"])
        total["statuses"] = dict(sorted(total["statuses"].items()))
        total["seconds"] = round(total["seconds"], 1)
        return total
