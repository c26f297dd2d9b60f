"""What the benchmark scripts share: a real server in worker processes, signed-in cookies, and
a closed-loop HTTP load that reports throughput and latency percentiles.

    with Server("asgi", workers=2, database_url=..., redis_url=...) as server:
        figures = asyncio.run(http_load(server.url + "/console/", cookies=..., seconds=10))

Servers run `bench.settings` (production settings on plain HTTP, plus the baseline pages).
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/desk_bench"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/3"
START_TIMEOUT = 60


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def setup_django(database_url: str, redis_url: str = "") -> None:
    """Configure Django in this process against the database the servers use."""
    os.environ["DATABASE_URL"] = database_url
    if redis_url:
        os.environ["REDIS_URL"] = redis_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
    if str(PROJECT_ROOT) not in sys.path:
        sys.path.insert(0, str(PROJECT_ROOT))
    import django

    django.setup()


def session_cookies(username: str) -> dict[str, str]:
    """Cookies of a signed-in session for `username` (needs `setup_django` first)."""
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.test import Client

    client = Client()
    client.force_login(get_user_model().objects.get(username=username))
    return {settings.SESSION_COOKIE_NAME: client.cookies[settings.SESSION_COOKIE_NAME].value}


class Server:
    """`with Server(kind, workers=2) as server:` the desk served at `server.url`.

    kind: "asgi" (uvicorn, HTTP and WebSockets) or "wsgi" (gunicorn, threaded workers, HTTP only).
    app: the ASGI application uvicorn serves (e.g. "bench.asgi:application" for the socket baselines).
    """

    def __init__(
        self,
        kind: str = "asgi",
        *,
        workers: int = 2,
        threads: int = 4,
        database_url: str = DEFAULT_DATABASE_URL,
        redis_url: str = DEFAULT_REDIS_URL,
        env: dict[str, str] | None = None,
        settings_module: str = "bench.settings",
        app: str = "marketplace_support.asgi:application",
    ):
        self.kind = kind
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.ws_url = f"ws://127.0.0.1:{self.port}"
        self.folder = tempfile.TemporaryDirectory(prefix=f"desk-{kind}-")
        self.log_path = Path(self.folder.name) / "server.log"
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": settings_module,
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            # Under ASGI each request's sync code runs on a pool thread and a persistent connection
            # stays with its thread, so they pile up until PostgreSQL refuses more: Django's advice
            # is none under ASGI. Gunicorn's threads keep theirs.
            "DATABASE_CONN_MAX_AGE": "60" if kind == "wsgi" else "0",
            "DJANGO_MEDIA_ROOT": str(Path(self.folder.name) / "media"),
            "DJANGO_EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
            "PYTHONUNBUFFERED": "1",
            **(env or {}),
        }
        if kind == "asgi":
            self.command = [
                str(BIN / "uvicorn"),
                app,
                "--host", "127.0.0.1", "--port", str(self.port),
                "--workers", str(workers),
                "--lifespan", "off", "--no-access-log", "--log-level", "warning",
            ]  # fmt: skip
        elif kind == "wsgi":
            self.command = [
                str(BIN / "gunicorn"),
                "marketplace_support.wsgi:application",
                "--bind", f"127.0.0.1:{self.port}",
                "--workers", str(workers), "--threads", str(threads),
                "--log-level", "warning",
            ]  # fmt: skip
        else:
            raise ValueError(f"unknown server kind {kind!r}")
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> Server:
        self.log = self.log_path.open("w")
        self.process = subprocess.Popen(
            self.command,
            cwd=PROJECT_ROOT,
            env=self.env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # one signal stops the master and its workers
        )
        self._wait_until_answering()
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop()
        self.folder.cleanup()

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=15)
        self.log.close()

    def worker_pids(self) -> list[int]:
        """The processes that serve requests: the workers, or the server itself when it has none."""
        children = []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    stat = (entry / "stat").read_text()
                except OSError:
                    continue
                if int(stat.rsplit(")", 1)[1].split()[1]) == self.process.pid:
                    children.append(int(entry.name))
        # uvicorn's supervisor may also start a resource tracker; workers are the ones serving.
        workers = [pid for pid in children if "multiprocessing.resource_tracker" not in _cmdline(pid)]
        return sorted(workers) or [self.process.pid]

    def output(self, tail: int = 4000) -> str:
        """The end of the server's log."""
        return self.log_path.read_text(errors="replace")[-tail:] if self.log_path.exists() else ""

    def _wait_until_answering(self) -> None:
        import httpx

        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.kind} server exited with {self.process.returncode}:\n{self.output()}")
            try:
                if httpx.get(f"{self.url}/bench/baseline/?rows=1", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)  # bounded by the deadline
        raise RuntimeError(f"{self.kind} server did not answer within {START_TIMEOUT}s:\n{self.output()}")


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def rss_kib(pid: int) -> int:
    """Resident memory of one process, from /proc/<pid>/status (VmRSS, KiB)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise ValueError(f"no VmRSS for {pid}")


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


def print_table(headers: list[str], rows: list[list]) -> None:
    """A plain, aligned table on stdout."""
    cells = [[str(cell) for cell in row] for row in [headers, *rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    for index, row in enumerate(cells):
        print("  ".join(cell.rjust(width) if i else cell.ljust(width) for i, (cell, width) in enumerate(zip(row, widths))))
        if index == 0:
            print("  ".join("-" * width for width in widths))


class RedisServer:
    """A private `redis-server` on a port of its own, that a fault test may kill and start again.

    `with RedisServer() as redis:` → `redis.url`; `redis.kill()` (SIGKILL: an outage, not a
    shutdown), `redis.start()` on the same port. Nothing is saved to disk.
    """

    def __init__(self, binary: str = "redis-server", port: int | None = None):
        self.binary = binary
        self.port = port or free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> RedisServer:
        self.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.kill()

    def start(self) -> None:
        command = [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.ping():
                return
            time.sleep(0.05)  # bounded by the deadline
        raise RuntimeError(f"redis-server did not answer on {self.port}")

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)

    def ping(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as conn:
                conn.sendall(b"PING\r\n")
                return conn.recv(16).startswith(b"+PONG")
        except OSError:
            return False


class TcpProxy:
    """A TCP relay on 127.0.0.1 in front of another port, that can be cut and restored.

    `cut()` drops every relayed connection and stops listening (new connections are refused), as a
    database server that went away; `restore()` listens again on the same port.
    """

    def __init__(self, target_port: int, target_host: str = "127.0.0.1"):
        import threading

        self.target = (target_host, target_port)
        self.port = free_port()
        self._lock = threading.Lock()
        self._sockets: set[socket.socket] = set()
        self._listener: socket.socket | None = None
        self.relayed = 0

    def __enter__(self) -> TcpProxy:
        self.restore()
        return self

    def __exit__(self, *exc_info) -> None:
        self.cut()

    def restore(self) -> None:
        import threading

        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(128)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def cut(self) -> None:
        with self._lock:
            listener, self._listener = self._listener, None
            doomed = list(self._sockets)
            self._sockets.clear()
        if listener is not None:
            _close(listener)
        for sock in doomed:
            _close(sock)

    def _accept(self, listener: socket.socket) -> None:
        import threading

        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # cut
            try:
                upstream = socket.create_connection(self.target, timeout=5)
                upstream.settimeout(None)
            except OSError:
                _close(client)
                continue
            with self._lock:
                if self._listener is not listener:  # cut meanwhile
                    _close(client)
                    _close(upstream)
                    return
                self._sockets.update((client, upstream))
                self.relayed += 1
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                with self._lock:
                    self._sockets.discard(sock)
                _close(sock)


def _close(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    sock.close()
