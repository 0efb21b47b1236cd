"""Vote links and reminders to each member on a roll, by the channel the member chose: email, SMS or both.

An SMS is sent after the transaction commits, as an email is (webapp.mail): a roll rolled back sends nothing.
It goes through the SMS channel mutual aid and impact use (webapp.mutual_aid.sms), in the member's language.
Nothing here logs a number or a link: the log channel itself writes the message, as MAIL_BACKEND=log does.
"""
from __future__ import annotations

import logging

from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import event
from sqlalchemy.orm import Session

from webapp.accounts.models import User
from webapp.extensions import db
from webapp.governance.models import FundingRound, RoundVoter
from webapp.mail import queue_email
from webapp.membership.models import OrgMember

log = logging.getLogger(__name__)
_SMS_OUTBOX = "harambee_governance_sms"


def send_vote_link(rnd: FundingRound, voter: RoundVoter, link: str, *, reminder: bool) -> None:
    """The signed link (or the reminder with it) to one voter, by their channel; email when they chose no SMS."""
    user = db.session.get(User, voter.user_id)
    member = db.session.get(OrgMember, voter.member_id)
    channel = member.channel if member is not None and member.phone else "email"
    if channel in ("email", "both"):
        queue_email("round_vote_link", user.email, user.locale, rnd=rnd, org=rnd.fund.organization, link=link,
                    reminder=reminder)
    if channel in ("sms", "both"):
        with force_locale(user.locale or "en"):
            text = vote_sms_text(rnd, link, reminder=reminder)
        queue_sms(member.phone, text, reference=f"vote-{rnd.id}-{voter.id}-{'reminder' if reminder else 'link'}")


def vote_sms_text(rnd: FundingRound, link: str, *, reminder: bool) -> str:
    """Short: what it is, until when, the link (in the current locale)."""
    org, closes = rnd.fund.organization.name, rnd.voting_closes_at.strftime("%Y-%m-%d %H:%M")
    if reminder:
        return _("Harambee: you have not voted yet in “%(title)s” of %(org)s; voting closes %(date)s UTC. "
                 "Vote (once, do not share): %(link)s", title=rnd.title, org=org, date=closes, link=link)
    return _("Harambee: %(org)s asks its members to vote in “%(title)s” until %(date)s UTC. "
             "Vote (once, do not share): %(link)s", title=rnd.title, org=org, date=closes, link=link)


def queue_sms(number: str, text: str, *, reference: str) -> None:
    db.session.info.setdefault(_SMS_OUTBOX, []).append((number, text, reference))


def _flush(session: Session) -> None:
    from webapp.mutual_aid.sms import sms_channel

    for number, text, reference in session.info.pop(_SMS_OUTBOX, []):
        try:
            sms_channel().send(number, text, reference=reference)
        except Exception:  # the roll is saved; a lost SMS must not undo it (the email, when chosen, still goes)
            log.exception("could not send the SMS %s", reference)


def init_sms() -> None:
    if getattr(init_sms, "_listening", False):
        return
    event.listen(Session, "after_commit", _flush)
    event.listen(Session, "after_soft_rollback",
                 lambda s, t: s.info.pop(_SMS_OUTBOX, None) if t.parent is None else None)
    init_sms._listening = True  # type: ignore[attr-defined]
