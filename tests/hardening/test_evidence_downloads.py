"""Evidence downloads through the portal and the API: whatever name the uploader gave, the file
comes with a safe name, its recognised type, `nosniff`, and as an attachment unless it is one of
the image kinds a browser may show."""

import re
import uuid
from urllib.parse import unquote

import pytest
from rest_framework.test import APIClient

from disputes.models import Evidence
from disputes.services.conversation import evidence_add
from tests.api.conftest import token_client
from tests.disputes.portal.helpers import PDF_BYTES, image_bytes, upload

HOSTILE = [
    ('../../etc/passwd"; filename=evil.html', "image/png", "passwd_ filename_evil.png"),
    ("photo\r\nSet-Cookie: sessionid=stolen.png", "image/png", "photo_Set-Cookie_ sessionid_stolen.png"),
    ('my "best" photo.pdf', "application/pdf", "my _best_ photo.pdf"),
    ('quote"back\\slash.pdf', "application/pdf", "slash.pdf"),
    ("..\\..\\windows\\system32\\cmd.exe", "application/pdf", "cmd.pdf"),
    ("attack.html", "image/png", "attack.png"),
    ("...", "image/png", None),  # nothing left of the name: evidence-<id>
]


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def stored(case, buyer, name: str, content_type: str) -> Evidence:
    """Evidence as an older upload stored it: the uploader's name as it came."""
    content = image_bytes("PNG") if content_type == "image/png" else PDF_BYTES
    (item,) = evidence_add(case=case, uploader=buyer, files=[upload("plain", content, content_type)])
    Evidence.objects.filter(pk=item.pk).update(original_name=name)
    return Evidence.objects.get(pk=item.pk)


def routes(item):
    return {
        "portal": item.get_absolute_url(),
        "api": f"/api/v1/cases/{item.case.reference}/evidence/{item.pk}/file/",
    }


def fetch(route, path, user):
    if route == "api":
        return token_client(user).get(path)
    client = APIClient()
    client.force_login(user)
    return client.get(path)


def parse_disposition(header: str) -> dict:
    kind, _, rest = header.partition(";")
    params = dict(re.findall(r'\s*([\w*]+)=("(?:[^"\\]|\\.)*"|[^;]*)', rest))
    return {"kind": kind, **params}


@pytest.mark.parametrize("route", ["portal", "api"])
@pytest.mark.parametrize("name, content_type, expected", HOSTILE, ids=[str(n) for n in range(len(HOSTILE))])
def test_hostile_names_come_back_safe(route, name, content_type, expected, open_case, buyer):
    item = stored(open_case, buyer, name, content_type)

    response = fetch(route, routes(item)[route], buyer)

    assert response.status_code == 200
    header = response["Content-Disposition"]
    assert "\r" not in header and "\n" not in header and "/" not in header
    parts = parse_disposition(header)
    assert parts["kind"] == ("inline" if content_type == "image/png" else "attachment")
    assert parts["filename"] == f'"{expected or f"evidence-{item.pk}.png"}"'
    assert "filename*" not in parts  # plain ASCII: the quoted name is the whole story
    assert response["Content-Type"] == content_type
    assert response["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize("route", ["portal", "api"])
def test_unicode_names_get_an_ascii_fallback_and_the_utf8_name(route, open_case, buyer):
    item = stored(open_case, buyer, "Größe – naïve 写真.pdf", "application/pdf")

    parts = parse_disposition(fetch(route, routes(item)[route], buyer)["Content-Disposition"])

    assert parts["kind"] == "attachment"
    assert parts["filename"] == '"Groe _ naive.pdf"'
    assert parts["filename*"].startswith("UTF-8''")
    assert unquote(parts["filename*"].removeprefix("UTF-8''")) == "Größe _ naïve 写真.pdf"


@pytest.mark.parametrize("route", ["portal", "api"])
def test_an_upload_through_the_page_downloads_under_its_name(route, client, open_case, buyer):
    client.force_login(buyer)
    client.post(
        f"{open_case.get_absolute_url()}evidence/",
        {"submission": str(uuid.uuid4()), "files": [upload('receipt "final".pdf', PDF_BYTES, "application/pdf")]},
    )
    item = Evidence.objects.get()

    response = fetch(route, routes(item)[route], buyer)

    assert b"".join(response.streaming_content) == PDF_BYTES
    assert response["Content-Disposition"] == 'attachment; filename="receipt _final.pdf"'
    assert response["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize("route", ["portal", "api"])
def test_a_file_opened_directly_may_run_nothing(route, open_case, buyer):
    item = stored(open_case, buyer, "shade.png", "image/png")

    response = fetch(route, routes(item)[route], buyer)

    assert response["Content-Security-Policy"] == "default-src 'none'; sandbox"
