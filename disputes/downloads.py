"""Evidence files as the portal and the API send them.

The uploader chose the file name, so it is never trusted: the name offered for saving keeps only
letters, digits, spaces, dots, dashes and underscores of it, and its extension comes from the
content type the desk recognised, not from the name. Only the image kinds in INLINE_TYPES are
shown in the browser; everything else is a download. `nosniff` keeps browsers from guessing
another type, and the file's own policy forbids it any script or plugin if opened directly.
"""

import re
import unicodedata
from pathlib import PurePosixPath
from urllib.parse import quote

from django.http import FileResponse

EXTENSIONS = {"image/jpeg": ".jpg", "image/png": ".png", "image/webp": ".webp", "application/pdf": ".pdf"}
INLINE_TYPES = {"image/jpeg", "image/png", "image/webp"}
STEM_MAX_LENGTH = 100


def evidence_response(evidence) -> FileResponse:
    response = FileResponse(evidence.file.open("rb"), content_type=evidence.content_type)
    disposition = "inline" if evidence.content_type in INLINE_TYPES else "attachment"
    response["Content-Disposition"] = content_disposition(disposition, download_name(evidence))
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "private, max-age=3600"
    return response


def download_name(evidence) -> str:
    """`evidence.original_name` made safe: no path, no quotes, no control characters, the
    extension of its real type."""
    name = re.split(r"[/\\]", unicodedata.normalize("NFC", evidence.original_name or ""))[-1]
    stem = PurePosixPath(name).stem if "." in name.strip(".") else name
    stem = "".join(ch if ch.isalnum() or ch in " -_." else "_" for ch in stem)
    stem = re.sub(r"_+", "_", " ".join(stem.split())).strip(" ._")[:STEM_MAX_LENGTH].strip(" ._")
    return f"{stem or f'evidence-{evidence.pk}'}{EXTENSIONS.get(evidence.content_type, '')}"


def content_disposition(disposition: str, filename: str) -> str:
    """RFC 6266: a quoted ASCII `filename` for every browser, plus `filename*` (UTF-8) when the
    name has other characters."""
    stem, dot, extension = filename.rpartition(".") if "." in filename else (filename, "", "")
    fallback = unicodedata.normalize("NFKD", stem).encode("ascii", "ignore").decode()
    fallback = re.sub(r"[^\x20-\x7e]|[\\\"]", "_", fallback).strip(" ._") or "evidence"
    fallback += dot + extension
    header = f'{disposition}; filename="{fallback}"'
    if fallback != filename:
        header += f"; filename*=UTF-8''{quote(filename, safe='')}"
    return header
