"""Standing commitments: called as "committed", one button to pledge, charged only at that checkout, capped per year."""
from __future__ import annotations

import pytest
from flask import url_for
from sqlalchemy import func, select

from tests.mutual_aid.conftest import draft, member
from webapp.campaigns.models import Campaign
from webapp.errors import DomainError
from webapp.extensions import db
from webapp.money import Money
from webapp.mutual_aid.errors import CommitmentRefused
from webapp.mutual_aid.models import Audience, CommitmentConfirmation, SolidarityCall, StandingCommitment
from webapp.mutual_aid.services import commitments, events
from webapp.payments.models import Pledge, PledgeStatus


def xof(n: int) -> Money:
    return Money(n, "XOF")


def activate(coordinator, relief_org, name="Flood"):
    event = events.create_event(coordinator, draft(relief_org.id, name=name))
    events.activate(event, coordinator)
    db.session.commit()
    return event


def call_of(user, event) -> SolidarityCall:
    return db.session.scalar(select(SolidarityCall).where(SolidarityCall.user_id == user.id,
                                                          SolidarityCall.event_id == event.id))


@pytest.fixture
def nurse():
    return member("nurse@example.org", region="FR-ARA", origins=("BJ-AQ",))


def test_a_member_commits_through_the_page_and_bad_commitments_are_refused(nurse, signed_in):
    client = signed_in(nurse)
    form = {"country": "BJ", "region": "BJ-LI", "currency": "XOF", "max_amount": "50000", "yearly_cap": "80000",
            "accept_terms": "y"}
    assert client.post(url_for("mutual_aid.my_commitments"), data=form).status_code == 302
    commitment = db.session.scalar(select(StandingCommitment))
    assert (commitment.region_code, commitment.max, commitment.yearly_cap) == ("BJ-LI", xof(50_000), xof(80_000))
    refused = client.post(url_for("mutual_aid.my_commitments"), data={**form, "yearly_cap": "10000",
                                                                      "region": "BJ-AQ"})
    assert refused.status_code == 400 and "yearly cap must be at least" in refused.get_data(as_text=True)
    unticked = client.post(url_for("mutual_aid.my_commitments"), data={**form, "accept_terms": "", "region": "BJ-AQ"})
    assert unticked.status_code == 400
    with pytest.raises(DomainError, match="same currency"):
        commitments.create_commitment(nurse, "BJ-AQ", Money(50_00, "EUR"), Money(100_00, "EUR"))
    with pytest.raises(DomainError, match="Unknown region"):
        commitments.create_commitment(nurse, "BJ-XX", xof(1), xof(1))
    assert db.session.scalar(select(func.count()).select_from(StandingCommitment)) == 1


def test_the_call_offers_one_button_and_nothing_is_charged_before_it(coordinator, relief_org, nurse, signed_in):
    commitments.create_commitment(nurse, "BJ-LI", xof(50_000), xof(80_000))
    event = activate(coordinator, relief_org)
    call = call_of(nurse, event)
    assert call.audience == Audience.COMMITTED
    assert db.session.scalar(select(func.count()).select_from(Pledge)) == 0
    client = signed_in(nurse)
    page = client.get(url_for("mutual_aid.show_call", call_id=call.id)).get_data(as_text=True)
    assert "Confirm my pledge" in page and "50,000" in page
    response = client.post(url_for("mutual_aid.confirm_commitment", call_id=call.id))
    assert response.status_code == 303 and "/sandbox/checkout/" in response.headers["Location"]
    pledge = db.session.scalar(select(Pledge))
    fund = db.session.get(Campaign, event.fund_campaign_id)
    assert (pledge.campaign_id, pledge.amount, pledge.currency, pledge.user_id) == (fund.id, 50_000, "XOF", nurse.id)
    assert pledge.status == PledgeStatus.PENDING  # charged only when the checkout completes
    again = client.post(url_for("mutual_aid.confirm_commitment", call_id=call.id))
    assert again.headers["Location"] == response.headers["Location"]  # a double click: the same pledge
    assert db.session.scalar(select(func.count()).select_from(Pledge)) == 1


