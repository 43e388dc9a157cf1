"""Ingest and search figures of the vector stores, the reference server beside a real release.

    python bench/retrieval.py [--files 1000] [--corpus-files 100] [--searches 200] [--releases]

Each target is the suite's ``core`` scenario, started through the suite's own launcher (the
reference server, and with ``--releases`` llama-stack 0.7.3 from the release launcher's cached
venv) in front of the same fake Ollama, so every target embeds with the same fake backend and the
figures compare the servers, not the models. Prints figures; asserts nothing.

- ingest: upload + attach (+ chunk, embed, index) of ``--files`` text files of ~2 KB, one after
  the other over one keep-alive connection; files per second and the per-file p50/p99.
- search: ``--searches`` queries against a store of ``--corpus-files`` files of 10,000 one-token
  words each, chunked statically by 100 tokens (about 100 chunks a file, 10,000 in all with the
  defaults); per-query p50/p99.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from run import measure_new_processes  # noqa: E402

from conformance.launchers.choose import launcher_from_option  # noqa: E402
from conformance.scenarios import ScenarioPool  # noqa: E402

FIXTURES = ROOT / "fixtures"
RELEASE = "llama-stack-0.7"
# Words that are one token each in cl100k_base and one word to the reference's chunker, so both
# servers cut the corpus into the same number of chunks.
WORDS = [
    "the",
    "river",
    "stone",
    "light",
    "house",
    "field",
    "green",
    "water",
    "north",
    "south",
    "east",
    "west",
    "morning",
    "evening",
    "bread",
    "salt",
    "road",
    "hill",
    "tree",
    "bird",
    "song",
    "cloud",
    "rain",
    "wind",
    "fire",
    "snow",
    "iron",
    "gold",
    "paper",
    "glass",
    "table",
    "chair",
    "door",
    "window",
]
STATIC_100 = {"type": "static", "static": {"max_chunk_size_tokens": 100, "chunk_overlap_tokens": 0}}


def text(rng: random.Random, words: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(words))


def ok(answer: httpx.Response) -> Any:
    if answer.status_code != 200:
        raise SystemExit(f"{answer.request.method} {answer.request.url.path}: {answer.status_code} {answer.text[:300]}")
    return answer.json()


def ingest(client: httpx.Client, store: str, body: str, strategy: dict[str, Any] | None = None) -> float:
    """Upload one file and attach it; the seconds it took. A file that is not indexed stops the bench."""
    start = time.perf_counter()
    upload = {"file": ("bench.txt", body.encode())}
    uploaded = ok(client.post("/v1/files", files=upload, data={"purpose": "assistants"}))
    attach = {"file_id": uploaded["id"], **({"chunking_strategy": strategy} if strategy else {})}
    attached = ok(client.post(f"/v1/vector_stores/{store}/files", json=attach))
    if attached.get("status") != "completed":
        raise SystemExit(f"a file was not indexed: {json.dumps(attached)[:300]}")
    return time.perf_counter() - start


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def measure(url: str, args: argparse.Namespace) -> dict[str, Any]:
    rng = random.Random(7)
    with httpx.Client(base_url=url, timeout=120) as client:
        store = ok(client.post("/v1/vector_stores", json={"name": "ingest"}))["id"]
        started = time.perf_counter()
        per_file = [ingest(client, store, text(rng, 330)) for _ in range(args.files)]  # ~2 KB each
        ingest_s = time.perf_counter() - started
        corpus = ok(client.post("/v1/vector_stores", json={"name": "corpus"}))["id"]
        for _ in range(args.corpus_files):
            ingest(client, corpus, text(rng, 10_000), STATIC_100)
        searches = []
        for _ in range(args.searches):
            start = time.perf_counter()
            ok(client.post(f"/v1/vector_stores/{corpus}/search", json={"query": text(rng, 12), "max_num_results": 10}))
            searches.append(time.perf_counter() - start)
    return {
        "files": args.files,
        "ingest_s": round(ingest_s, 2),
        "files_per_s": round(args.files / ingest_s, 1),
        "ingest_p50_ms": round(statistics.median(per_file) * 1000, 1),
        "ingest_p99_ms": round(percentile(per_file, 0.99) * 1000, 1),
        "corpus_chunks": args.corpus_files * 100,
        "search_p50_ms": round(statistics.median(searches) * 1000, 2),
        "search_p99_ms": round(percentile(searches, 0.99) * 1000, 2),
    }


def run_target(name: str, args: argparse.Namespace) -> dict[str, Any]:
    launcher = launcher_from_option(name, None, FIXTURES)
    why = launcher.prepare(install=True)
    if why is not None:
        return {"target": name, "unavailable": why}
    pool = ScenarioPool(launcher, FIXTURES, timeout=120)
    try:
        launched = pool.launch("core")
        return {"target": name, **measure(launched.url, args)}
    finally:
        pool.close()


def main() -> int:
    parser = argparse.ArgumentParser(prog="python bench/retrieval.py")
    parser.add_argument("--files", type=int, default=1000, help="~2 KB text files to upload and attach")
    parser.add_argument("--corpus-files", type=int, default=100, help="files of ~100 chunks each to search in")
    parser.add_argument("--searches", type=int, default=200)
    parser.add_argument("--releases", action="store_true", help=f"also measure {RELEASE} (release launcher)")
    parser.add_argument("--json", type=Path, help="write the figures as JSON to this file")
    args = parser.parse_args()
    measure_new_processes()
    rows = [run_target(name, args) for name in ["reference", *([RELEASE] if args.releases else [])]]
    print("| target | ingest files/s | ingest p50 / p99 ms | chunks searched | search p50 / p99 ms |")
    print("|---|---|---|---|---|")
    for row in rows:
        if "unavailable" in row:
            print(f"| {row['target']} | unavailable: {row['unavailable']} | | | |")
            continue
        print(
            f"| {row['target']} | {row['files_per_s']} ({row['files']} in {row['ingest_s']} s) "
            f"| {row['ingest_p50_ms']} / {row['ingest_p99_ms']} | {row['corpus_chunks']} "
            f"| {row['search_p50_ms']} / {row['search_p99_ms']} |"
        )
    measured = [row for row in rows if "unavailable" not in row]
    if len(measured) == 2:
        ours, theirs = measured
        print(
            f"\nreference vs {theirs['target']}: ingest {ours['files_per_s'] / theirs['files_per_s']:.1f}x faster, "
            f"search p50 {theirs['search_p50_ms'] / ours['search_p50_ms']:.1f}x lower"
        )
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
