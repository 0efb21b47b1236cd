"""Delete my account: a pseudonym everywhere, money records untouched, matched people told, last owners refused."""
from __future__ import annotations

import pytest
from flask import url_for
from sqlalchemy import func, select

from tests.factories import PASSWORD, OrganizationFactory, UserFactory
from webapp.accounts.models import User
from webapp.extensions import db
from webapp.ledger.models import LedgerEntry
from webapp.mutual_aid.models import (
    CommitmentState,
    HelpRequest,
    Match,
    MatchState,
    Notification,
    Offer,
    OfferState,
    RequestState,
    StandingCommitment,
)
from webapp.organizations.models import Membership
from webapp.payments.models import Pledge
from webapp.privacy.models import AccountErasure, ErasureReason
from webapp.privacy.services import erasure

PLEDGE_MONEY = ("id", "reference", "campaign_id", "status", "amount", "currency", "charge_amount", "charge_currency",
                "tip_amount", "refunded_amount", "provider", "charge_id", "payment_intent_id", "created_at",
                "confirmed_at")


def snapshot(model, columns=None):
    table = model.__table__
    cols = [table.c[name] for name in columns] if columns else list(table.c)
    return [tuple(row) for row in db.session.execute(select(*cols).order_by(table.c.id))]


def everything_stored() -> str:
    """Every value of every row of every table, as text (JSON columns included), each with where it is."""
    parts = []
    for table in db.metadata.sorted_tables:
        for row in db.session.execute(table.select()):
            parts.extend(f"{table.name}.{column.name}={value}" for column, value in zip(table.c, row)
                         if value is not None)
    return "\n".join(parts)


def delete_form(password=PASSWORD, confirm=True) -> dict:
    return {"password": password, **({"confirm": "y"} if confirm else {})}


def test_deleting_pseudonymizes_the_member_in_every_table(world, signed_in, mail_outbox):
    assert all(secret in everything_stored() for secret in world.secrets)  # the scan sees them before
    client = signed_in(world.member)
    member_id = world.member.id

    response = client.post(url_for("privacy.delete_account"), data=delete_form())

    assert response.status_code == 302
    db.session.expire_all()
    stored = everything_stored()
    found = [line for line in stored.splitlines() if any(secret in line for secret in world.secrets)]
    assert not found, f"still stored after the erasure: {found}"
    user = db.session.get(User, member_id)
    assert user.name == "Deleted member"
    assert user.email.startswith(f"deleted-{member_id}-") and user.email.endswith("@deleted.invalid")
    assert (user.latitude, user.longitude, user.residence_region, user.locale, user.origin_regions) == (
        None, None, None, None, [])
    assert db.session.scalar(select(func.count()).select_from(Membership).where(Membership.user_id == member_id)) == 0
    erasure_row = db.session.scalar(select(AccountErasure).where(AccountErasure.user_id == member_id))
    assert erasure_row.reason == ErasureReason.MEMBER
    # The others' data is theirs and stays.
    assert world.stranger.email in stored and "Lot 3, Cadjèhoun" in stored


def test_deleting_keeps_ledger_rows_and_pledge_money_identical(world, signed_in):
    ledger_before = snapshot(LedgerEntry)
    pledges_before = snapshot(Pledge, PLEDGE_MONEY)
    client = signed_in(world.member)

    assert client.post(url_for("privacy.delete_account"), data=delete_form()).status_code == 302

    db.session.expire_all()
    assert snapshot(LedgerEntry) == ledger_before
    assert snapshot(Pledge, PLEDGE_MONEY) == pledges_before
    for pledge in (world.pledge, world.guest_pledge):
        db.session.refresh(pledge)
        assert (pledge.message, pledge.display_name, pledge.public_name) == (None, None, None)
        assert pledge.email.endswith("@deleted.invalid")


def test_deleting_withdraws_offers_and_requests_and_tells_the_matched_people(world, signed_in, mail_outbox):
    client = signed_in(world.member)
    member_email = world.member.email
    requester_id, helper_id, member_id = world.requester.id, world.helper.id, world.member.id
    mail_outbox.clear()  # what matching sent while the world was built

    client.post(url_for("privacy.delete_account"), data=delete_form())

    db.session.expire_all()
    assert {o.state for o in db.session.scalars(select(Offer).where(Offer.owner_id == member_id))} == {
        OfferState.CLOSED}
    assert {r.state for r in db.session.scalars(select(HelpRequest).where(HelpRequest.requester_id == member_id))} \
        == {RequestState.CANCELLED}
    matches = db.session.scalars(select(Match)).all()
    assert {m.state for m in matches} == {MatchState.CANCELLED}
    # The requester's request is open again for other helpers; both counterparts were told.
    theirs = db.session.scalar(select(HelpRequest).where(HelpRequest.requester_id == requester_id))
    assert theirs.state == RequestState.OPEN
    kinds = {(n.user_id, n.kind) for n in db.session.scalars(select(Notification))}
    assert (requester_id, "request_match_cancelled") in kinds
    assert (helper_id, "helper_match_cancelled") in kinds
    assert not any(user_id == member_id for user_id, _kind in kinds)
    assert {c.state for c in db.session.scalars(select(StandingCommitment).where(
        StandingCommitment.user_id == member_id))} == {CommitmentState.CANCELLED}
    # Mail: the counterparts, and one last confirmation to the member's address, sent before it was erased.
    to_member = [m for m in mail_outbox if m["To"] == member_email]
    assert len(to_member) == 1
    assert to_member[0]["Subject"] == "Votre compte Harambee est supprimé"  # in the member's language
    recipients = {m["To"] for m in mail_outbox}
    assert {world.requester.email, world.helper.email} <= recipients
    assert not any(to.endswith("@deleted.invalid") for to in recipients)


