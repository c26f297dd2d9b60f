"""The project's settings as production reads them, with test-only secrets filled in."""

import os

os.environ.setdefault("DJANGO_SECRET_KEY", "tests-only-secret-key-" + "x" * 50)
os.environ.setdefault("DJANGO_ALLOWED_HOSTS", "testserver,localhost,127.0.0.1")

from marketplace_support.settings import *  # noqa: E402,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
SECURE_SSL_REDIRECT = False
STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"  # noqa: F405

# Serve static files from the apps' folders, as in development (no collectstatic in tests).
WHITENOISE_AUTOREFRESH = True
WHITENOISE_USE_FINDERS = True

# N+1 queries fail the test that causes them (tests/conftest.py turns detection on per test).
# ZEAL_RAISE=0 turns them into warnings, to list them all in one run.
INSTALLED_APPS = [*INSTALLED_APPS, "zeal"]  # noqa: F405
ZEAL_RAISE = os.environ.get("ZEAL_RAISE", "1") == "1"
ZEAL_ALLOWLIST = [
    # A test makes many requests and service calls: zeal counts the same `.get()` line across
    # all of them (a lock per service call, a reload per event) as if it were one loop.
    {"model": "*", "field": "get()"},
    # seed_demo sets each demo person's groups: one write per person, not a read per row.
    {"model": "auth.User", "field": "groups"},
    # A permission check reads a person's permissions once (cached on the user); a service that
    # checks the actor and the person it hands a case to reads two people, not one per row.
    {"model": "auth.User", "field": "user_permissions"},
]
