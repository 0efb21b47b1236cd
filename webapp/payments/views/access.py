"""Opening a pledge's page: as its backer signed in, or with a link's token, which this browser's session
then remembers so that the address bar, history and later pages no longer carry it."""
from __future__ import annotations

from flask import redirect, render_template, request, session, url_for
from flask_login import current_user

from webapp.payments.models import Pledge
from webapp.payments.pledging import access

SESSION_KEY = "opened_pledges"
#: references remembered per browser session (the cookie stays small)
REMEMBERED = 20


def remember(pledge: Pledge) -> None:
    opened = session.get(SESSION_KEY)
    opened = [r for r in opened if isinstance(r, str) and r != pledge.reference] if isinstance(opened, list) else []
    session[SESSION_KEY] = [*opened[-(REMEMBERED - 1):], pledge.reference]


def _remembered(pledge: Pledge) -> bool:
    opened = session.get(SESSION_KEY)
    return isinstance(opened, list) and pledge.reference in opened


def may_open(pledge: Pledge) -> bool:
    return access.is_backer(current_user, pledge) or _remembered(pledge)


def locked(reference: str):
    """The one answer for an unknown reference, a wrong token and someone else's pledge: nothing tells them apart."""
    return render_template("payments/pledge_locked.html", reference=reference), 404


def open_pledge(reference: str):
    """(pledge, None) when this request may see the pledge; (None, response) otherwise.

    A valid token in the query string is remembered, and a GET is sent on to the same page without it.
    """
    pledge = access.by_reference(reference)
    if pledge is None:
        return None, locked(reference)
    token = request.args.get("token")
    if token is not None and access.token_opens(pledge, token):
        remember(pledge)
        if request.method == "GET":
            kept = {"checkout": "done"} if request.args.get("checkout") == "done" else {}
            return None, redirect(url_for(request.endpoint, reference=pledge.reference, **kept), code=303)
    if not may_open(pledge):
        return None, locked(reference)
    return pledge, None
