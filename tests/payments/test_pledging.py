"""Pledging through the sandbox checkout with the test client: the paths a backer takes, and bad input."""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import url_for
from flask_babel import format_date, force_locale

from tests.campaigns.helpers import field_errors, sign_in
from tests.factories import UserFactory
from tests.payments.support import (
    checkout_path,
    confirmed_sum,
    count,
    fresh,
    live_campaign,
    load_rates,
    pay,
    pending_pledge,
    raised,
    submit_pledge,
    text,
    the_pledge,
    tier,
)
from webapp.campaigns.models import CampaignStatus, FundingModel, RewardTier
from webapp.clock import utcnow
from webapp.extensions import db
from webapp.payments.pledging import services
from webapp.payments.models import Pledge, PledgeEvent, PledgeStatus

P = PledgeStatus
SUCCEEDS, DECLINED, AUTHENTICATE = "4242 4242 4242 4242", "4000 0000 0000 9995", "4000 0027 6000 3184"


def units_claimed(reward) -> int:
    db.session.expire_all()
    return db.session.get(RewardTier, reward.id).units_claimed


def terms_text(campaign, locale="en") -> str:
    with force_locale(locale):
        day = format_date(campaign.ends_at, "long")
    return f"charged only if the campaign reaches its goal on {day}"


@pytest.fixture
def keep_it_all():
    campaign = live_campaign("EUR", FundingModel.KEEP_IT_ALL)
    db.session.commit()
    return campaign


@pytest.fixture
def all_or_nothing():
    campaign = live_campaign("EUR", FundingModel.ALL_OR_NOTHING)
    db.session.commit()
    return campaign


@pytest.fixture
def member():
    user = UserFactory(verified=True, name="Afi Houngbo", email="afi@example.org")
    db.session.commit()
    return user


def member_client(app, user):
    client = app.test_client()
    sign_in(client, user)
    return client


# -- keep-it-all: charged now -------------------------------------------------------------------------
def test_a_french_guest_pays_with_the_test_card_and_gets_a_french_receipt(client, keep_it_all, smtp_server):
    reward = tier(keep_it_all, 2_000, limit=10, title="Un pot d'huile")
    db.session.commit()
    french = {"Accept-Language": "fr-FR,fr;q=0.9"}
    response = submit_pledge(client, keep_it_all, "25,50", tier=str(reward.id), email="Awa@Example.org",
                             headers=french)
    assert raised(keep_it_all) == 0  # nothing counts while the checkout is open
    assert units_claimed(reward) == 1  # but the unit is held

    paid = pay(client, response, SUCCEEDS, headers=french)
    pledge = fresh(the_pledge(keep_it_all))
    assert paid.status_code == 302
    back = urlsplit(paid.headers["Location"])  # the checkout's success URL: the receipt, with the checkout's token
    assert back.path == f"/pledges/{pledge.reference}"
    assert parse_qs(back.query)["checkout"] == ["done"] and len(parse_qs(back.query)["token"][0]) >= 40
    assert (pledge.status, pledge.amount, pledge.currency, pledge.locale) == (P.PAID, 2_550, "EUR", "fr")
    assert (pledge.charge_amount, pledge.charge_currency, pledge.fx_rate) == (2_550, "EUR", None)
    assert pledge.email == "awa@example.org"
    assert raised(keep_it_all) == 2_550 and confirmed_sum(keep_it_all.id) == (2_550, 1)
    assert units_claimed(reward) == 1

    [receipt] = smtp_server.messages
    assert receipt["To"] == "awa@example.org"
    assert "Votre reçu" in receipt["Subject"] and keep_it_all.title in receipt["Subject"]
    body = smtp_server.text_of(receipt)
    assert "25,50\xa0€" in body  # amount and currency, written the French way
    assert "Merci de soutenir" in body and keep_it_all.title in body and "Coopérative Tifaout" in body
    assert f"/pledges/{pledge.reference}" in body

    page = client.get(f"/pledges/{pledge.reference}", headers=french)
    assert page.status_code == 200
    assert "Merci" in text(page) and pledge.reference in text(page) and "25,50\xa0€" in text(page)


