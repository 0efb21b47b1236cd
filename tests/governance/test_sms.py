"""Vote links and reminders by SMS to members who gave a mobile number (with consent), by their channel
(email, SMS or both), in their language, sent only once the roll is committed; the number set by the member
or an editor, validated as E.164."""
from __future__ import annotations

from datetime import timedelta

import pytest
from flask import url_for

from tests.campaigns.helpers import sign_in
from tests.factories import UserFactory
from tests.governance.helpers import fund_world, member, voter
from tests.impact.conftest import RecordingSms
from webapp.errors import DomainError, PermissionDenied
from webapp.extensions import db
from webapp.governance import ballots, rounds
from webapp.membership import services as membership
from webapp.membership.models import OrgMember


@pytest.fixture
def sms(app):
    recorder = RecordingSms()
    app.extensions["mutual_aid.sms"] = recorder
    yield recorder
    app.extensions.pop("mutual_aid.sms", None)


def _channels(w, *choices):
    """Member i gets choices[i]: None (email, no phone), or a channel with a number."""
    for i, channel in enumerate(choices):
        if channel:
            m = w.members[i]
            membership.set_contact(m, w.users[i], f"+229 97 00 00 0{i}", channel, consent=True)


def test_the_vote_link_goes_by_each_members_channel_in_their_language_after_the_commit(sms, mail_outbox):
    w = fund_world(3, voting=False)
    w.users[1].locale = "fr"
    _channels(w, None, "sms", "both")
    rounds.open_voting(w.round, w.owner)
    assert sms.sent == []  # nothing leaves before the roll is committed
    db.session.commit()
    emailed = sorted(str(m["To"]) for m in mail_outbox)
    assert emailed == sorted([w.users[0].email, w.users[2].email])
    assert sorted(n for n, _, _ in sms.sent) == ["+22997000001", "+22997000002"]
    by_number = {n: (text, ref) for n, text, ref in sms.sent}
    text, ref = by_number["+22997000001"]
    assert "/vote/" in text and "Vote" in text and "Harambee" in text
    assert "ses membres" in text  # French, the member's language
    assert ref == f"vote-{w.round.id}-{voter(w, 1).id}-link"
    token = text.rsplit("/vote/", 1)[1]
    assert ballots.voter_from_link(token)[1].id == voter(w, 1).id  # the SMS link is the signed link


def test_a_roll_rolled_back_sends_no_sms(sms):
    w = fund_world(1, voting=False)
    _channels(w, "sms")
    db.session.commit()
    rounds.open_voting(w.round, w.owner)
    db.session.rollback()
    db.session.commit()
    assert sms.sent == []


def test_the_reminder_goes_by_sms_to_those_who_have_not_voted(sms, mail_outbox):
    w = fund_world(3, voting=False, reminder_hours=24)
    _channels(w, "sms", "sms", "email")
    rounds.open_voting(w.round, w.owner)
    db.session.commit()
    ballots.cast(w.round, voter(w, 0), [w.proposals[0].id])
    db.session.commit()
    sms.sent.clear()
    mail_outbox.clear()
    later = w.round.voting_closes_at - timedelta(hours=23)
    assert ballots.send_reminders(w.round.id, later) == 2
    db.session.commit()
    assert [(n, ref) for n, _, ref in sms.sent] == [("+22997000001", f"vote-{w.round.id}-{voter(w, 1).id}-reminder")]
    assert "not voted yet" in sms.sent[0][1]
    assert [str(m["To"]) for m in mail_outbox] == [w.users[2].email]


def test_the_number_is_e164_needs_consent_and_only_the_member_or_an_editor_sets_it():
    w = fund_world(1, voting=False)
    m, user = w.members[0], w.users[0]
    for phone, channel, consent in (("97 00 00 00", "sms", True), ("+0123", "sms", True),
                                    ("+229 97 00 00 00", "sms", False), ("", "sms", True),
                                    ("+22997000000", "pigeon", True)):
        with pytest.raises(DomainError):
            membership.set_contact(m, user, phone, channel, consent)
    with pytest.raises(PermissionDenied):
        membership.set_contact(m, UserFactory(verified=True), "+22997000000", "sms", True)
    membership.set_contact(m, w.owner, "00229 97-00-00-00", "both", True)
    assert (m.phone, m.channel, m.phone_entered_by_id) == ("+22997000000", "both", w.owner.id)
    assert m.phone_consent_at is not None
    membership.set_contact(m, user, "", "email", False)
    assert (m.phone, m.channel, m.phone_consent_at) == (None, "email", None)


def test_the_member_and_the_editors_set_the_number_from_their_pages(client):
    w = fund_world(1, voting=False)
    m = w.members[0]
    other = member(w.org)
    db.session.commit()
    sign_in(client, w.users[0])
    assert url_for("membership.contact", member_id=m.id) in client.get(url_for("membership.mine")).get_data(True)
    assert client.post(url_for("membership.contact", member_id=m.id),
                       data={"phone": "+229 97 11 22 33", "channel": "sms", "consent": "y"}).status_code == 302
    bad = client.post(url_for("membership.contact", member_id=m.id), data={"phone": "abc", "channel": "sms",
                                                                           "consent": "y"})
    assert bad.status_code == 400 and "international" in bad.get_data(True)
    assert client.post(url_for("membership.contact", member_id=other.id),
                       data={"phone": "", "channel": "email"}).status_code == 403
    db.session.expire_all()
    assert (db.session.get(OrgMember, m.id).phone, db.session.get(OrgMember, m.id).channel) == ("+22997112233", "sms")
    sign_in(client, w.owner)
    page = client.get(url_for("membership.manage", slug=w.org.slug)).get_data(True)
    assert url_for("membership.member_contact", slug=w.org.slug, member_id=other.id) in page
    assert client.post(url_for("membership.member_contact", slug=w.org.slug, member_id=other.id),
                       data={"phone": "+33 6 12 34 56 78", "channel": "both", "consent": "y"}).status_code == 302
    db.session.expire_all()
    assert db.session.get(OrgMember, other.id).phone == "+33612345678"


def test_the_members_data_download_holds_their_membership_number_and_channel():
    from webapp.privacy.services import export

    w = fund_world(1, voting=False)
    membership.set_contact(w.members[0], w.users[0], "+229 97 00 00 09", "both", consent=True)
    [record] = export.gather(w.users[0]).records["org_memberships"]
    assert (record["organization"], record["phone"], record["channel"], record["state"]) == (
        w.org.name, "+22997000009", "both", "active")
    assert export.gather(w.owner).records.get("org_memberships") == []
