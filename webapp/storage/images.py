"""Uploaded images, checked by their content and re-encoded so nothing else rides along."""
from __future__ import annotations

import io

from flask_babel import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

from webapp.errors import InvalidUpload

ACCEPTED_FORMATS = {"JPEG", "PNG", "WEBP", "GIF"}
MAX_PIXELS = 40_000_000  # refuse decompression bombs before decoding


def reencode_image(data: bytes, *, max_bytes: int, max_side: int = 1600) -> bytes:
    """Return a clean JPEG of the uploaded image, or raise InvalidUpload with a clear reason."""
    if not data:
        raise InvalidUpload(_("The file is empty."))
    if len(data) > max_bytes:
        raise InvalidUpload(_("The image is too large (at most %(mb)d MB).", mb=max_bytes // (1024 * 1024)))
    try:
        with Image.open(io.BytesIO(data)) as probe:
            fmt = probe.format
            width, height = probe.size
            probe.verify()
        if fmt not in ACCEPTED_FORMATS:
            raise InvalidUpload(_("Upload a JPEG, PNG, WebP or GIF image."))
        if width * height > MAX_PIXELS:
            raise InvalidUpload(_("The image has too many pixels."))
        with Image.open(io.BytesIO(data)) as img:
            img = ImageOps.exif_transpose(img)
            img = img.convert("RGB")
            img.thumbnail((max_side, max_side))
            out = io.BytesIO()
            # Re-encoding drops metadata (EXIF, GPS) and anything appended to the file.
            img.save(out, format="JPEG", quality=82, optimize=True, progressive=True)
            return out.getvalue()
    except InvalidUpload:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise InvalidUpload(_("This file is not an image we can read.")) from None