def test_the_receipt_page_in_english_confirms_the_pledge(client, keep_it_all):
    response = submit_pledge(client, keep_it_all, "12.00")
    pay(client, response, SUCCEEDS)
    pledge = the_pledge(keep_it_all)
    page = client.get(f"/pledges/{pledge.reference}")
    assert "Thank you! Your pledge is confirmed." in text(page)
    assert "€12.00" in text(page)
    campaign_page = client.get(url_for("campaigns.show", slug=keep_it_all.slug))
    assert "€12.00" in text(campaign_page)


def test_a_member_pledges_from_the_account_and_sees_it_on_my_pledges(app, keep_it_all, member):
    client = member_client(app, member)
    response = submit_pledge(client, keep_it_all, "30", email="")  # no email asked of a member
    pay(client, response, SUCCEEDS)
    pledge = fresh(the_pledge(keep_it_all))
    assert (pledge.user_id, pledge.email, pledge.status) == (member.id, "afi@example.org", P.PAID)
    mine = client.get("/pledges/mine")
    assert mine.status_code == 200
    assert keep_it_all.title in text(mine) and "€30.00" in text(mine)


# -- all-or-nothing: the card is saved ----------------------------------------------------------------
def test_all_or_nothing_saves_the_card_with_the_terms_and_commits(client, all_or_nothing, smtp_server):
    terms = terms_text(all_or_nothing)
    form = client.get(url_for("payments.pledge", slug=all_or_nothing.slug))
    assert form.status_code == 200 and terms in text(form)

    response = submit_pledge(client, all_or_nothing, "40")
    checkout = client.get(checkout_path(response))
    assert checkout.status_code == 200
    assert terms in text(checkout) and "Save my card" in text(checkout)

    pay(client, response, SUCCEEDS)
    pledge = fresh(the_pledge(all_or_nothing))
    assert pledge.status == P.COMMITTED and pledge.charge_timing == "on_success"
    assert pledge.payment_method_id and pledge.customer_id and pledge.payment_intent_id is None
    assert raised(all_or_nothing) == 4_000
    body = smtp_server.text_of(smtp_server.messages[0])
    assert terms in body
    assert terms in text(client.get(f"/pledges/{pledge.reference}"))


def test_a_keep_it_all_form_says_the_card_is_charged_now(client, keep_it_all):
    form = text(client.get(url_for("payments.pledge", slug=keep_it_all.slug)))
    assert "You are charged now" in form and "charged only if" not in form


# -- declined and authenticated cards -------------------------------------------------------------
def test_a_declined_card_answers_402_and_confirms_nothing(client, keep_it_all, smtp_server):
    response = submit_pledge(client, keep_it_all, "25")
    declined = pay(client, response, DECLINED)
    assert declined.status_code == 402
    assert "Your card was declined. Try another card." in text(declined)
    pledge = fresh(the_pledge(keep_it_all))
    assert pledge.status == P.PENDING and pledge.confirmed_at is None
    assert pledge.failure_reason == "Your card was declined."
    assert raised(keep_it_all) == 0 and confirmed_sum(keep_it_all.id) == (0, 0)
    assert smtp_server.messages == []
    # another card on the same checkout still works
    assert pay(client, response, SUCCEEDS).status_code == 302
    assert fresh(pledge).status == P.PAID


def test_an_unknown_card_is_refused_by_the_sandbox(client, keep_it_all):
    response = submit_pledge(client, keep_it_all, "25")
    refused = pay(client, response, "1234 5678 9012 3456")
    assert refused.status_code == 400 and "use one of the test cards" in text(refused)
    assert fresh(the_pledge(keep_it_all)).status == P.PENDING


