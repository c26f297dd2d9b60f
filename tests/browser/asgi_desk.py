"""A real ASGI server (daphne) for the browser tests that need WebSockets.

pytest-django's live server speaks WSGI only, and its SQLite test database lives in the test
process's memory, so the live-chat tests run against a daphne process of their own with a
throwaway SQLite file: migrated, seeded by `python -m tests.browser.asgi_desk` (this module) in
that process's environment, and served with the in-memory channel layer (one process).
"""

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT = 30  # seconds for migrate, the seed and daphne to come up


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class AsgiDesk:
    """`with AsgiDesk() as desk:` a migrated, seeded desk at `desk.url`; `desk.data` is what the
    seed made (usernames, the case's reference)."""

    def __init__(self):
        self.folder = tempfile.TemporaryDirectory(prefix="asgi-desk-")
        self.port = free_port()
        self.url = f"http://localhost:{self.port}"
        self.log_path = Path(self.folder.name) / "daphne.log"
        self.env = {
            **{name: value for name, value in os.environ.items() if name not in ("REDIS_URL", "DATABASE_URL")},
            "DJANGO_SETTINGS_MODULE": "tests.settings",
            "DATABASE_URL": f"sqlite:///{Path(self.folder.name) / 'desk.sqlite3'}",
            "DJANGO_MEDIA_ROOT": str(Path(self.folder.name) / "media"),
            "AUTO_ASSIGN_ESCALATIONS": "0",
            "DJANGO_EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
            "PYTHONUNBUFFERED": "1",
        }
        self.process = None
        self.data = {}

    def __enter__(self):
        self._run([sys.executable, "manage.py", "migrate", "--noinput"])
        self.data = json.loads(self._run([sys.executable, "-m", "tests.browser.asgi_desk"]).splitlines()[-1])
        daphne = Path(sys.executable).with_name("daphne")
        self.log = self.log_path.open("w")
        self.process = subprocess.Popen(
            [str(daphne), "-b", "127.0.0.1", "-p", str(self.port), "marketplace_support.asgi:application"],
            cwd=PROJECT_ROOT,
            env=self.env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        self._wait_until_listening()
        return self

    def __exit__(self, *exc_info):
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        if self.process is not None:
            self.log.close()
        self.folder.cleanup()

    def output(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def _run(self, command) -> str:
        done = subprocess.run(
            command, cwd=PROJECT_ROOT, env=self.env, capture_output=True, text=True, timeout=START_TIMEOUT, check=False
        )
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(command)} failed:\n{done.stdout}\n{done.stderr}")
        return done.stdout

    def _wait_until_listening(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"daphne exited with {self.process.returncode}:\n{self.output()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.1)  # bounded by the deadline
        raise RuntimeError(f"daphne did not listen on {self.port} within {START_TIMEOUT}s:\n{self.output()}")


def seed() -> dict:
    """Run inside the server's environment: a buyer whose case the seller declined (so the buyer
    may ask the platform to step in at once), an agent and a senior agent."""
    from disputes import services
    from tests import factories

    factories.dispute_policy()
    buyer = factories.UserFactory(username="bea", first_name="Bea", last_name="Byers")
    seller = factories.UserFactory(username="lampshop", first_name="Sam", last_name="Seller")
    agent = factories.agent_user(username="alex", first_name="Alex", last_name="Agenti")
    senior = factories.senior_agent_user(username="sue", first_name="Sue", last_name="Senior")
    case = factories.case(order_=factories.order(buyer=buyer, seller=seller, external_id="ORD-LIVE-1"))
    services.case_decline_claim(case=case, seller=seller, note="It was packed with care.")
    return {
        "reference": case.reference,
        "buyer": buyer.username,
        "seller": seller.username,
        "agent": agent.username,
        "senior": senior.username,
    }


if __name__ == "__main__":
    import django

    django.setup()
    print(json.dumps(seed()))
