"""Times show in the browser's time zone when the profile sets none (desk.js reports it in a cookie)."""

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_case_page_times_show_in_the_browsers_time_zone(open_case, buyer, sign_in):
    # The first page (the sign-in) lets desk.js store the zone; it arrives URL-encoded (Asia%2FTokyo).
    page = sign_in(buyer, timezone_id="Asia/Tokyo")

    page.goto(open_case.get_absolute_url())

    opened = page.get_by_role("region", name="The claim").locator("time").first.inner_text()
    assert opened.endswith("JST"), f"the case's opening time shows as {opened!r}"
