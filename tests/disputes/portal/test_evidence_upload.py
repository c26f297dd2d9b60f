"""Evidence through the pages: only real images and PDFs, within the size limit, stored under a random name."""

import hashlib
import re

import pytest
from django.core import mail

from disputes.models import Case, Evidence, FormSubmission, Notification
from tests.disputes.portal.helpers import PDF_BYTES, Page, image_bytes, photo, select, text_of, token, upload

FILING = {
    "order": None,
    "reason": "damaged",
    "requested_outcome": "partial_refund",
    "amount_claimed": "30.00",
    "description": "The shade was cracked in the box.",
}


def stored_files(media_root) -> list:
    return [path for path in media_root.rglob("*") if path.is_file()] if media_root.exists() else []


def add_evidence(client, case, *files, submission=None, description=""):
    return client.post(
        f"{case.get_absolute_url()}evidence/",
        {"submission": submission or token(), "files": list(files), "description": description},
    )


def evidence_errors(page) -> list[str]:
    form = page.one("form", action=page.response.wsgi_request.path)
    return [text_of(error) for error in select(form, role="alert")]


BAD_FILES = {
    "text-named-jpg": (
        "shade.jpg",
        b"This is not a photo, only text.\n" * 4,
        "image/jpeg",
        "shade.jpg is not a JPEG, PNG or WebP image or a PDF document.",
    ),
    "png-header-then-garbage": (
        "shade.png",
        b"\x89PNG\r\n\x1a\n" + b"garbage!" * 40,
        "image/png",
        "shade.png could not be read as an image.",
    ),
    "webp-header-then-garbage": (
        "shade.webp",
        b"RIFF\x40\x01\x00\x00WEBPVP8 " + b"garbage!" * 40,
        "image/webp",
        "shade.webp could not be read as an image.",
    ),
    "html-named-pdf": (
        "receipt.pdf",
        b"<html><script>alert(1)</script></html>",
        "application/pdf",
        "receipt.pdf is not a JPEG, PNG or WebP image or a PDF document.",
    ),
    "gif-image": (
        "shade.gif",
        image_bytes("GIF"),
        "image/gif",
        "shade.gif is not a JPEG, PNG or WebP image or a PDF document.",
    ),
    "svg-named-png": (
        "shade.png",
        b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>',
        "image/png",
        "shade.png is not a JPEG, PNG or WebP image or a PDF document.",
    ),
}


@pytest.mark.parametrize("kind", BAD_FILES)
def test_evidence_upload_of_a_file_that_is_not_what_it_claims_is_refused_and_stores_nothing(
    client_as, open_case, media_root, django_capture_on_commit_callbacks, kind
):
    name, content, content_type, message = BAD_FILES[kind]
    client = client_as("buyer")  # signed in before: a sign-in's own writes are not what is tested

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = add_evidence(client, open_case, upload(name, content, content_type))

    page = Page(response)
    assert response.status_code == 400
    assert evidence_errors(page) == [message]
    assert not Evidence.objects.exists()
    assert stored_files(media_root) == []
    assert callbacks == [] and not Notification.objects.exists() and mail.outbox == []


def test_evidence_upload_over_the_size_limit_is_refused(client_as, open_case, media_root, settings):
    settings.EVIDENCE_MAX_BYTES = 1000
    big = PDF_BYTES + b"%" * (1001 - len(PDF_BYTES))

    page = Page(add_evidence(client_as("buyer"), open_case, upload("receipt.pdf", big, "application/pdf")))

    assert page.response.status_code == 400
    [error] = evidence_errors(page)
    assert error.startswith("receipt.pdf is larger than")
    assert not Evidence.objects.exists() and stored_files(media_root) == []


def test_evidence_upload_exactly_at_the_size_limit_is_stored(client_as, open_case, settings):
    settings.EVIDENCE_MAX_BYTES = 1000
    content = PDF_BYTES + b"%" * (1000 - len(PDF_BYTES))

    response = add_evidence(client_as("buyer"), open_case, upload("receipt.pdf", content, "application/pdf"))

    assert response.status_code == 302
    assert Evidence.objects.get().size == 1000


VALID_FILES = {
    "jpeg": ("shade.jpg", lambda: image_bytes("JPEG"), "image/jpeg", ".jpg"),
    "png": ("shade.png", lambda: image_bytes("PNG"), "image/png", ".png"),
    "webp": ("shade.webp", lambda: image_bytes("WEBP"), "image/webp", ".webp"),
    "pdf": ("receipt.pdf", lambda: PDF_BYTES, "application/pdf", ".pdf"),
}


