"""Throughput and latency of `peftspec serve`, batched against unbatched, in one process.

Serves one trained run (the quick-start MiniLM by default: pass its run directory) on 127.0.0.1,
and sends it the same load twice: N concurrent clients, each M requests of 1-16 texts. First with
the server's batching (requests that arrive within `--max-wait-ms` are joined into one forward
pass), then with batching off (`max_batch_rows = 1`: every request is its own forward pass).
Reports texts/s and p50/p99 request latency for each, and the ratios.

    python benchmarks/serve_load.py runs/quickstart-... [--clients 8] [--requests 50] [--json out.json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from peftspec.serve.app import create_app
from peftspec.serve.loading import load_served
from peftspec.serve.options import ServeOptions
from tests.helpers.server import running


def texts_of(run_dir: Path) -> list[str]:
    from peftspec.runs import read_run

    frame = read_run(run_dir).predictions()
    return list(frame["text"]) if frame is not None else [f"sample text number {i}" for i in range(200)]


async def load(url: str, model: str, texts: list[str], clients: int, requests: int) -> dict:
    import httpx

    latencies: list[float] = []
    sent = 0

    async def client(seed: int) -> None:
        nonlocal sent
        rng = random.Random(seed)
        async with httpx.AsyncClient(base_url=url, timeout=120) as http:
            for _ in range(requests):
                batch = rng.sample(texts, rng.randint(1, 16))
                start = time.perf_counter()
                answer = await http.post("/v1/classify", json={"texts": batch, "model": model})
                latencies.append(time.perf_counter() - start)
                answer.raise_for_status()
                sent += len(batch)

    start = time.perf_counter()
    await asyncio.gather(*(client(seed) for seed in range(clients)))
    wall = time.perf_counter() - start
    latencies.sort()
    return {
        "texts": sent,
        "requests": len(latencies),
        "wall_s": round(wall, 3),
        "texts_per_s": round(sent / wall, 1),
        "p50_ms": round(1000 * statistics.median(latencies), 1),
        "p99_ms": round(1000 * latencies[int(0.99 * (len(latencies) - 1))], 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", type=Path)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    served = load_served([args.run])
    texts = texts_of(args.run)
    results = {}
    arms = {"batched": ServeOptions(), "unbatched": ServeOptions(max_batch_rows=1)}
    for name, options in arms.items():
        with running(create_app(served, options)) as (url, _):
            asyncio.run(load(url, served[0].run_id, texts, 1, 5))  # warm up
            results[name] = asyncio.run(load(url, served[0].run_id, texts, args.clients, args.requests))
        print(name, results[name], flush=True)
    b, u = results["batched"], results["unbatched"]
    results["ratios"] = {
        "throughput": round(b["texts_per_s"] / u["texts_per_s"], 2),
        "p50_latency": round(b["p50_ms"] / u["p50_ms"], 2),
        "p99_latency": round(b["p99_ms"] / u["p99_ms"], 2),
    }
    results["setup"] = {"run": args.run.name, "clients": args.clients, "requests_per_client": args.requests}
    print(json.dumps(results, indent=2))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
