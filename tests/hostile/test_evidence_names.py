"""Evidence file names with path tricks, through the page's real multipart parser: the file is stored
under a random name inside MEDIA_ROOT/evidence/, the name shown is plain text without path or hidden
characters, and only the allowed kinds of content are stored, whatever the name says."""

import re
import unicodedata

import pytest

from disputes.evidence import shown_name
from disputes.models import Evidence
from disputes.services.conversation import evidence_add
from tests.disputes.portal.helpers import PDF_BYTES, image_bytes, token, upload

pytestmark = pytest.mark.django_db

PNG = image_bytes("PNG")
HTML = b"<html><body><script>window.__pwned=1</script><img src=x onerror=alert(1)></body></html>"
STORED_NAME = re.compile(r"evidence/[0-9a-f]{32}\.(png|jpg|webp|pdf)")
ALLOWED = {"image/jpeg", "image/png", "image/webp", "application/pdf"}

# (file name as the browser sends it, bytes, what the desk must do)
NAMES = {
    "parent dirs": ("../../etc/passwd.png", PNG, "stored"),
    "absolute": ("/etc/passwd.png", PNG, "stored"),
    "backslashes": ("..\\..\\windows\\win.ini.png", PNG, "stored"),
    "drive letter": ("C:\\Users\\x\\shade.png", PNG, "stored"),
    "NUL in the name": ("shade.png\x00.html", PNG, "stored"),
    "long": ("x" * 400 + ".png", PNG, "stored"),
    "too long for a part header": ("x" * 1000 + ".png", PNG, "refused"),  # the multipart parser's 400
    "right-to-left override": ("shade\u202egnp.exe", PNG, "stored"),
    "zero-width and combining": ("sha\u200bde\u0301.png", PNG, "stored"),
    "decomposed unicode": ("e\u0301\u0301te\u0301.png", PNG, "stored"),
    "markup in the name": ('"><img src=x onerror=alert(1)>.png', PNG, "stored"),
    "dot file": (".htaccess", PNG, "stored"),
    "double extension": ("photo.jpg.exe", PNG, "stored"),
    "pdf named html": ("receipt.html", PDF_BYTES, "stored"),
    "html named html": ("x.html", HTML, "refused"),
    "html named png": ("photo.png", HTML, "refused"),
    "html named htaccess": (".htaccess", HTML, "refused"),
    "empty name": ("", PNG, "refused"),  # no file chosen
}


def multipart(fields: dict, filename: bytes, content: bytes) -> tuple[bytes, str]:
    """A multipart body with the file name exactly as given (the test client would clean it first)."""
    boundary = b"HostileBoundary7MA4YWxkTrZu0gW"
    parts = [
        b"--%s\r\nContent-Disposition: form-data; name=\"%s\"\r\n\r\n%s\r\n" % (boundary, k.encode(), v.encode())
        for k, v in fields.items()
    ]
    parts.append(
        b"--%s\r\nContent-Disposition: form-data; name=\"files\"; filename=\"%s\"\r\n"
        b"Content-Type: image/png\r\n\r\n%s\r\n" % (boundary, filename, content)
    )
    return b"".join(parts) + b"--%s--\r\n" % boundary, f"multipart/form-data; boundary={boundary.decode()}"


def assert_safe(evidence: Evidence, media_root) -> None:
    path = (media_root / evidence.file.name).resolve()
    assert path.is_file() and path.is_relative_to((media_root / "evidence").resolve())
    assert STORED_NAME.fullmatch(evidence.file.name), evidence.file.name
    assert evidence.content_type in ALLOWED
    name = evidence.original_name
    assert name and len(name) <= 255
    assert "/" not in name and "\\" not in name
    assert not any(unicodedata.category(ch) in {"Cc", "Cf", "Cs", "Zl", "Zp"} for ch in name), repr(name)
    assert unicodedata.normalize("NFC", name) == name


@pytest.mark.parametrize("name,content,expected", NAMES.values(), ids=NAMES.keys())
def test_evidence_upload_with_a_tricky_name_is_stored_safely_or_refused(
    open_case, signed_in, media_root, name, content, expected
):
    client = signed_in(open_case.buyer)
    body, content_type = multipart({"submission": token(), "description": ""}, name.encode(), content)

    response = client.post(f"{open_case.get_absolute_url()}evidence/", body, content_type=content_type)

    assert response.status_code in (302, 400)
    stored = list(Evidence.objects.filter(case=open_case))
    files = [path for path in media_root.rglob("*") if path.is_file()] if media_root.exists() else []
    if expected == "refused":
        assert response.status_code == 400 and stored == [] and files == []
        return
    assert response.status_code == 302 and len(stored) == 1, response.content.decode()[:2000]
    assert_safe(stored[0], media_root)
    assert files == [(media_root / stored[0].file.name)]
    page = client.get(open_case.get_absolute_url()).content.decode()
    assert "<img src=x" not in page and "onerror=alert" not in page.replace("onerror=alert(1)&gt;", "")
    served = client.get(stored[0].get_absolute_url())
    assert served["Content-Type"] in ALLOWED and served["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize("name", [v[0] for v in NAMES.values()] + ["..\\..\\..\\boot.ini.png", "a/b/c/\u202e.png"])
def test_evidence_added_through_the_service_keeps_any_name_safe(open_case, media_root, name):
    """Adapters other than the page (the API, sockets later) hand the service whatever name came."""
    stored = evidence_add(case=open_case, uploader=open_case.buyer, files=[upload(name or "x", PNG, "image/png")])

    assert len(stored) == 1
    assert_safe(Evidence.objects.get(pk=stored[0].pk), media_root)


def test_shown_name_keeps_the_extension_of_a_long_name_and_never_comes_back_empty():
    assert shown_name("x" * 1000 + ".png").endswith(".png") and len(shown_name("x" * 1000 + ".png")) == 255
    assert shown_name("\u202e\u200b") == "file"
    assert shown_name("../../") == "file"
    assert shown_name("shade\u202egnp.exe") == "shadegnp.exe"