def test_a_card_asking_for_authentication_is_paid_once_authenticated(client, keep_it_all):
    response = submit_pledge(client, keep_it_all, "25")
    challenge = pay(client, response, AUTHENTICATE)
    assert challenge.status_code == 200 and "Confirm it is you" in text(challenge)
    assert fresh(the_pledge(keep_it_all)).status == P.PENDING
    done = client.post(checkout_path(response), data={"action": "authenticate-ok"})
    assert done.status_code == 302
    assert fresh(the_pledge(keep_it_all)).status == P.PAID
    assert raised(keep_it_all) == 2_500


def test_a_failed_authentication_says_so_and_confirms_nothing(client, keep_it_all):
    response = submit_pledge(client, keep_it_all, "25")
    pay(client, response, AUTHENTICATE)
    failed = client.post(checkout_path(response), data={"action": "authenticate-fail"})
    assert failed.status_code == 402 and "Authentication failed" in text(failed)
    assert fresh(the_pledge(keep_it_all)).status == P.PENDING
    assert raised(keep_it_all) == 0


def test_a_paid_checkout_cannot_be_paid_again(client, keep_it_all, smtp_server):
    response = submit_pledge(client, keep_it_all, "25")
    pay(client, response, SUCCEEDS)
    again = pay(client, response, SUCCEEDS)
    assert again.status_code == 302 and "/pledges/" in again.headers["Location"]
    assert count(PledgeEvent, PledgeEvent.to_status == P.PAID) == 1
    assert raised(keep_it_all) == 2_500 and len(smtp_server.messages) == 1


# -- cancelling a committed pledge ---------------------------------------------------------------------
def _committed_with_reward(app, campaign, user):
    reward = tier(campaign, 2_000, limit=3)
    db.session.commit()
    client = member_client(app, user)
    pay(client, submit_pledge(client, campaign, "25", tier=str(reward.id)), SUCCEEDS)
    pledge = fresh(the_pledge(campaign))
    assert pledge.status == P.COMMITTED and units_claimed(reward) == 1
    return client, pledge, reward


def test_the_backer_cancels_a_committed_pledge_and_the_reward_unit_is_released(app, all_or_nothing, member):
    client, pledge, reward = _committed_with_reward(app, all_or_nothing, member)
    receipt = text(client.get(f"/pledges/{pledge.reference}"))
    assert "Cancel my pledge" in receipt
    response = client.post(f"/pledges/{pledge.reference}/cancel")
    assert response.status_code == 302
    pledge = fresh(pledge)
    assert pledge.status == P.CANCELLED and pledge.cancelled_at is not None
    assert units_claimed(reward) == 0
    assert raised(all_or_nothing) == 0
    assert count(PledgeEvent, PledgeEvent.pledge_id == pledge.id, PledgeEvent.to_status == P.CANCELLED) == 1
    # cancelling twice is refused, not applied twice
    assert client.post(f"/pledges/{pledge.reference}/cancel").status_code == 409
    assert units_claimed(reward) == 0


def test_another_member_cannot_cancel_someone_elses_pledge(app, all_or_nothing, member):
    _, pledge, reward = _committed_with_reward(app, all_or_nothing, member)
    intruder = UserFactory(verified=True)
    db.session.commit()
    other = member_client(app, intruder)
    assert "Cancel my pledge" not in text(other.get(f"/pledges/{pledge.reference}"))
    assert other.post(f"/pledges/{pledge.reference}/cancel").status_code == 403
    assert fresh(pledge).status == P.COMMITTED and units_claimed(reward) == 1


def test_a_guest_cannot_cancel_a_pledge(app, all_or_nothing, member):
    _, pledge, _reward = _committed_with_reward(app, all_or_nothing, member)
    response = app.test_client().post(f"/pledges/{pledge.reference}/cancel")
    assert response.status_code == 302 and "/account/login" in response.headers["Location"]
    assert fresh(pledge).status == P.COMMITTED


def test_a_committed_pledge_cannot_be_cancelled_after_the_deadline(app, all_or_nothing, member):
    client, pledge, reward = _committed_with_reward(app, all_or_nothing, member)
    all_or_nothing.ends_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    response = client.post(f"/pledges/{pledge.reference}/cancel")
    assert response.status_code == 409 and "deadline has passed" in text(response)
    assert fresh(pledge).status == P.COMMITTED and units_claimed(reward) == 1