def test_the_yearly_cap_holds_across_events(coordinator, relief_org, nurse):
    commitments.create_commitment(nurse, "BJ-LI", xof(50_000), xof(80_000))
    first = activate(coordinator, relief_org, "First flood")
    pledge = commitments.confirm(call_of(nurse, first), nurse, "en")
    assert pledge.amount == 50_000
    pledge.status = PledgeStatus.PAID
    db.session.commit()
    second = activate(coordinator, relief_org, "Second flood")
    assert commitments.confirm(call_of(nurse, second), nurse, "en").amount == 30_000  # what the cap leaves
    db.session.commit()
    third = activate(coordinator, relief_org, "Third flood")
    third_call = call_of(nurse, third)
    assert third_call.audience == Audience.DIASPORA  # the cap is reached: called as diaspora, not committed
    with pytest.raises(CommitmentRefused):
        commitments.confirm(third_call, nurse, "en")


def test_a_failed_or_abandoned_checkout_does_not_count_towards_the_cap(coordinator, relief_org, nurse):
    commitments.create_commitment(nurse, "BJ-LI", xof(50_000), xof(50_000))
    event = activate(coordinator, relief_org)
    call = call_of(nurse, event)
    pledge = commitments.confirm(call, nurse, "en")
    pledge.status = PledgeStatus.EXPIRED
    db.session.flush()
    retried = commitments.confirm(call, nurse, "en")
    assert retried.id != pledge.id and retried.amount == 50_000
    assert db.session.scalar(select(func.count()).select_from(CommitmentConfirmation)) == 1


def test_only_the_member_confirms_and_only_for_a_live_fund(coordinator, relief_org, nurse, signed_in):
    commitments.create_commitment(nurse, "BJ-LI", xof(50_000), xof(80_000))
    event = activate(coordinator, relief_org)
    call = call_of(nurse, event)
    other = member("other@example.org")
    assert signed_in(other).post(url_for("mutual_aid.confirm_commitment", call_id=call.id)).status_code == 404
    events.close(event, coordinator)
    db.session.commit()
    response = signed_in(nurse).post(url_for("mutual_aid.confirm_commitment", call_id=call.id))
    assert response.status_code == 400 and "closed" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Pledge)) == 0


def test_a_cancelled_commitment_brings_no_call(coordinator, relief_org, nurse, signed_in):
    commitment = commitments.create_commitment(nurse, "BJ-LI", xof(50_000), xof(80_000))
    signed_in(nurse).post(url_for("mutual_aid.cancel_commitment", commitment_id=commitment.id))
    event = activate(coordinator, relief_org)
    assert call_of(nurse, event).audience == Audience.DIASPORA


def test_with_a_card_saved_in_advance_the_one_button_charges_it_and_nothing_before(
        coordinator, relief_org, nurse, signed_in):
    commitment = commitments.create_commitment(nurse, "BJ-LI", xof(50_000), xof(80_000))
    db.session.commit()
    client = signed_in(nurse)
    setup = client.post(url_for("mutual_aid.save_payment_method", commitment_id=commitment.id))
    page = setup.headers["Location"].split("harambee.test", 1)[1]
    client.post(page, data={"card": "4242424242424242", "action": "save"})
    assert db.session.scalar(select(func.count()).select_from(Pledge)) == 0  # saving charges nothing
    event = activate(coordinator, relief_org)
    call = call_of(nurse, event)
    response = client.post(url_for("mutual_aid.confirm_commitment", call_id=call.id))
    assert response.status_code == 303 and "/pledges/" in response.headers["Location"]  # the receipt, no checkout
    pledge = db.session.scalar(select(Pledge))
    assert (pledge.status, pledge.amount, pledge.currency) == (PledgeStatus.PAID, 50_000, "XOF")
    again = client.post(url_for("mutual_aid.confirm_commitment", call_id=call.id))
    assert again.headers["Location"] == response.headers["Location"]
    assert db.session.scalar(select(func.count()).select_from(Pledge)) == 1  # never charged twice
