"""What members are told when their request or match moves: in-app always, and by email after commit."""
from __future__ import annotations

from webapp.extensions import db
from webapp.mail import queue_email
from webapp.mutual_aid.models import HelpRequest, Match, Notification


def notify(user, kind: str, *, event_id: int | None = None, request_id: int | None = None,
           match_id: int | None = None, email: bool = True, **params) -> Notification:
    from webapp.mutual_aid.labels import notice_text
    from webapp.mutual_aid.links import external_url

    note = Notification(user_id=user.id, kind=kind, event_id=event_id, request_id=request_id, match_id=match_id,
                        params=params or None)
    db.session.add(note)
    db.session.flush()
    if email:
        link = external_url("mutual_aid.open_notification", notification_id=note.id)
        queue_email("aid_notice", user.email, user.locale, user=user, kind=kind, link=link,
                    text=lambda: notice_text(kind, params))
    return note


def tell_requester(request: HelpRequest, kind: str, *, match: Match | None = None) -> Notification:
    """Every change of a request reaches its requester: nobody waits in silence."""
    return notify(request.requester, f"request_{kind}", event_id=request.event_id, request_id=request.id,
                  match_id=match.id if match else None, category=request.category.value,
                  state=request.state.value)


def tell_helper(match: Match, kind: str) -> Notification:
    offer = match.offer
    return notify(offer.owner, f"helper_{kind}", event_id=match.event_id, request_id=match.request_id,
                  match_id=match.id, category=offer.category.value, title=offer.title)
