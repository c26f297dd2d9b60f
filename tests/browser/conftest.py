"""Browser tests: Playwright for Python driving Debian's Chromium against pytest-django's live server.

Chromium is /usr/bin/chromium (`playwright install` cannot download browsers here). Without it
the browser tests skip, except on CI (CI=true), where a missing browser is a failure: `.ci/run`
installs it, so its absence means the setup is broken, not that the tests may be left out.
"""

import asyncio
import os
import re
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests import factories

CHROMIUM = Path("/usr/bin/chromium")
# Without the background-networking flags Chromium keeps calling home, which floods a closed network.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
PASSWORD = "pass-word-2026"  # what tests.factories.UserFactory sets
TIMEOUT_MS = 10_000  # a page here answers in well under a second; fail fast rather than hang
WIDE = {"width": 1280, "height": 900}
NARROW = {"width": 375, "height": 812}


@pytest.hookimpl(trylast=True)  # after pytest-django has put the transactional tests after the others
def pytest_collection_modifyitems(items):
    """Run the browser tests last. While the Playwright driver is up, its asyncio loop runs in the
    main thread, where it would break any later test that uses async_to_sync (the channel layer's)."""
    here = Path(__file__).resolve().parent
    items.sort(key=lambda item: Path(str(item.path)).resolve().is_relative_to(here))


def _on_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() == "true"


@pytest.fixture(scope="session")
def playwright_driver():
    if not (CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK)):
        message = f"the browser tests need Debian's Chromium at {CHROMIUM} (apt-get install chromium)"
        if _on_ci():
            pytest.fail(f"CI=true but {message}; .ci/run should have installed it", pytrace=False)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an asyncio loop running in the main thread while the driver is
    # up, and Django then refuses ORM calls from that thread (SynchronousOnlyOperation), such as
    # the tests' own setup code. The calls are in fact synchronous, so allow them for as long as
    # the driver lives (the browser tests run last: see pytest_collection_modifyitems).
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    driver = sync_playwright().start()
    try:
        yield driver
    finally:
        driver.stop()
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@contextmanager
def outside_playwright_loop():
    """Call Django (services, which broadcast after commit through async_to_sync) from a test.

    async_to_sync refuses to run in a thread with a running loop, and Playwright's is one; the
    realtime broadcast would fail (it is best effort, so it only logs). Hide the loop meanwhile;
    no Playwright call may happen inside."""
    loop = asyncio.events._get_running_loop()
    asyncio.events._set_running_loop(None)
    try:
        yield
    finally:
        asyncio.events._set_running_loop(loop)


@pytest.fixture(scope="session")
def chromium(playwright_driver):
    browser = playwright_driver.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
    yield browser
    browser.close()


@pytest.fixture(autouse=True)
def _browser_test_settings(settings, tmp_path):
    """Uploaded evidence goes to a throwaway folder, not the project's media/."""
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def open_context(chromium):
    """`open_context(base_url, **options)`: a fresh browser context (own cookies), closed after the test."""
    contexts = []

    def make(base_url, **options):
        options.setdefault("viewport", WIDE)
        options.setdefault("timezone_id", "Europe/Amsterdam")
        context = chromium.new_context(base_url=base_url, **options)
        context.set_default_timeout(TIMEOUT_MS)
        context.set_default_navigation_timeout(TIMEOUT_MS)
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def new_context(open_context, live_server):
    """`new_context(**options)`: a fresh browser context on the live server."""
    return lambda **options: open_context(live_server.url, **options)


def signed_in_page(context, username: str):
    """A new page of `context`, signed in through the login form."""
    page = context.new_page()
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"/$"))
    return page


@pytest.fixture
def sign_in(new_context):
    """`sign_in(user, **context_options)`: a page in a fresh context, signed in through the login form."""

    def sign_in_as(user, **options):
        page = signed_in_page(new_context(**options), user.username)
        assert page.get_by_role("heading", level=1).inner_text().startswith("Hello"), page.content()
        return page

    return sign_in_as


@pytest.fixture
def screenshot(request):
    """`screenshot(page, label)`: keep the page as artifacts/screenshots/<test>-<label>.png (git-ignored)."""

    def save(page, label: str) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        name = re.sub(r"[^A-Za-z0-9_.-]+", "-", f"{request.node.name}-{label}").strip("-")
        path = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return save


# The people and data of a marketplace; users get their names so pages greet them.


@pytest.fixture
def policy(db):
    return factories.dispute_policy()


@pytest.fixture
def buyer(db):
    return factories.UserFactory(username="bea", first_name="Bea", last_name="Byers")


@pytest.fixture
def other_buyer(db):
    return factories.UserFactory(username="otto", first_name="Otto", last_name="Other")


@pytest.fixture
def seller(db):
    return factories.UserFactory(username="lampshop", first_name="Sam", last_name="Seller")


@pytest.fixture
def order(policy, buyer, seller):
    with outside_playwright_loop():
        return factories.order(buyer=buyer, seller=seller, external_id="ORD-LAMP-1")


@pytest.fixture
def open_case(order):
    """A case the buyer has just filed on `order`: a partial refund of 30.00, the seller's turn."""
    with outside_playwright_loop():
        return factories.case(order_=order)
