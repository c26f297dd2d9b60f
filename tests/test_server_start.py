"""The page and socket servers set what they loaded at start aside from the garbage collector, so
a full collection walks only what came after (it paused a busy chat worker ~90 ms)."""

import os
import subprocess
import sys

import pytest
from django.conf import settings


@pytest.mark.parametrize("module", ["marketplace_support.wsgi", "marketplace_support.asgi"])
def test_a_server_module_freezes_what_it_loaded(module):
    done = subprocess.run(
        [sys.executable, "-c", f"import gc, {module}; print(gc.get_freeze_count())"],
        cwd=settings.BASE_DIR,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert int(done.stdout.split()[-1]) > 10_000  # Django and the desk's modules, not a handful
