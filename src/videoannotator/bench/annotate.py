"""`va bench annotate`: annotation load over loopback HTTP against the real server.

Each run makes a fresh workspace of a few clips (random vectors: the server does not embed
to annotate), starts the real app under uvicorn on 127.0.0.1 in a subprocess, and starts N
writer processes (standard library only) that each post M single-clip annotations, one
after another, recording the event id of every 201 and its latency. Then it reads the
catalog: acknowledged ids missing (lost), requests stored more than once (duplicated; each
request carries a unique ``source``), throughput and p50/p95 latency.

Runs alternate the catalog's ``synchronous`` between FULL (the default: the WAL is fsynced at
every commit) and NORMAL, ``rounds`` times each; the figures are medians over the rounds. With
a PostgreSQL catalog URL (``catalog_url``, else $VA_CATALOG_URL) every round also runs the same
load with the catalog there (a schema of its own, dropped after), in rotating order with the
SQLite runs, so the two backends are measured in the same run on the same machine.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from ..names import DEFAULT_DIM, DEFAULT_EMBEDDER

LABEL = "bench"
STARTUP_TIMEOUT_S = 60.0
WRITER_TIMEOUT_S = 600.0

SERVER = """
import sys
import uvicorn
from videoannotator.server.app import create_app
from videoannotator.catalog import open_catalog
from videoannotator.workspace import Workspace
home, port, synchronous, report = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
ws = Workspace(home)
if synchronous == "postgresql":  # what the server commits with: synchronous_commit, fsync
    setting = ",".join(str(ws.catalog.scalar(f"SHOW {name}")) for name in ("synchronous_commit", "fsync"))
else:  # what the server's SQLite connections really run with (FULL = 2, NORMAL = 1)
    ws.catalog = open_catalog(ws.home, synchronous=synchronous)
    setting = str(ws.catalog.connection().execute("PRAGMA synchronous").fetchone()[0])
with open(report, "w") as fh:
    fh.write(setting)
uvicorn.run(create_app(ws), host="127.0.0.1", port=port, log_level="warning", access_log=False)
"""

WRITER = """
import http.client, json, os, sys, time
port, label, name, each, clips, folder = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]), sys.argv[6]
def connect():
    return http.client.HTTPConnection("127.0.0.1", int(port), timeout=30)
conn = connect()
open(os.path.join(folder, name + ".ready"), "w").close()
deadline = time.monotonic() + 120
while not os.path.exists(os.path.join(folder, "go")) and time.monotonic() < deadline:
    time.sleep(0.002)
acked, latencies, errors = [], [], 0
start = time.time()
for i in range(each):
    body = json.dumps({"clip_ids": [(i * 7 + len(name)) % clips], "value": "positive" if i % 2 else "negative",
                       "annotator": name, "source": f"{name}:{i}"})
    t0 = time.perf_counter()
    try:
        conn.request("POST", f"/api/labels/{label}/annotations", body,
                     {"Content-Type": "application/json", "Host": f"127.0.0.1:{port}"})
        response = conn.getresponse()
        payload = response.read()
    except (OSError, http.client.HTTPException):
        errors += 1
        conn.close()
        conn = connect()
        continue
    if response.status == 201:
        latencies.append(time.perf_counter() - t0)
        data = json.loads(payload)
        events = data.get("events") or data.get("data", {}).get("events")
        acked.append([events[0]["id"], i])
    else:
        errors += 1
end = time.time()
with open(os.path.join(folder, name + ".json"), "w") as fh:
    json.dump({"acked": acked, "latencies": latencies, "errors": errors, "start": start, "end": end}, fh)