def test_a_paid_pledge_cannot_be_cancelled(app, keep_it_all, member):
    client = member_client(app, member)
    pay(client, submit_pledge(client, keep_it_all, "25"), SUCCEEDS)
    pledge = the_pledge(keep_it_all)
    response = client.post(f"/pledges/{pledge.reference}/cancel")
    assert response.status_code == 409
    assert fresh(pledge).status == P.PAID and raised(keep_it_all) == 2_500


# -- abandoned and expired checkouts --------------------------------------------------------------------
def test_leaving_the_checkout_expires_the_pledge_and_releases_the_unit(client, keep_it_all):
    reward = tier(keep_it_all, 2_000, limit=1)
    db.session.commit()
    response = submit_pledge(client, keep_it_all, "25", tier=str(reward.id))
    assert units_claimed(reward) == 1
    path, _, query = checkout_path(response).partition("?")
    back = client.post(f"{path}/cancel?{query}")
    assert back.status_code == 302
    landed = client.get(back.headers["Location"], follow_redirects=True)
    assert "Nothing was charged." in text(landed)
    # Landing changes nothing (a GET, which a link preview or a leaked address could make); its button does.
    assert fresh(the_pledge(keep_it_all)).status == P.PENDING and units_claimed(reward) == 1
    given_up = client.post(url_for("payments.abandon_checkout", reference=the_pledge(keep_it_all).reference),
                           follow_redirects=True)
    assert "nothing was charged" in text(given_up)
    pledge = fresh(the_pledge(keep_it_all))
    assert pledge.status == P.EXPIRED
    assert units_claimed(reward) == 0
    assert count(PledgeEvent, PledgeEvent.to_status == P.EXPIRED) == 1
    # the released unit can be taken by the next backer
    assert submit_pledge(client, keep_it_all, "25", tier=str(reward.id)).status_code == 303
    assert units_claimed(reward) == 1


def test_holds_expire_after_thirty_minutes(client, keep_it_all):
    reward = tier(keep_it_all, 2_000, limit=2)
    db.session.commit()
    old, recent = pending_pledge(keep_it_all, 2_500, tier=reward), None
    old.hold_expires_at = utcnow() - timedelta(seconds=1)  # opened 30 minutes ago
    db.session.commit()
    recent = pending_pledge(keep_it_all, 2_500, tier=reward)
    paid = pending_pledge(keep_it_all, 2_500)
    pay(client, paid.checkout_url.split("harambee.test", 1)[1], SUCCEEDS)
    assert units_claimed(reward) == 2

    assert services.release_expired_holds() == 1
    db.session.commit()
    assert (fresh(old).status, fresh(recent).status, fresh(paid).status) == (P.EXPIRED, P.PENDING, P.PAID)
    assert units_claimed(reward) == 1

    # 33 minutes later the other open checkout goes too; the paid pledge stays
    assert services.release_expired_holds(now=utcnow() + timedelta(minutes=33)) == 1
    db.session.commit()
    assert (fresh(recent).status, fresh(paid).status) == (P.EXPIRED, P.PAID)
    assert units_claimed(reward) == 0
    # an expired checkout page sends the backer to the pledge page instead of taking money
    late = pay(client, recent.checkout_url.split("harambee.test", 1)[1], SUCCEEDS)
    assert late.status_code == 302 and fresh(recent).status == P.EXPIRED


def test_the_hold_outlives_the_thirty_minute_checkout(keep_it_all):
    # Stripe's shortest session is 30 minutes: the session gets 31, the reward unit is held for 32,
    # so nobody can pay on a checkout whose unit was already released.
    pledge = pending_pledge(keep_it_all, 2_500)
    held_for = pledge.hold_expires_at - pledge.created_at
    assert timedelta(minutes=31, seconds=59) <= held_for <= timedelta(minutes=32, seconds=1)
    assert services.release_expired_holds(now=utcnow() + timedelta(minutes=31)) == 0


