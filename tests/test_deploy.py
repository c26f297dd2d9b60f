"""The settings as production reads them: deploy checks, refusals, migrations, channel layer.

Each settings check runs `marketplace_support.settings` in a fresh interpreter (a subprocess),
because settings are read once per process from the environment.
"""

import io
import json
import os
import secrets
import subprocess
from pathlib import Path

import pytest
from django.core.management import call_command

from tests.processes import run_python

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
    "SESSION_COOKIE_HTTPONLY": settings.SESSION_COOKIE_HTTPONLY,
    "SECURE_HSTS_INCLUDE_SUBDOMAINS": settings.SECURE_HSTS_INCLUDE_SUBDOMAINS,
    "SECURE_HSTS_PRELOAD": settings.SECURE_HSTS_PRELOAD,
    "SECURE_CONTENT_TYPE_NOSNIFF": settings.SECURE_CONTENT_TYPE_NOSNIFF,
    "X_FRAME_OPTIONS": settings.X_FRAME_OPTIONS,
    "CACHE_BACKEND": settings.CACHES["default"]["BACKEND"],
    "CACHE_LOCATION": settings.CACHES["default"]["LOCATION"],
    "MIDDLEWARE": settings.MIDDLEWARE,
    "AUTHENTICATION_BACKENDS": settings.AUTHENTICATION_BACKENDS,
    "AXES_FAILURE_LIMIT": settings.AXES_FAILURE_LIMIT,
    "AXES_COOLOFF_SECONDS": settings.AXES_COOLOFF_TIME.total_seconds(),
    "CSP": settings.CONTENT_SECURITY_POLICY["DIRECTIVES"],
    "RATE_LIMITS": settings.RATE_LIMITS,
}))
"""


def clean_env(**values: str) -> dict[str, str]:
    """This process's environment without any of the settings' variables, plus `values`."""
    ours = ("DJANGO_", "AXES_", "RATE_LIMIT_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(ours) and k != "REDIS_URL"}
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
    return run_python(args, env=env)


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
    assert values["SECURE_HSTS_INCLUDE_SUBDOMAINS"] is True
    assert values["SECURE_HSTS_PRELOAD"] is True
    assert values["SESSION_COOKIE_HTTPONLY"] is True
    assert values["SECURE_CONTENT_TYPE_NOSNIFF"] is True
    assert values["X_FRAME_OPTIONS"] == "DENY"


def test_production_throttles_sign_ins_and_sends_a_content_security_policy():
    values = read_settings(production_env())

    assert values["AUTHENTICATION_BACKENDS"][0] == "axes.backends.AxesStandaloneBackend"
    assert values["MIDDLEWARE"][-1] == "axes.middleware.AxesMiddleware"  # last, as django-axes requires
    assert "csp.middleware.CSPMiddleware" in values["MIDDLEWARE"]
    assert values["AXES_FAILURE_LIMIT"] == 5
    assert values["AXES_COOLOFF_SECONDS"] == 15 * 60
    assert values["CSP"]["script-src"] == ["'self'"] and values["CSP"]["style-src"] == ["'self'"]
    assert values["RATE_LIMITS"] == {"message": "30/minute", "filing": "10/hour", "upload": "30/hour"}


def test_throttling_and_rate_limits_follow_the_environment():
    values = read_settings(
        production_env(
            AXES_FAILURE_LIMIT="3",
            AXES_COOLOFF_MINUTES="60",
            RATE_LIMIT_MESSAGES="5/second",
            RATE_LIMIT_FILINGS="2/day",
            RATE_LIMIT_UPLOADS="100/hour",
        )
    )

    assert values["AXES_FAILURE_LIMIT"] == 3
    assert values["AXES_COOLOFF_SECONDS"] == 3600
    assert values["RATE_LIMITS"] == {"message": "5/second", "filing": "2/day", "upload": "100/hour"}


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
    assert layer["BACKEND"] == "marketplace_support.channel_layer.PubSubChannelLayer"
    assert [host["address"] for host in layer["CONFIG"]["hosts"]] == ["redis://127.0.0.1:6379/0"]
    assert 0 < layer["CONFIG"]["hosts"][0]["socket_timeout"] <= 10  # a hung Redis ends sockets, not holds them
    assert values["layer_class"] == "marketplace_support.channel_layer.PubSubChannelLayer"


def test_channel_layer_is_in_memory_without_redis_url():
    values = read_settings(production_env())

    assert values["CHANNEL_LAYERS"]["default"]["BACKEND"] == "channels.layers.InMemoryChannelLayer"
    assert values["layer_class"] == "channels.layers.InMemoryChannelLayer"


def test_cache_is_redis_when_redis_url_is_set_so_every_worker_shares_the_rate_limits():
    values = read_settings(production_env(REDIS_URL="redis://127.0.0.1:6379/0"))

    assert values["CACHE_BACKEND"] == "marketplace_support.redis_cache.RedisCache"
    assert values["CACHE_LOCATION"] == "redis://127.0.0.1:6379/0"


def test_cache_is_in_memory_without_redis_url():
    values = read_settings(production_env())

    assert values["CACHE_BACKEND"] == "django.core.cache.backends.locmem.LocMemCache"
