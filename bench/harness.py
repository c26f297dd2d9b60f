"""What the benchmark scripts share: a real server in worker processes, signed-in cookies, a
plain table printer, and (re-exported from `bench.http_load`) a closed-loop HTTP load that reports
throughput and latency percentiles.

    with Server("asgi", workers=2, database_url=..., redis_url=...) as server:
        figures = asyncio.run(http_load(server.url + "/console/", cookies=..., seconds=10))

Servers run `bench.settings` (production settings on plain HTTP, plus the baseline pages). The
fault helpers (a private Redis to kill, a TCP proxy to cut) are in `bench.outages`.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

if __package__ in (None, ""):  # imported from bench/ itself rather than as bench.harness
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

# Re-exported: pages.py and chat.py import the load generator from here.
from bench.http_load import LoadFigures, http_load, percentile  # noqa: E402, F401

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

    kind: "asgi" (uvicorn, HTTP and WebSockets) or "wsgi" (gunicorn, HTTP only; one thread a
    worker by default, as the README's production layout runs it).
    app: the ASGI application uvicorn serves (e.g. "bench.asgi:application" for the socket baselines).
    """

    def __init__(
        self,
        kind: str = "asgi",
        *,
        workers: int = 2,
        threads: int = 1,
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
            # is none under ASGI. Gunicorn's workers keep theirs.
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

    @property
    def ws_urls(self) -> list[str]:
        return [self.ws_url]

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


class Servers:
    """`with Servers(count, ...) as servers:` `count` one-worker servers (`Server`'s options), each on
    a port of its own, for a client to spread its sockets over evenly (`ws_urls`), as a proxy
    balancing by least connections does. One uvicorn with `--workers` shares one listening socket,
    and the kernel hands each connection to whichever worker accepts first: 19 of 20 sockets to one
    worker in a burst, 52-63 % of 100. A socket stays where it landed, so the busier worker carries
    that share of the messages for as long as the sockets stay open."""

    def __init__(self, count: int, **options):
        self.servers = [Server(workers=1, **options) for _ in range(count)]
        self.url = self.servers[0].url
        self._stack = ExitStack()

    @property
    def ws_urls(self) -> list[str]:
        return [server.ws_url for server in self.servers]

    def __enter__(self) -> Servers:
        with ExitStack() as stack:
            for server in self.servers:
                stack.enter_context(server)
            self._stack = stack.pop_all()
        return self

    def __exit__(self, *exc_info) -> None:
        self._stack.close()

    def worker_pids(self) -> list[int]:
        return [pid for server in self.servers for pid in server.worker_pids()]

    def output(self, tail: int = 4000) -> str:
        return "\n".join(server.output(tail // len(self.servers)) for server in self.servers)


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


def cpu_seconds(pids: list[int]) -> float:
    """User and system CPU the processes have used so far, from /proc/<pid>/stat."""
    ticks = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


def print_table(headers: list[str], rows: list[list]) -> None:
    """A plain, aligned table on stdout."""
    cells = [[str(cell) for cell in row] for row in [headers, *rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    for index, row in enumerate(cells):
        print(
            "  ".join(cell.rjust(width) if i else cell.ljust(width) for i, (cell, width) in enumerate(zip(row, widths)))
        )
        if index == 0:
            print("  ".join("-" * width for width in widths))
