"""Uploaded receipts and proofs (PDF, JPEG, PNG), checked by their content; images are re-encoded."""
from __future__ import annotations

import re

from flask_babel import gettext as _

from webapp.errors import InvalidUpload
from webapp.storage.images import reencode_image

#: where private documents live: the public /uploads/ route never serves this prefix
PRIVATE_PREFIX = "private/"
#: PDF features that run something when the file is opened
_ACTIVE_PDF = re.compile(rb"/(JavaScript|JS|Launch|EmbeddedFile|OpenAction|AA)\b")


def checked_document(data: bytes, *, max_bytes: int) -> tuple[bytes, str, str]:
    """(bytes to store, content type, extension) of a PDF, JPEG or PNG, or InvalidUpload with a clear reason."""
    if not data:
        raise InvalidUpload(_("The file is empty."))
    if len(data) > max_bytes:
        raise InvalidUpload(_("The file is too large (at most %(mb)d MB).", mb=max_bytes // (1024 * 1024)))
    if data.startswith(b"%PDF-"):
        if b"%%EOF" not in data[-2048:]:
            raise InvalidUpload(_("This PDF is incomplete or damaged."))
        if _ACTIVE_PDF.search(data):
            raise InvalidUpload(_("This PDF contains scripts or attachments: print it to a plain PDF first."))
        return data, "application/pdf", "pdf"
    if data.startswith(b"\xff\xd8\xff") or data.startswith(b"\x89PNG\r\n\x1a\n"):
        try:
            return reencode_image(data, max_bytes=max_bytes, max_side=2400), "image/jpeg", "jpg"
        except InvalidUpload:
            raise InvalidUpload(_("This image cannot be read: upload a PDF, JPEG or PNG file.")) from None
    raise InvalidUpload(_("Upload a PDF, JPEG or PNG file."))