def test_a_deleted_member_can_no_longer_sign_in_and_their_sessions_end(world, signed_in, app, login):
    client = signed_in(world.member)
    other_device = app.test_client()
    login(other_device, world.member)
    email = world.member.email

    client.post(url_for("privacy.delete_account"), data=delete_form())

    assert other_device.get(url_for("accounts.profile")).status_code == 302  # back to the sign-in page
    assert client.get(url_for("accounts.profile")).status_code == 302
    response = app.test_client().post(url_for("accounts.login"), data={"email": email, "password": PASSWORD})
    assert response.status_code == 401
    placeholder = db.session.scalar(select(User.email).where(User.id == world.member.id))
    response = app.test_client().post(url_for("accounts.login"), data={"email": placeholder, "password": PASSWORD})
    assert response.status_code == 401


@pytest.mark.parametrize("form, field", [(delete_form(password="not my password"), "password"),
                                         (delete_form(password=""), "password"),
                                         (delete_form(confirm=False), "confirm")])
def test_deleting_needs_the_password_and_the_confirmation(world, signed_in, form, field):
    client = signed_in(world.member)

    response = client.post(url_for("privacy.delete_account"), data=form)

    assert response.status_code == 400
    db.session.expire_all()
    assert db.session.get(User, world.member.id).email == "afiavi.dossou@example.org"
    assert db.session.scalar(select(func.count()).select_from(AccountErasure)) == 0
    assert client.get(url_for("accounts.profile")).status_code == 200  # still signed in


def test_the_last_owner_of_an_organization_is_refused_with_what_to_do(signed_in):
    owner = UserFactory(verified=True, name="Sole Owner")
    OrganizationFactory(owner=owner, name="Mutuelle de Porto-Novo")
    client = signed_in(owner)

    page = client.get(url_for("privacy.delete_account"))
    assert page.status_code == 200 and "Mutuelle de Porto-Novo" in page.get_data(as_text=True)
    response = client.post(url_for("privacy.delete_account"), data=delete_form())

    assert response.status_code == 409
    text = response.get_data(as_text=True)
    assert "last owner" in text and "Mutuelle de Porto-Novo" in text and "moderators" in text
    db.session.expire_all()
    assert db.session.get(User, owner.id).name == "Sole Owner"
    with pytest.raises(erasure.LastOwner):
        erasure.delete_account(owner, PASSWORD)


def test_an_owner_with_a_co_owner_may_leave(signed_in):
    owner, partner = UserFactory(verified=True), UserFactory(verified=True)
    org = OrganizationFactory(owner=owner, editors=[])
    from tests.factories import MembershipFactory

    MembershipFactory(organization=org, user=partner, role="owner")
    erasure.delete_account(owner, PASSWORD)
    assert [m.user_id for m in db.session.scalars(select(Membership).where(Membership.organization_id == org.id))] \
        == [partner.id]


def test_an_account_is_erased_once():
    user = UserFactory(verified=True)
    erasure.delete_account(user, PASSWORD)
    with pytest.raises(erasure.DomainError):
        erasure.erase_account(user, ErasureReason.MEMBER, tell_member=False)


def test_the_profile_links_to_the_download_and_the_deletion(signed_in):
    text = signed_in(UserFactory(verified=True)).get(url_for("accounts.profile")).get_data(as_text=True)
    assert url_for("privacy.export_json", _external=False) in text
    assert url_for("privacy.delete_account", _external=False) in text


def test_nothing_is_ever_mailed_to_a_deleted_members_placeholder(world, signed_in, mail_outbox):
    from webapp.mail import queue_email

    signed_in(world.member).post(url_for("privacy.delete_account"), data=delete_form())
    mail_outbox.clear()
    placeholder = db.session.scalar(select(User.email).where(User.id == world.member.id))

    queue_email("verify_email", placeholder, "en", user=db.session.get(User, world.member.id), link="http://x/")
    db.session.commit()

    assert mail_outbox == []


def test_the_ledger_never_holds_a_backers_name_since_its_rows_outlive_an_erasure():
    from sqlalchemy import select

    from tests.factories import PledgeFactory
    from webapp.payments import bookkeeping

    pledge = PledgeFactory(display_name="Afi D.", message="From Lyon")
    bookkeeping.book_charge(pledge)
    db.session.flush()
    memos = db.session.scalars(select(LedgerEntry.memo)).all()
    assert memos and not [m for m in memos if m and ("Afi" in m or "Lyon" in m)]