# -- bad input --------------------------------------------------------------------------------------
def _refused(response, status: int = 400):
    assert response.status_code == status, response.status_code
    assert count(Pledge) == 0
    assert count(PledgeEvent) == 0
    return text(response)


def test_an_amount_below_the_tier_minimum_is_refused(client, keep_it_all):
    reward = tier(keep_it_all, 2_000, limit=5)
    db.session.commit()
    page = _refused(submit_pledge(client, keep_it_all, "19.99", tier=str(reward.id)))
    assert "The smallest pledge here is €20.00." in page
    assert units_claimed(reward) == 0


def test_an_amount_below_the_processor_minimum_is_refused(client, keep_it_all):
    page = _refused(submit_pledge(client, keep_it_all, "0.49"))
    assert "The smallest pledge here is €0.50." in page


def test_an_amount_above_the_maximum_is_refused(client, keep_it_all):
    page = _refused(submit_pledge(client, keep_it_all, "10000.01"))
    assert "The largest pledge we accept is €10,000.00" in page
    assert submit_pledge(client, keep_it_all, "10000.00").status_code == 303


@pytest.mark.parametrize("amount, message", [
    ("12.345", "EUR amounts take at most 2 decimals."),
    ("-5", "The amount must be greater than zero."),
    ("abc", "number"),
    ("", "This field is required."),
])
def test_malformed_amounts_are_refused(client, keep_it_all, amount, message):
    response = submit_pledge(client, keep_it_all, amount)
    _refused(response)
    assert any(message in error for error in field_errors(response, "amount")), field_errors(response, "amount")


@pytest.mark.parametrize("language", ["en-US", "fr-FR"])  # a choice of two currencies, or the campaign's only
def test_a_currency_the_form_does_not_offer_is_refused_next_to_the_field(client, keep_it_all, language):
    response = submit_pledge(client, keep_it_all, "25", pay_currency="GBP", headers={"Accept-Language": language})
    _refused(response)
    assert field_errors(response, "pay_currency")


def test_a_currency_offered_to_somebody_else_is_refused(client, keep_it_all):
    """XOF is offered to a visitor from Benin, not to this one (an English browser): the form is tampered."""
    load_rates(USD="1.0825")
    db.session.commit()
    response = submit_pledge(client, keep_it_all, "25", pay_currency="XOF", headers={"Accept-Language": "en-US"})
    _refused(response)


def test_a_reward_of_another_campaign_is_refused(client, keep_it_all):
    elsewhere = tier(live_campaign("EUR"), 1_000, limit=5)
    db.session.commit()
    response = submit_pledge(client, keep_it_all, "25", tier=str(elsewhere.id))
    page = _refused(response)
    assert "Choose a reward of this campaign." in page
    assert units_claimed(elsewhere) == 0


def test_a_draft_campaign_takes_no_pledges(client):
    draft = live_campaign("EUR", status=CampaignStatus.DRAFT, launched_at=None)
    db.session.commit()
    assert client.get(url_for("payments.pledge", slug=draft.slug)).status_code == 404
    _refused(submit_pledge(client, draft, "25"), 404)


@pytest.mark.parametrize("how", ["deadline passed", "succeeded", "failed"])
def test_an_ended_campaign_takes_no_pledges(client, how):
    if how == "deadline passed":
        ended = live_campaign("EUR", starts_at=utcnow() - timedelta(days=30), ends_at=utcnow() - timedelta(hours=1))
    else:
        ended = live_campaign("EUR", status=CampaignStatus(how), starts_at=utcnow() - timedelta(days=30),
                              ends_at=utcnow() - timedelta(days=1))
    db.session.commit()
    page = _refused(submit_pledge(client, ended, "25"))
    assert "This campaign is not taking pledges." in page


def test_a_guest_must_give_an_email(client, keep_it_all):
    response = submit_pledge(client, keep_it_all, "25", email="")
    _refused(response)
    assert field_errors(response, "email")
    response = submit_pledge(client, keep_it_all, "25", email="not-an-email")
    _refused(response)
    assert field_errors(response, "email")


