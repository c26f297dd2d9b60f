"""What counts as evidence: images (JPEG, PNG, WebP) and PDF, recognised by content, not name."""

import hashlib
import re
import unicodedata
from dataclasses import dataclass

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.template.defaultfilters import filesizeformat
from PIL import Image, UnidentifiedImageError

from disputes.models import Evidence

_SIGNATURES = [
    (b"\xff\xd8\xff", Evidence.Kind.JPEG, ".jpg", "JPEG"),
    (b"\x89PNG\r\n\x1a\n", Evidence.Kind.PNG, ".png", "PNG"),
    (b"%PDF-", Evidence.Kind.PDF, ".pdf", None),
]


@dataclass(frozen=True)
class CheckedFile:
    content_type: str
    extension: str
    size: int
    sha256: str


class EvidenceRejected(ValueError):
    pass


# Control and formatting characters (a right-to-left override turns "gpj.exe" into "exe.jpg"),
# surrogates, private use, unassigned, and line or paragraph separators.
_HIDDEN_CATEGORIES = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}
NAME_MAX_LENGTH = 255


def shown_name(name: str) -> str:
    """The uploader's file name as the desk shows it: its last part only, in plain visible characters."""
    name = re.split(r"[/\\]", unicodedata.normalize("NFC", name or ""))[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch) not in _HIDDEN_CATEGORIES)
    name = " ".join(name.split())
    if len(name) > NAME_MAX_LENGTH:  # keep the end, where the extension is
        name = name[: NAME_MAX_LENGTH - 41] + "…" + name[-40:]
    return name or "file"


def check_evidence_file(upload: UploadedFile) -> CheckedFile:
    """Accept a file only if its bytes are one of the allowed kinds and within the size limit."""
    limit = settings.EVIDENCE_MAX_BYTES
    name = shown_name(upload.name)
    if upload.size > limit:
        raise EvidenceRejected(f"{name} is larger than {filesizeformat(limit)}.")
    if upload.size == 0:
        raise EvidenceRejected(f"{name} is empty.")
    upload.seek(0)
    head = upload.read(16)
    kind = _kind_of(head)
    if kind is None:
        raise EvidenceRejected(f"{name} is not a JPEG, PNG or WebP image or a PDF document.")
    content_type, extension, pil_format = kind
    if pil_format and not _is_whole_image(upload, pil_format):
        raise EvidenceRejected(f"{name} could not be read as an image.")
    digest = hashlib.sha256()
    upload.seek(0)
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    return CheckedFile(content_type=content_type, extension=extension, size=upload.size, sha256=digest.hexdigest())


def _kind_of(head: bytes):
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return Evidence.Kind.WEBP, ".webp", "WEBP"
    for signature, content_type, extension, pil_format in _SIGNATURES:
        if head.startswith(signature):
            return content_type, extension, pil_format
    return None


def _is_whole_image(upload: UploadedFile, pil_format: str) -> bool:
    """Decode the whole image: a valid header followed by anything else is not a photo."""
    try:
        upload.seek(0)
        with Image.open(upload) as image:
            if image.format != pil_format:
                return False
            image.verify()  # checksums where the format has them (PNG)
        upload.seek(0)
        with Image.open(upload) as image:
            image.load()  # every pixel (JPEG and WebP have no checksums to verify)
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        return False
    return True
