"""The settings as production reads them: deploy checks, refusals, migrations, channel layer.

Each settings check runs `marketplace_support.settings` in a fresh interpreter (a subprocess),
because settings are read once per process from the environment.
"""

import io
import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command

BASE_DIR = Path(__file__).resolve().parent.parent

PRINT_SETTINGS = """
import json
import django
from django.conf import settings
django.setup()
from channels.layers import get_channel_layer
layer = get_channel_layer()
print(json.dumps({
    "DEBUG": settings.DEBUG,
    "CHANNEL_LAYERS": settings.CHANNEL_LAYERS,
    "layer_class": f"{type(layer).__module__}.{type(layer).__qualname__}",
    "SESSION_COOKIE_SECURE": settings.SESSION_COOKIE_SECURE,
    "CSRF_COOKIE_SECURE": settings.CSRF_COOKIE_SECURE,
    "SECURE_SSL_REDIRECT": settings.SECURE_SSL_REDIRECT,
    "SECURE_HSTS_SECONDS": settings.SECURE_HSTS_SECONDS,
    "ALLOWED_HOSTS": settings.ALLOWED_HOSTS,
}))
"""


def clean_env(**values: str) -> dict[str, str]:
    """This process's environment without any DJANGO_* or REDIS_URL setting, plus `values`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_") and k != "REDIS_URL"}
    env.update(values)
    return env


def production_env(**values: str) -> dict[str, str]:
    """DEBUG unset, a long random secret key, a real host name, the project's own settings."""
    return clean_env(
        DJANGO_SECRET_KEY=secrets.token_urlsafe(64),  # 86 characters
        DJANGO_ALLOWED_HOSTS="desk.example.com",
        DJANGO_SETTINGS_MODULE="marketplace_support.settings",
        **values,
    )


def run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, *args], cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=120
    )


def read_settings(env: dict[str, str]) -> dict:
    result = run(["-c", PRINT_SETTINGS], env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_check_deploy_reports_no_issues():
    result = run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], production_env())

    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "System check identified no issues" in output, output


def test_production_settings_are_locked_down():
    values = read_settings(production_env())

    assert values["DEBUG"] is False
    assert values["ALLOWED_HOSTS"] == ["desk.example.com"]
    assert values["SESSION_COOKIE_SECURE"] is True
    assert values["CSRF_COOKIE_SECURE"] is True
    assert values["SECURE_SSL_REDIRECT"] is True
    assert values["SECURE_HSTS_SECONDS"] >= 31536000


@pytest.mark.parametrize(
    "values",
    [{}, {"DJANGO_DEBUG": "0"}, {"DJANGO_DEBUG": "false", "DJANGO_SECRET_KEY": ""}],
    ids=["debug-unset", "debug-off", "empty-key"],
)
def test_settings_refuse_to_start_without_a_secret_key_when_debug_is_off(values):
    env = clean_env(DJANGO_SETTINGS_MODULE="marketplace_support.settings", **values)

    result = run(["manage.py", "check"], env)

    assert result.returncode != 0, result.stdout
    assert "DJANGO_SECRET_KEY" in result.stderr


def test_debug_mode_starts_without_a_secret_key():
    values = read_settings(clean_env(DJANGO_SETTINGS_MODULE="marketplace_support.settings", DJANGO_DEBUG="1"))

    assert values["DEBUG"] is True


def test_no_missing_migrations(db):
    out = io.StringIO()
    try:
        call_command("makemigrations", "--check", "--dry-run", stdout=out, stderr=out)
    except SystemExit as exit_:
        pytest.fail(f"Models have changes without a migration (exit {exit_.code}):\n{out.getvalue()}")
    assert "No changes detected" in out.getvalue()


def test_channel_layer_is_redis_when_redis_url_is_set():
    values = read_settings(production_env(REDIS_URL="redis://127.0.0.1:6379/0"))

    layer = values["CHANNEL_LAYERS"]["default"]
    assert layer["BACKEND"] == "channels_redis.core.RedisChannelLayer"
    assert layer["CONFIG"]["hosts"] == ["redis://127.0.0.1:6379/0"]
    assert values["layer_class"] == "channels_redis.core.RedisChannelLayer"


def test_channel_layer_is_in_memory_without_redis_url():
    values = read_settings(production_env())

    assert values["CHANNEL_LAYERS"]["default"]["BACKEND"] == "channels.layers.InMemoryChannelLayer"
    assert values["layer_class"] == "channels.layers.InMemoryChannelLayer"