def test_a_message_longer_than_500_characters_is_refused(client, keep_it_all):
    response = submit_pledge(client, keep_it_all, "25", message="m" * 501)
    _refused(response)
    assert field_errors(response, "message")
    assert submit_pledge(client, keep_it_all, "25", message="m" * 500).status_code == 303


def test_a_missing_form_token_is_refused(client, keep_it_all):
    _refused(submit_pledge(client, keep_it_all, "25", client_token=""))


def test_a_double_clicked_submit_makes_one_pledge_and_the_same_checkout(client, keep_it_all):
    reward = tier(keep_it_all, 2_000, limit=5)
    db.session.commit()
    fields = dict(tier=str(reward.id), client_token="double-click-token-0123456789")
    first = submit_pledge(client, keep_it_all, "25", **fields)
    second = submit_pledge(client, keep_it_all, "25", **fields)
    assert first.status_code == second.status_code == 303
    assert first.headers["Location"] == second.headers["Location"]
    assert count(Pledge) == 1 and count(PledgeEvent) == 1
    assert units_claimed(reward) == 1
    # after paying, the same token leads to the receipt, still without a second pledge
    pay(client, first, SUCCEEDS)
    third = submit_pledge(client, keep_it_all, "25", **fields)
    assert third.status_code == 303 and "/pledges/" in third.headers["Location"]
    assert count(Pledge) == 1 and units_claimed(reward) == 1


def test_a_sold_out_reward_is_refused_with_a_message(client, keep_it_all):
    reward = tier(keep_it_all, 2_000, limit=1)
    db.session.commit()
    assert submit_pledge(client, keep_it_all, "25", tier=str(reward.id)).status_code == 303
    response = submit_pledge(client, keep_it_all, "25", tier=str(reward.id))
    assert response.status_code == 409 and "sold out" in text(response)
    assert count(Pledge) == 1 and units_claimed(reward) == 1


# -- currencies through the form --------------------------------------------------------------------------
# The minimums follow from the settlement currency (EUR) at the day's rate plus 5 % (payments.minimums;
# tests/payments/test_minimums.py runs every currency through the fake Stripe).
@pytest.mark.parametrize("currency, at_minimum, below, stored", [
    ("EUR", "0.50", "0.49", 50),
    ("USD", "0.60", "0.59", 60),
    ("XOF", "350", "349", 350),
    ("JPY", "90", "89", 90),
    ("MAD", "6.00", "5.99", 600),
    ("TND", "1.800", "1.790", 1_800),
])
def test_the_minimum_charge_is_accepted_and_one_unit_less_is_refused(client, currency, at_minimum, below, stored):
    from tests.payments.support import standard_rates

    standard_rates()
    campaign = live_campaign(currency)
    db.session.commit()
    refused = submit_pledge(client, campaign, below)
    assert refused.status_code == 400 and "The smallest pledge here is" in text(refused)
    assert count(Pledge) == 0
    accepted = submit_pledge(client, campaign, at_minimum)
    assert accepted.status_code == 303
    pay(client, accepted, SUCCEEDS)
    pledge = fresh(the_pledge(campaign))
    assert (pledge.amount, pledge.currency, pledge.charge_amount, pledge.charge_currency, pledge.status) == (
        stored, currency, stored, currency, P.PAID)
    assert raised(campaign) == stored


@pytest.mark.parametrize("currency, typed", [("XOF", "25000.5"), ("JPY", "100.1"), ("TND", "2.0001"),
                                             ("MAD", "5.001"), ("USD", "1.001")])
def test_amounts_with_more_decimals_than_the_currency_has_are_refused(client, currency, typed):
    campaign = live_campaign(currency)
    db.session.commit()
    response = submit_pledge(client, campaign, typed)
    _refused(response)
    assert any("decimals" in e for e in field_errors(response, "amount"))


