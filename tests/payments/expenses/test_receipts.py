"""Receipts and proofs: PDF, JPEG or PNG by their content, size-limited, stored privately."""
from __future__ import annotations

import pytest

from tests.payments.expenses.helpers import PDF, expense, png, world
from webapp.errors import InvalidUpload
from webapp.storage import get_storage
from webapp.storage.documents import checked_document


def test_a_pdf_is_kept_as_it_is_and_an_image_is_re_encoded():
    assert checked_document(PDF, max_bytes=10_000) == (PDF, "application/pdf", "pdf")
    data, kind, ext = checked_document(png(), max_bytes=1_000_000)
    assert kind == "image/jpeg" and ext == "jpg" and data.startswith(b"\xff\xd8\xff")


@pytest.mark.parametrize("data", [
    b"", b"MZ\x90\x00 an executable", b"<html><script>alert(1)</script></html>", b"%PDF-1.4 truncated",
    PDF.replace(b"endobj", b"/OpenAction << /S /JavaScript /JS (app.alert(1)) >> endobj"),
    b"\x89PNG\r\n\x1a\n not really a png", b"GIF89a a gif"])
def test_anything_else_is_refused_with_a_reason(data):
    with pytest.raises(InvalidUpload):
        checked_document(data, max_bytes=100_000)


def test_a_file_too_large_is_refused():
    with pytest.raises(InvalidUpload, match="large"):
        checked_document(PDF + b" " * 2000 + b"%%EOF", max_bytes=1000)


def test_receipts_are_stored_privately_and_the_public_upload_route_never_serves_them(app, client):
    w = world(route="host")
    e = expense(w, 10_000, receipt=png())
    key = e.receipts[0].storage_key
    assert key.startswith("private/receipts/")
    assert get_storage().read(key).startswith(b"\xff\xd8\xff")
    assert client.get(f"/uploads/{key}").status_code == 404
    assert client.get(f"/uploads/covers/../{key}").status_code == 404
