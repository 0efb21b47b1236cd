"""Markdown written by organizers, rendered to HTML and sanitized before anyone sees it."""
from __future__ import annotations

import nh3
from markdown_it import MarkdownIt

# Raw HTML in the source is escaped, not passed through; nh3 then removes anything unsafe that the
# Markdown itself could produce (javascript: links, odd schemes) and keeps a small set of tags.
_md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}).enable("table")

ALLOWED_TAGS = {
    "p", "br", "hr", "h2", "h3", "h4", "h5", "h6", "strong", "em", "blockquote", "code", "pre",
    "ul", "ol", "li", "a", "img", "table", "thead", "tbody", "tr", "th", "td",
}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "img": {"src", "alt", "title"}, "ol": {"start"}}
URL_SCHEMES = {"http", "https", "mailto"}


def render_markdown(source: str) -> str:
    html = _md.render(source or "")
    # Headings start at h2: the page's h1 is the campaign title.
    html = html.replace("<h1>", "<h2>").replace("</h1>", "</h2>")
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="nofollow noopener noreferrer ugc",
    )
