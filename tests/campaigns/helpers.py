"""Helpers for the campaign tests: signing in without the slow password check, form data, reading pages."""
from __future__ import annotations

import re
from contextlib import contextmanager
from datetime import date, timedelta
from html import unescape
from html.parser import HTMLParser

from sqlalchemy import event, func, select

from webapp.clock import utcnow
from webapp.extensions import db


def sign_in(client, user) -> None:
    """Put `user` in the client's session as Flask-Login does after a successful sign-in.

    The login form itself is tested in tests/accounts; here it would cost a scrypt check per test.
    """
    from tests.accounts.helpers import sign_in as open_signed_in_session  # a server-side session record too

    open_signed_in_session(client, user)


def today() -> date:
    return utcnow().date()


def campaign_form(**overrides) -> dict:
    """Valid data for the campaign form: a 30-day all-or-nothing campaign in francs CFA, from today."""
    start = today()
    data = {
        "title": "A grain mill for Ndiaganiao",
        "slug": "",
        "summary": "A shared mill so that families stop walking to town to grind millet.",
        "story_md": "We are raising money for a **mill**.",
        "category": "agriculture",
        "country": "SN",
        "region": "SN-TH",
        "currency": "XOF",
        "funding_model": "all_or_nothing",
        "goal": "1 500 000",
        "minimum": "",
        "start_date": start.isoformat(),
        "end_date": (start + timedelta(days=29)).isoformat(),
    }
    data.update(overrides)
    return data


def count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def committed_count(model, *where) -> int:
    """Rows really written: whatever a refused request left in the session is discarded first.

    Commit what the test set up before the request, or this discards it too.
    """
    db.session.rollback()
    return count(model, *where)


def page_text(response) -> str:
    return unescape(response.get_data(as_text=True))


def field_errors(response, field_id: str) -> list[str]:
    """The messages shown next to a form field (the `<ul class="errors" id="<field>-errors">` list)."""
    html = response.get_data(as_text=True)
    match = re.search(rf'<ul class="errors" id="{re.escape(field_id)}-errors"[^>]*>(.*?)</ul>', html, re.S)
    if not match:
        return []
    return [unescape(m).strip() for m in re.findall(r"<li>(.*?)</li>", match.group(1), re.S)]


class _Elements(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, attrs))

    handle_startendtag = handle_starttag


def elements_of(html: str) -> list[tuple[str, list[tuple[str, str | None]]]]:
    """Every start tag of the HTML with its attributes, entities decoded as a browser decodes them."""
    parser = _Elements()
    parser.feed(html)
    parser.close()
    return parser.elements


def section(html: str, start_marker: str, end_marker: str) -> str:
    begin = html.index(start_marker)
    return html[begin:html.index(end_marker, begin)]


@contextmanager
def counted_queries():
    """Count the SQL statements sent to the database inside the block: `with counted_queries() as q: ...; q.count`."""

    class Counter:
        count = 0
        statements: list[str] = []

    counter = Counter()
    counter.statements = []

    def before_cursor_execute(conn, cursor, statement, parameters, context, executemany):
        counter.count += 1
        counter.statements.append(statement)

    engine = db.engine
    event.listen(engine, "before_cursor_execute", before_cursor_execute)
    try:
        yield counter
    finally:
        event.remove(engine, "before_cursor_execute", before_cursor_execute)