def test_a_tnd_amount_the_processor_cannot_charge_is_refused(client):
    """Stripe takes TND in millimes whose last digit is 0: 2.005 TND cannot be charged."""
    from tests.payments.support import standard_rates

    standard_rates()
    campaign = live_campaign("TND")
    db.session.commit()
    response = submit_pledge(client, campaign, "2.005")
    assert "TND amounts take at most 2 decimals." in _refused(response)
    assert submit_pledge(client, campaign, "2.010").status_code == 303


def test_a_french_visitor_pledges_25000_xof_and_sees_euros_with_the_parity(client, smtp_server):
    campaign = live_campaign("XOF", FundingModel.KEEP_IT_ALL, goal=1_000_000)
    db.session.commit()
    french = {"Accept-Language": "fr-FR,fr;q=0.9"}
    form = text(client.get(url_for("payments.pledge", slug=campaign.slug), headers=french))
    assert "1\u202f524,49\xa0€" in form  # the goal, 1,000,000 XOF, also in euros
    assert "parité fixe" in form
    response = submit_pledge(client, campaign, "25 000", headers=french)
    pay(client, response, SUCCEEDS, headers=french)
    pledge = fresh(the_pledge(campaign))
    assert (pledge.amount, pledge.currency, pledge.status) == (25_000, "XOF", P.PAID)
    assert raised(campaign) == 25_000
    body = smtp_server.text_of(smtp_server.messages[0])
    assert "25\u202f000\xa0F\u202fCFA" in body


def test_a_backer_from_benin_pays_a_euro_campaign_in_francs_cfa(client, keep_it_all, smtp_server):
    beninese = {"Accept-Language": "fr-BJ,fr;q=0.9"}
    form = text(client.get(url_for("payments.pledge", slug=keep_it_all.slug), headers=beninese))
    assert 'value="XOF"' in form  # offered: her own currency
    response = submit_pledge(client, keep_it_all, "500", pay_currency="XOF", headers=beninese)
    checkout = text(client.get(checkout_path(response), headers=beninese))
    assert "327\u202f979" in checkout  # the payment page shows the amount charged in XOF
    pay(client, response, SUCCEEDS, headers=beninese)
    pledge = fresh(the_pledge(keep_it_all))
    # 500 EUR x 655.957 = 327,978.5 XOF: half up to 327,979
    assert (pledge.amount, pledge.currency) == (50_000, "EUR")
    assert (pledge.charge_amount, pledge.charge_currency) == (327_979, "XOF")
    assert pledge.fx_rate == Decimal("655.957") and pledge.fx_date is None
    assert pledge.status == P.PAID and raised(keep_it_all) == 50_000  # the goal counts in euros
    body = smtp_server.text_of(smtp_server.messages[0])
    assert "327\u202f979\xa0F\u202fCFA" in body and "500,00\xa0€" in body and "parité fixe" in body


@pytest.mark.parametrize("currency, eur, charged", [
    ("USD", "2.00", 217),        # 2.165 USD: half up
    ("JPY", "25.00", 4_086),     # 4,085.5 JPY: half up to a whole yen
    ("MAD", "2.50", 2_711),      # 27.105 MAD: half up
    ("TND", "5.00", 16_960),     # 16.955 TND: half up to the ten millimes Stripe accepts
    ("TND", "0.60", 2_030),      # 2.0346 TND: to the nearest ten millimes, rounded once (not 2.035 then 2.040)
])
def test_paying_in_the_backers_currency_records_rate_date_and_rounds_half_up(
        app, member, keep_it_all, currency, eur, charged, smtp_server):
    from tests.payments.support import RATE_DATE, standard_rates

    standard_rates()
    member.display_currency = currency
    db.session.commit()
    client = member_client(app, member)
    response = submit_pledge(client, keep_it_all, eur, pay_currency=currency)
    assert response.status_code == 303, text(response)
    pay(client, response, SUCCEEDS)
    pledge = fresh(the_pledge(keep_it_all))
    assert (pledge.charge_amount, pledge.charge_currency) == (charged, currency)
    assert pledge.fx_date == RATE_DATE and pledge.fx_rate is not None
    assert pledge.status == P.PAID
    assert raised(keep_it_all) == int(Decimal(eur) * 100)
    if currency == "TND":
        assert pledge.charge_amount % 10 == 0
    # the receipt shows what was charged, at which rate and of which day
    body = smtp_server.text_of(smtp_server.messages[0])
    assert pledge.charge.format("en") in body and f"€{eur}" in body
    assert f"1 EUR = {pledge.fx_rate:.6f}".rstrip("0") in body and "rate of Nov 27, 2026" in body


