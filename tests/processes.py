"""The project's Python run as a separate process, for what only a fresh process shows (start-up,
signal receivers connected at import, deploy checks)."""

import os
import subprocess
import sys

from django.conf import settings


def run_python(
    args: list[str], *, env: dict[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess:
    """`python <args>` in the project's folder; by default in this environment with the test settings."""
    if env is None:
        env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings"}
    return subprocess.run(
        [sys.executable, *args], cwd=settings.BASE_DIR, env=env, capture_output=True, text=True, timeout=timeout
    )