"""


POSTGRES = "postgresql"


def run(
    writers: int = 20,
    each: int = 500,
    rounds: int = 2,
    clips: int = 50,
    folder: str | None = None,
    catalog_url: str | None = None,
) -> dict:
    """Alternate FULL and NORMAL (and PostgreSQL, given a catalog URL) ``rounds`` times each;
    medians of each mode's runs."""
    from ..catalog import catalog_url as url_in_force
    from ..catalog.postgres.url import is_postgres

    if not (1 <= writers <= 200 and 1 <= each <= 100_000 and 1 <= rounds <= 20 and 1 <= clips <= 100_000):
        raise ValueError("writers 1-200, each 1-100,000, rounds 1-20, clips 1-100,000")
    url = url_in_force(catalog_url)
    if url and not is_postgres(url):
        raise ValueError("the catalog URL for the benchmark must be a postgresql:// URL")
    modes = ["FULL", "NORMAL"] + ([POSTGRES] if url else [])
    host = machine(folder)
    runs: dict[str, list[dict[str, Any]]] = {mode: [] for mode in modes}
    for r in range(rounds):
        for mode in modes[r % len(modes) :] + modes[: r % len(modes)]:  # each mode first in turn
            runs[mode].append(one_run(mode, writers, each, clips, folder, url if mode == POSTGRES else ""))
    out: dict[str, Any] = {"writers": writers, "each": each, "rounds": rounds, "clips": clips, "machine": host}
    for mode, results in runs.items():
        out[POSTGRES if mode == POSTGRES else f"synchronous={mode}"] = {
            "acknowledged": [x["acknowledged"] for x in results],
            "stored": [x["stored"] for x in results],
            "lost": [x["lost"] for x in results],
            "duplicated": [x["duplicated"] for x in results],
            "errors": [x["errors"] for x in results],
            "throughput_per_s": round(statistics.median(x["throughput_per_s"] for x in results), 1),
            "p50_ms": round(statistics.median(x["p50_ms"] for x in results), 2),
            "p95_ms": round(statistics.median(x["p95_ms"] for x in results), 2),
            "runs": results,
        }
    full, normal = out["synchronous=FULL"], out["synchronous=NORMAL"]
    out["machine"]["load_after"] = [round(x, 2) for x in os.getloadavg()]
    out["full_vs_normal"] = _ratios(full, normal)
    if url:
        from ..catalog.postgres.url import redact

        out["machine"]["postgresql"] = redact(url)
        out["postgresql_vs_full"] = _ratios(out[POSTGRES], full)
    return out


def _ratios(a: dict[str, Any], b: dict[str, Any]) -> dict[str, float]:
    return {
        "throughput_ratio": round(a["throughput_per_s"] / b["throughput_per_s"], 3),
        "p50_ratio": round(a["p50_ms"] / b["p50_ms"], 3),
        "p95_ratio": round(a["p95_ms"] / b["p95_ms"], 3),
    }


@contextmanager
def _catalog_env(url: str) -> Iterator[dict[str, str]]:
    """$VA_CATALOG_URL set to ``url`` ('' = SQLite) here and for the processes started meanwhile."""
    before = os.environ.get("VA_CATALOG_URL")
    os.environ["VA_CATALOG_URL"] = url
    try:
        yield dict(os.environ)
    finally:
        if before is None:
            os.environ.pop("VA_CATALOG_URL", None)
        else:
            os.environ["VA_CATALOG_URL"] = before


def one_run(mode: str, writers: int, each: int, clips: int, folder: str | None, url: str = "") -> dict:
    """One load run: ``mode`` FULL or NORMAL (SQLite's synchronous) or 'postgresql' (``url``)."""
    base = Path(tempfile.mkdtemp(prefix="va-bench-annotate-", dir=folder))
    server = None
    procs: list[subprocess.Popen] = []
    try:
        home, acks = base / "home", base / "acks"
        acks.mkdir()
        with _catalog_env(url) as env:
            _workspace(home, clips)
            port = _free_port()
            server = subprocess.Popen(
                [sys.executable, "-c", SERVER, str(home), str(port), mode, str(base / "server-synchronous")], env=env
            )
        _wait_ready(port, server)
        procs = [
            subprocess.Popen(
                [sys.executable, "-c", WRITER, str(port), LABEL, f"w{i}", str(each), str(clips), str(acks)]
            )
            for i in range(writers)
        ]
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while len(list(acks.glob("*.ready"))) < writers:
            if time.monotonic() > deadline or any(p.poll() not in (None, 0) for p in procs):
                raise RuntimeError("the writer processes did not start")
            time.sleep(0.01)
        go = time.time()
        (acks / "go").touch()
        codes = [p.wait(timeout=WRITER_TIMEOUT_S) for p in procs]
        if any(codes):
            raise RuntimeError(f"writer processes failed: exit codes {codes}")
        result = _verify(home, acks, go, mode, url)
        setting = (base / "server-synchronous").read_text()
        if mode == POSTGRES:
            from ..catalog.postgres.url import parse

            result["server_synchronous_commit"], result["server_fsync"] = setting.split(",")
            result["schema"] = parse(url, home).schema  # dropped below
        else:
            result["server_pragma_synchronous"] = int(setting)
        return result
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
        if server is not None and server.poll() is None:
            server.terminate()
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
        if url and (home / ".catalog-id").exists():
            _drop_schema(home, url)
        shutil.rmtree(base, ignore_errors=True)


