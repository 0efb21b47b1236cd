"""Covers for campaigns that have none: an image drawn from the title and the organization, cached in storage.

A link shared on WhatsApp or Facebook shows its og:image; a campaign without a cover would show
nothing, or whatever image the crawler picks. The generated cover is a 1200x630 PNG (the size Open
Graph previews use), drawn with a font installed on the server (Debian's DejaVu, else Pillow's own
scalable default font): nothing is downloaded. Its storage key is a keyed digest of what it shows, so
a new title draws a new image, the same title reuses the file, and a draft's key cannot be guessed.
"""
from __future__ import annotations

import hashlib
import hmac
import io
from functools import lru_cache
from pathlib import Path

from flask import current_app
from PIL import Image, ImageDraw, ImageFont

from webapp.campaigns.models import Campaign
from webapp.storage import get_storage

WIDTH, HEIGHT = 1200, 630
#: bump to redraw every generated cover after a change of layout
VERSION = "1"
MARGIN = 72
#: candidates in order; the first that exists is used (fonts-dejavu-core is on Debian and in the image)
FONT_FILES = {
    "bold": ("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
             "/usr/share/fonts/truetype/liberation/LiberationSans-Bold.ttf"),
    "regular": ("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
                "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf"),
}
#: background and text colours by category, readable together (contrast above 7:1)
PALETTE = {"agriculture": (22, 84, 52), "water": (14, 70, 112), "health": (120, 28, 48), "education": (70, 40, 110),
           "emergency": (130, 30, 20)}
DEFAULT_BACKGROUND = (30, 60, 70)
TEXT, SOFT_TEXT = (255, 255, 255), (225, 235, 230)


def cover_key(campaign: Campaign) -> str:
    """The storage key of the generated cover for what the campaign shows now."""
    shown = "\x1f".join((VERSION, campaign.title, campaign.organization.name, campaign.category.value))
    digest = hmac.new(current_app.config["SECRET_KEY"].encode(), shown.encode(), hashlib.sha256).hexdigest()[:24]
    return f"generated-covers/{campaign.id}-{digest}.png"


def generated_cover(campaign: Campaign) -> str:
    """The key of the campaign's generated cover, drawn and stored the first time it is asked for."""
    key = cover_key(campaign)
    storage = get_storage()
    if not storage.exists(key):
        storage.put(key, draw_cover(campaign.title, campaign.organization.name,
                                    PALETTE.get(campaign.category.value, DEFAULT_BACKGROUND)))
    return key


@lru_cache(maxsize=8)
def _font(kind: str, size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    for candidate in FONT_FILES[kind]:
        if Path(candidate).is_file():
            return ImageFont.truetype(candidate, size)
    return ImageFont.load_default(size)  # Pillow's bundled scalable font (needs FreeType, as Pillow wheels have)


def _wrap(draw: ImageDraw.ImageDraw, text: str, font, width: int, max_lines: int) -> list[str]:
    """Words in lines no wider than `width`; the last line ends in an ellipsis when the text is cut."""
    lines: list[str] = []
    current = ""
    for word in text.split():
        trial = f"{current} {word}".strip()
        if draw.textlength(trial, font=font) <= width or not current:
            current = trial
        else:
            lines.append(current)
            current = word
    if current:
        lines.append(current)
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        last = lines[-1]
        while last and draw.textlength(last + "…", font=font) > width:
            last = last[:-1]
        lines[-1] = last.rstrip() + "…"
    # a single word wider than the line (a long name): cut it too
    return [line if draw.textlength(line, font=font) <= width else _cut(draw, line, font, width) for line in lines]


def _cut(draw, text: str, font, width: int) -> str:
    while text and draw.textlength(text + "…", font=font) > width:
        text = text[:-1]
    return text + "…"


def draw_cover(title: str, organization: str, background: tuple[int, int, int] = DEFAULT_BACKGROUND) -> bytes:
    """A WIDTHxHEIGHT PNG: the title large, the organization under it, the site's name at the foot."""
    image = Image.new("RGB", (WIDTH, HEIGHT), background)
    draw = ImageDraw.Draw(image)
    inner = WIDTH - 2 * MARGIN
    draw.rectangle((0, HEIGHT - 14, WIDTH, HEIGHT), fill=tuple(min(255, c + 60) for c in background))
    title_font = _font("bold", 68)
    lines = _wrap(draw, title, title_font, inner, max_lines=4)
    y = MARGIN
    for line in lines:
        draw.text((MARGIN, y), line, font=title_font, fill=TEXT)
        y += 84
    org_font = _font("regular", 40)
    draw.text((MARGIN, y + 28), _wrap(draw, organization, org_font, inner, max_lines=1)[0], font=org_font,
              fill=SOFT_TEXT)
    draw.text((MARGIN, HEIGHT - MARGIN - 36), "Harambee", font=_font("bold", 34), fill=SOFT_TEXT)
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()
