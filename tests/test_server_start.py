"""The page and socket servers set what they loaded at start aside from the garbage collector, so
a full collection walks only what came after (it paused a busy chat worker ~90 ms)."""

import pytest

from tests.processes import run_python


@pytest.mark.parametrize("module", ["marketplace_support.wsgi", "marketplace_support.asgi"])
def test_a_server_module_freezes_what_it_loaded(module):
    done = run_python(["-c", f"import gc, {module}; print(gc.get_freeze_count())"])
    assert done.returncode == 0, done.stderr
    assert int(done.stdout.split()[-1]) > 10_000  # Django and the desk's modules, not a handful