def _drop_schema(home: Path, url: str) -> None:
    """The run's PostgreSQL schema goes with its workspace."""
    from ..catalog import open_catalog

    catalog: Any = open_catalog(home, url=url)
    try:
        catalog.connection().execute(f'DROP SCHEMA "{catalog.schema}" CASCADE')
    finally:
        catalog.close()


def _workspace(home: Path, clips: int) -> None:
    from ..workspace import Workspace
    from .synthetic import commit_random_video

    ws = Workspace(home, embedder=DEFAULT_EMBEDDER)
    commit_random_video(ws, np.random.default_rng(0), "bench", clips, DEFAULT_DIM)
    ws.labels.create(LABEL)
    ws.catalog.close()


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_ready(port: int, server: subprocess.Popen) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"the server exited with {server.returncode}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/labels", timeout=2) as response:
                if response.status == 200:
                    return
        except (OSError, urllib.error.URLError):
            time.sleep(0.1)
    raise RuntimeError("the server did not answer within a minute")


STORED = "SELECT a.id, a.annotator, a.source FROM annotations a JOIN labels l ON l.id = a.label_id WHERE l.name = ?"


def _stored(home: Path, url: str) -> list[Any]:
    """(id, annotator, source) of every event the catalog holds for the benchmark's label."""
    if url:
        from ..catalog import open_catalog

        catalog: Any = open_catalog(home, url=url)
        try:
            return [tuple(r) for r in catalog.query(STORED, (LABEL,))]
        finally:
            catalog.close()
    conn = sqlite3.connect(f"file:{home / 'catalog.sqlite'}?mode=ro", uri=True)
    try:
        return conn.execute(STORED, (LABEL,)).fetchall()
    finally:
        conn.close()


def _verify(home: Path, acks: Path, go: float, synchronous: str, url: str = "") -> dict:
    results = [json.loads(p.read_text()) for p in sorted(acks.glob("*.json"))]
    acked = {event_id: (p.stem, i) for p, r in zip(sorted(acks.glob("*.json")), results) for event_id, i in r["acked"]}
    rows = _stored(home, url)
    by_id = {r[0]: (r[1], r[2]) for r in rows}
    lost = sum(1 for event_id, (writer, i) in acked.items() if by_id.get(event_id) != (writer, f"{writer}:{i}"))
    per_request: dict[str, int] = {}
    for _, source in by_id.values():
        per_request[source] = per_request.get(source, 0) + 1
    latencies = np.array([x for r in results for x in r["latencies"]]) * 1000
    wall = max(r["end"] for r in results) - go
    return {
        "synchronous": synchronous,  # FULL, NORMAL or postgresql
        "acknowledged": len(acked),
        "stored": len(rows),
        "lost": lost,
        "duplicated": sum(n - 1 for n in per_request.values() if n > 1),
        "errors": sum(r["errors"] for r in results),
        "wall_s": round(wall, 2),
        "throughput_per_s": round(len(acked) / wall, 1) if wall > 0 else None,
        "p50_ms": round(float(np.percentile(latencies, 50)), 2) if latencies.size else None,
        "p95_ms": round(float(np.percentile(latencies, 95)), 2) if latencies.size else None,
    }


def machine(folder: str | None) -> dict:
    load = os.getloadavg()
    fs = subprocess.run(
        ["df", "-T", folder or tempfile.gettempdir()], capture_output=True, text=True, check=False
    ).stdout.splitlines()[-1:]
    return {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "load_before": [round(x, 2) for x in load],
        "filesystem": fs[0].split()[1] if fs else None,
    }
