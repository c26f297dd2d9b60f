"""The Content-Security-Policy header: on every page, with no inline script or style allowed, and
pages whose markup holds nothing inline for it to block."""

import re

import pytest

from tests import factories

DIRECTIVES = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "connect-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'none'",
    "frame-ancestors": "'none'",
    "form-action": "'self'",
}
INLINE = [
    re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>", re.I),  # an inline script
    re.compile(r"<style\b", re.I),
    re.compile(r"\sstyle=\"", re.I),
    re.compile(r"\son[a-z]+=\"", re.I),  # onclick="…" and the like
    re.compile(r"javascript:", re.I),
]


def policy(response) -> dict[str, str]:
    header = response["Content-Security-Policy"]
    return {part.split()[0]: " ".join(part.split()[1:]) for part in header.split(";") if part.strip()}


@pytest.mark.parametrize("path", ["/accounts/login/", "/policies/", "/api/docs/"])
def test_public_pages_carry_the_policy(client, db, path):
    response = client.get(path)

    assert response.status_code == 200
    assert policy(response) == DIRECTIVES


def test_policy_allows_no_inline_script_or_style():
    from django.conf import settings

    directives = settings.CONTENT_SECURITY_POLICY["DIRECTIVES"]
    for values in directives.values():
        assert "'unsafe-inline'" not in values and "'unsafe-eval'" not in values


@pytest.fixture
def desk(policy, buyer, seller, agent, admin_user):
    case = factories.case(order_=factories.order(buyer=buyer, seller=seller))
    return {"case": case, "buyer": buyer, "seller": seller, "agent": agent, "admin": admin_user}


PAGES = [
    ("buyer", path)
    for path in ["/", "/orders/", "/cases/", "/cases/new/", "{case}", "/notifications/", "/account/"]
] + [("seller", "/seller/"), ("seller", "{case}")] + [
    ("agent", path) for path in ["/console/", "/console/cases/{reference}/", "/console/reports/"]
] + [
    ("admin", path)
    for path in [
        "/admin/",
        "/admin/disputes/case/",
        "/admin/disputes/case/{pk}/change/",
        "/admin/disputes/case/{pk}/history/",
        "/api/docs/",
    ]
]


@pytest.mark.parametrize("role, path", PAGES)
def test_signed_in_pages_carry_the_policy_and_hold_nothing_inline(client, desk, role, path):
    case = desk["case"]
    path = path.format(case=case.get_absolute_url(), reference=case.reference, pk=case.pk)
    client.force_login(desk[role])

    response = client.get(path)

    assert response.status_code == 200, response.status_code
    assert policy(response) == DIRECTIVES
    html = response.content.decode()
    for pattern in INLINE:
        found = pattern.search(html)
        assert found is None, f"{found.group(0)!r} would be blocked"


def test_the_server_error_page_holds_nothing_inline():
    from django.template.loader import render_to_string

    html = render_to_string("500.html")
    for pattern in INLINE:
        assert pattern.search(html) is None