def test_the_display_currency_chooser_offers_that_currency_for_payment(client, keep_it_all):
    from tests.payments.support import standard_rates

    standard_rates()
    db.session.commit()
    assert client.post("/currency", data={"currency": "MAD"}).status_code == 302
    form = text(client.get(url_for("payments.pledge", slug=keep_it_all.slug)))
    assert 'value="MAD"' in form and "rate of" in form
    response = submit_pledge(client, keep_it_all, "10", pay_currency="MAD")
    assert response.status_code == 303
    assert fresh(the_pledge(keep_it_all)).charge_amount == 10_842


def test_a_charge_below_the_minimum_in_the_backers_currency_is_refused(client):
    """50 JPY (Stripe's yen minimum) is about 0.31 EUR: below what the processor charges in euros, the
    settlement currency; the yen minimum is therefore 0.50 EUR in yen plus 5 %, rounded up: 90 JPY."""
    campaign = live_campaign("JPY", FundingModel.KEEP_IT_ALL)
    from tests.payments.support import standard_rates

    standard_rates()
    db.session.commit()
    french = {"Accept-Language": "fr-FR"}
    response = submit_pledge(client, campaign, "50", pay_currency="EUR", headers=french)
    assert response.status_code == 400 and "(≈ 0,55\xa0€)" in text(response)
    assert count(Pledge) == 0
    assert submit_pledge(client, campaign, "89", pay_currency="EUR", headers=french).status_code == 400
    assert submit_pledge(client, campaign, "90", pay_currency="EUR", headers=french).status_code == 303
    assert fresh(the_pledge(campaign)).charge_amount == 55  # 90 JPY = 0.5507 EUR


def test_a_campaign_that_takes_only_its_currency_refuses_another(client):
    campaign = live_campaign("EUR", accepts_backer_currency=False)
    db.session.commit()
    beninese = {"Accept-Language": "fr-BJ"}
    assert 'value="XOF"' not in text(client.get(url_for("payments.pledge", slug=campaign.slug), headers=beninese))
    _refused(submit_pledge(client, campaign, "25", pay_currency="XOF", headers=beninese))


def test_without_a_rate_the_backer_is_told_to_pay_in_the_campaign_currency(client, keep_it_all):
    response = submit_pledge(client, keep_it_all, "25", pay_currency="USD", headers={"Accept-Language": "en-US"})
    page = _refused(response)
    assert "We have no exchange rate for USD today; pay in EUR." in page


def test_a_minimum_and_optimum_campaign_names_its_minimum_wherever_the_terms_are_read(client, smtp_server):
    campaign = live_campaign("EUR", FundingModel.MINIMUM_OPTIMUM, goal=200_00, minimum_amount=80_00)
    db.session.commit()
    with force_locale("en"):
        day = format_date(campaign.ends_at, "long")
    terms = f"charged only if the campaign reaches its minimum of €80.00 on {day}"

    assert terms in text(client.get(url_for("payments.pledge", slug=campaign.slug)))
    response = submit_pledge(client, campaign, "40")
    checkout = text(client.get(checkout_path(response)))
    assert terms in checkout and "reaches its goal" not in checkout
    pay(client, response, SUCCEEDS)
    pledge = fresh(the_pledge(campaign))
    assert pledge.status == P.COMMITTED
    assert terms in smtp_server.text_of(smtp_server.messages[0])
    receipt = text(client.get(f"/pledges/{pledge.reference}"))
    assert terms in receipt and "reaches its goal" not in receipt