@pytest.mark.parametrize("kind", VALID_FILES)
def test_evidence_upload_of_a_valid_file_is_stored_under_a_random_name_with_its_digest(
    client_as, open_case, buyer, media_root, kind
):
    name, make, content_type, extension = VALID_FILES[kind]
    content = make()

    response = add_evidence(
        client_as("buyer"), open_case, upload(name, content, "application/octet-stream"), description="Box and shade"
    )

    assert response.status_code == 302 and response.url == open_case.get_absolute_url()
    item = Evidence.objects.get()
    assert (item.case, item.uploaded_by, item.original_name) == (open_case, buyer, name)
    assert (item.content_type, item.size, item.description) == (content_type, len(content), "Box and shade")
    assert item.sha256 == hashlib.sha256(content).hexdigest()
    assert re.fullmatch(rf"evidence/[0-9a-f]{{32}}{re.escape(extension)}", item.file.name)
    assert name.rsplit(".", 1)[0] not in item.file.name
    [path] = stored_files(media_root)
    assert path == media_root / item.file.name and path.read_bytes() == content


def test_evidence_upload_is_named_by_its_content_not_its_name(client_as, open_case):
    add_evidence(client_as("buyer"), open_case, upload("holiday.jpg", image_bytes("PNG"), "image/jpeg"))

    item = Evidence.objects.get()
    assert item.content_type == "image/png" and item.file.name.endswith(".png")
    assert item.original_name == "holiday.jpg"


def test_evidence_upload_with_one_bad_file_among_good_ones_stores_none(client_as, open_case, media_root):
    files = [photo("one.png"), upload("two.jpg", b"not an image at all", "image/jpeg"), photo("three.png")]

    page = Page(add_evidence(client_as("buyer"), open_case, *files))

    assert evidence_errors(page) == ["two.jpg is not a JPEG, PNG or WebP image or a PDF document."]
    assert not Evidence.objects.exists() and stored_files(media_root) == []


def test_evidence_upload_refused_can_be_sent_again_with_the_same_token(client_as, open_case):
    submission = token()
    client = client_as("buyer")
    add_evidence(client, open_case, upload("x.jpg", b"nope", "image/jpeg"), submission=submission)

    response = add_evidence(client, open_case, photo(), submission=submission)

    assert response.status_code == 302
    assert Evidence.objects.count() == 1 and FormSubmission.objects.count() == 1


def test_evidence_upload_shows_on_the_timeline_and_tells_the_other_party(
    client_as, open_case, seller, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        add_evidence(
            client_as("buyer"), open_case, photo("<img src=x onerror=alert(1)>.png"), description="<i>crack</i>"
        )

    item = Evidence.objects.get()
    page = Page(client_as("seller").get(open_case.get_absolute_url()))
    [link] = page.links_to(item.get_absolute_url())
    assert text_of(link) == "<img src=x onerror=alert(1)>.png"
    assert not page.select("img") and not page.select("i")
    assert "&lt;img src=x onerror=alert(1)&gt;.png" in page.html
    assert list(Notification.objects.values_list("recipient", "event")) == [(seller.pk, "evidence_added")]
    assert [message.to for message in mail.outbox] == [[seller.email]]


def test_evidence_upload_by_a_stranger_is_not_found_and_stores_nothing(client_as, open_case, media_root):
    response = add_evidence(client_as("other_buyer"), open_case, photo())

    assert response.status_code == 404
    assert not Evidence.objects.exists() and stored_files(media_root) == []


def test_evidence_upload_on_a_withdrawn_case_is_refused(client_as, case_in, media_root):
    case = case_in("withdrawn")

    page = Page(add_evidence(client_as("buyer"), case, photo()))

    assert page.response.status_code == 400
    assert "This case is finished; it takes no more evidence." in page.flashes
    assert not Evidence.objects.exists() and stored_files(media_root) == []


# Filing with evidence


def file_case(client, order, *files, submission=None):
    data = {**FILING, "order": order.external_id, "submission": submission or token(), "evidence": list(files)}
    return client.post("/cases/new/", data)


@pytest.mark.parametrize("kind", ["text-named-jpg", "png-header-then-garbage"])
def test_case_file_with_a_bad_file_opens_no_case(
    client_as, order, media_root, django_capture_on_commit_callbacks, kind
):
    name, content, content_type, message = BAD_FILES[kind]
    client = client_as("buyer")  # signed in before: a sign-in's own writes are not what is tested

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = file_case(client, order, photo(), upload(name, content, content_type))

    page = Page(response)
    assert response.status_code == 200
    assert message in page.alerts
    assert not Case.objects.exists() and not Evidence.objects.exists()
    assert stored_files(media_root) == []
    assert not FormSubmission.objects.exists()  # the token is not spent: the corrected form can be sent
    assert callbacks == [] and mail.outbox == []


def test_case_file_with_photos_stores_them_on_the_new_case(
    client_as, order, buyer, seller, media_root, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = file_case(
            client_as("buyer"), order, photo("front.png"), upload("receipt.pdf", PDF_BYTES, "application/pdf")
        )

    case = Case.objects.get()
    assert response.url == case.get_absolute_url()
    assert sorted(case.evidence.values_list("original_name", "uploaded_by")) == [
        ("front.png", buyer.pk),
        ("receipt.pdf", buyer.pk),
    ]
    assert len(stored_files(media_root)) == 2
    assert list(Notification.objects.values_list("recipient", "event")) == [(seller.pk, "filed")]
