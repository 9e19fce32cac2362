"""A small HTTP load generator: N keep-alive clients fetch one page over and over for a fixed time.

It runs as its own process (one asyncio loop, no threads) so that it neither shares a GIL with the code that
started it nor needs more than a sliver of a core; it reports the CPU it used, so a reader can check that.

    .venv/bin/python bench/load.py --port 8000 --path / --clients 16 --seconds 20 [--header "Cookie: ..."]

Prints one JSON object: requests, errors by kind, requests/s and latency percentiles in milliseconds.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import time
from collections import Counter

HOST = "127.0.0.1"  # the benchmark only ever talks to this machine


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bool]:
    """Reads one HTTP/1.1 response; returns its status and whether the connection stays open."""
    head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
    status = int(head[0].split()[1])
    headers = {}
    for line in head[1:]:
        if line:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip().lower()
    if "content-length" in headers:
        await reader.readexactly(int(headers["content-length"]))
    elif headers.get("transfer-encoding") == "chunked":
        while True:
            size = int((await reader.readline()).split(b";")[0], 16)
            await reader.readexactly(size + 2)  # the chunk and its CRLF (no trailers are sent)
            if size == 0:
                break
    else:
        await reader.read()  # the body ends when the server closes
        return status, False
    return status, headers.get("connection") != "close"


async def _client(port: int, request: bytes, deadline: float, latencies: list[float],
                  errors: Counter) -> None:
    reader = writer = None
    while (started := time.perf_counter()) < deadline:
        try:
            if writer is None:
                reader, writer = await asyncio.open_connection(HOST, port)
            writer.write(request)
            status, keep_alive = await _read_response(reader)
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError) as error:
            errors[type(error).__name__] += 1
            keep_alive = False
        else:
            if status == 200:
                latencies.append(time.perf_counter() - started)
            else:
                errors[f"HTTP {status}"] += 1
        if not keep_alive and writer is not None:
            writer.close()
            writer = None
    if writer is not None:
        writer.close()


def percentile(sorted_values: list[float], fraction: float) -> float:
    """The nearest-rank percentile of an ascending list."""
    if not sorted_values:
        return math.nan
    return sorted_values[max(0, math.ceil(fraction * len(sorted_values)) - 1)]


async def _run(port: int, path: str, headers: list[str], clients: int, seconds: float) -> dict:
    request = "\r\n".join([f"GET {path} HTTP/1.1", f"Host: {HOST}:{port}", "Accept-Language: vi",
                           *headers, "", ""]).encode("latin-1")
    latencies: list[float] = []
    errors: Counter = Counter()
    cpu_before, started = time.process_time(), time.perf_counter()
    deadline = started + seconds
    await asyncio.gather(*(_client(port, request, deadline, latencies, errors) for _ in range(clients)))
    elapsed = time.perf_counter() - started
    latencies.sort()
    return {
        "path": path,
        "clients": clients,
        "seconds": round(elapsed, 3),
        "requests": len(latencies),
        "errors": dict(errors),
        "rps": round(len(latencies) / elapsed, 1),
        "p50_ms": round(percentile(latencies, 0.50) * 1000, 2),
        "p95_ms": round(percentile(latencies, 0.95) * 1000, 2),
        "p99_ms": round(percentile(latencies, 0.99) * 1000, 2),
        "max_ms": round(latencies[-1] * 1000, 2) if latencies else math.nan,
        "load_generator_cpu_share": round((time.process_time() - cpu_before) / elapsed, 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--path", default="/")
    parser.add_argument("--header", action="append", default=[],
                        help='an extra request header, "Name: value"')
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=20)
    args = parser.parse_args()
    print(json.dumps(asyncio.run(_run(args.port, args.path, args.header, args.clients, args.seconds))))


if __name__ == "__main__":
    main()
