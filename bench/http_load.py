"""The closed-loop HTTP load generator: `concurrency` clients each send the next GET as soon as the
last one answered, and the figures that come out of it (requests, errors, rps, p50 and p99).

    figures = asyncio.run(http_load(server.url + "/console/", cookies=..., seconds=10))
"""

from __future__ import annotations

import asyncio
import statistics
import time
from dataclasses import asdict, dataclass


@dataclass
class LoadFigures:
    requests: int
    errors: int
    seconds: float
    rps: float
    p50_ms: float
    p99_ms: float

    def as_dict(self) -> dict:
        return asdict(self)


def percentile(values: list[float], fraction: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


async def http_load(
    url: str,
    *,
    seconds: float = 10.0,
    concurrency: int = 8,
    cookies: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
    warmup: int = 10,
) -> LoadFigures:
    """Closed loop: `concurrency` clients each send the next GET as soon as the last answered.

    Anything but a 200 counts as an error."""
    import httpx

    latencies: list[float] = []
    errors = 0
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(cookies=cookies, headers=headers, limits=limits, timeout=30) as client:
        for _ in range(warmup):
            await client.get(url)
        stop_at = time.perf_counter() + seconds

        async def one_client():
            nonlocal errors
            while time.perf_counter() < stop_at:
                started = time.perf_counter()
                try:
                    response = await client.get(url)
                    ok = response.status_code == 200
                except httpx.HTTPError:
                    ok = False
                if ok:
                    latencies.append((time.perf_counter() - started) * 1000)
                else:
                    errors += 1

        began = time.perf_counter()
        await asyncio.gather(*(one_client() for _ in range(concurrency)))
        elapsed = time.perf_counter() - began
    return LoadFigures(
        requests=len(latencies),
        errors=errors,
        seconds=round(elapsed, 2),
        rps=round(len(latencies) / elapsed, 1),
        p50_ms=round(statistics.median(latencies), 2) if latencies else float("nan"),
        p99_ms=round(percentile(latencies, 0.99), 2),
    )
