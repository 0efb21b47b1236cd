"""What a backer reads about their money, state by state: charged only once it was, and released when it was."""
from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal
from html import unescape

import pytest
from flask import url_for

from tests.campaigns.helpers import sign_in
from tests.factories import CampaignFactory, MembershipFactory, PledgeFactory, UserFactory
from webapp.clock import utcnow
from webapp.extensions import db
from webapp.mail import render_email
from webapp.payments.models import ChargeTiming, PledgeStatus

P = PledgeStatus
NARROW_NBSP = "\u202f"

#: state → (English, French) label of the amount charged: what will be, is being, was, or never was charged
WORDING = {
    P.PENDING: ("To be charged", "Montant à débiter"),
    P.PROCESSING: ("Being charged", "Débit en cours"),
    P.COLLECTING: ("Bank debit on its way", "Prélèvement bancaire en cours"),
    P.COMMITTED: ("Will be charged if the goal is reached", "Sera débité si l'objectif est atteint"),
    P.NEEDS_ACTION: ("To be charged once you complete the payment", "Sera débité une fois le paiement finalisé"),
    P.PAID: ("Charged", "Montant débité"),
    P.REFUNDED: ("Charged, then refunded", "Débité puis remboursé"),
    P.FAILED: ("Not charged: the payment failed", "Non débité : le paiement a échoué"),
    P.EXPIRED: ("Not charged: the pledge was not completed", "Non débité : la contribution n'a pas été finalisée"),
    P.CANCELLED: ("Not charged: the pledge was cancelled", "Non débité : la contribution a été annulée"),
    P.LAPSED: ("Not charged: the pledge lapsed", "Non débité : la contribution a expiré"),
    P.RELEASED: ("Released, never charged", "Libéré, jamais débité"),
}
#: the only states in which money was taken
TAKEN = {P.PAID, P.REFUNDED}
LANGS = {"en": 0, "fr": 1}


def test_every_state_has_its_wording():
    assert set(WORDING) == set(PledgeStatus)


def _pledge(status: PledgeStatus, locale: str):
    backer = UserFactory(email=f"{status.value}-{locale}@example.org", verified=True, locale=locale)
    pledge = PledgeFactory(
        user=backer, email=backer.email, locale=locale, status=status, amount=6_000, currency="XOF",
        charge_amount=990, charge_currency="USD", fx_rate=Decimal("0.00165"), fx_date=date(2026, 11, 27),
        charge_timing=ChargeTiming.NOW if status in (P.PAID, P.PENDING, P.PROCESSING) else ChargeTiming.ON_SUCCESS,
        refunded_amount=6_000 if status == P.REFUNDED else 0)
    db.session.commit()
    return backer, pledge


def _labels_of_receipt(html: str) -> list[str]:
    return [unescape(label).strip() for label in re.findall(r"<tr><th>(.*?)</th>", html, re.S)]


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("status", list(PledgeStatus))
def test_the_receipt_page_says_what_happened_to_the_money(app, status, lang):
    backer, pledge = _pledge(status, lang)
    client = app.test_client()
    sign_in(client, backer)
    response = client.get(url_for("payments.receipt", reference=pledge.reference))
    assert response.status_code == 200
    html = response.get_data(as_text=True).replace(NARROW_NBSP, " ")
    labels = _labels_of_receipt(html)
    expected = WORDING[status][LANGS[lang]]
    assert expected in labels
    row = re.search(rf"<tr><th>{re.escape(expected)}</th><td>(.*?)</td>", unescape(html), re.S)
    assert row and "9.90" in row.group(1).replace(",", ".")
    if status not in TAKEN:
        assert "Charged" not in labels and "Montant débité" not in unescape(html)


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("status", list(PledgeStatus))
def test_the_receipt_email_says_what_happened_to_the_money(app, status, lang):
    _backer, pledge = _pledge(status, lang)
    with app.test_request_context():
        mail = render_email("pledge_receipt", pledge.email, pledge.locale, pledge=pledge, campaign=pledge.campaign,
                            link="http://localhost/pledges/x")
    expected = WORDING[status][LANGS[lang]]
    colon = " : " if lang == "fr" else ": "
    text = mail.text.replace(NARROW_NBSP, " ")  # French puts a narrow no-break space before a colon
    assert f"{expected}{colon}" in text
    lines = text.splitlines()
    if status not in TAKEN:
        assert not any(line.startswith(("Charged", "Montant débité")) for line in lines), mail.text


@pytest.mark.parametrize("lang", LANGS)
def test_my_pledges_says_what_happened_to_each_pledge(app, lang):
    backer = UserFactory(email=f"many-{lang}@example.org", verified=True, locale=lang)
    for status in PledgeStatus:
        PledgeFactory(user=backer, email=backer.email, locale=lang, status=status, amount=6_000, currency="XOF",
                      charge_amount=990, charge_currency="USD", fx_rate=Decimal("0.00165"),
                      fx_date=date(2026, 11, 27), refunded_amount=6_000 if status == P.REFUNDED else 0)
    db.session.commit()
    client = app.test_client()
    sign_in(client, backer)
    html = unescape(client.get(url_for("payments.mine")).get_data(as_text=True)).replace(NARROW_NBSP, " ")
    rows = re.findall(r"<tr><td[^>]*>.*?</tr>", html, re.S)
    listed = set(PledgeStatus) - {P.PENDING}  # an open checkout is not yet a pledge of theirs
    assert len(rows) == len(listed)
    colon = " : " if lang == "fr" else ": "
    found = []
    for row in rows:
        for status, words in WORDING.items():
            if f"{words[LANGS[lang]]}{colon}" in row:
                found.append(status)
                if status not in TAKEN:  # the old wording, "charged $9.90" / "montant débité : 9,90 $US"
                    assert "montant débité" not in row.lower() and not re.search(r"\bcharged \$", row), row
    assert sorted(found) == sorted(listed)


# -- the organizer's money page: who is still waited for -----------------------------------------------------
def _state_counts(html: str) -> dict[str, int]:
    pledges = unescape(html).split("<h2>Pledges</h2>", 1)[1].split("</section>", 1)[0]
    return {label: int(n) for label, n in re.findall(r"<tr><td>([^<]+)</td><td>(\d+)</td></tr>", pledges)}


def _money_page(app, campaign) -> dict[str, int]:
    organizer = UserFactory(email=f"organizer-{campaign.slug}@example.org", verified=True)
    MembershipFactory(organization=campaign.organization, user=organizer, owner=True)
    db.session.commit()
    client = app.test_client()
    sign_in(client, organizer)
    response = client.get(url_for("money.dashboard", slug=campaign.slug))
    assert response.status_code == 200
    return _state_counts(response.get_data(as_text=True))


def _checkout(campaign, hold_left: timedelta) -> None:
    """A pledge whose checkout was opened and not finished; its hold ends `hold_left` from now."""
    PledgeFactory(campaign=campaign, status=P.PENDING, confirmed_at=None, hold_expires_at=utcnow() + hold_left)


def test_a_succeeded_campaign_whose_backers_all_paid_waits_for_nobody(app):
    """Two 3-D Secure checkouts abandoned: they are not completed pledges, and a closed campaign waits for no one."""
    campaign = CampaignFactory(succeeded=True)
    for i in range(3):
        PledgeFactory(campaign=campaign, status=P.PAID, email=f"paid{i}@example.org")
    _checkout(campaign, -timedelta(days=9))
    _checkout(campaign, timedelta(minutes=5))
    counts = _money_page(app, campaign)
    assert counts == {"paid": 3, "not completed": 2}


def test_a_live_campaign_waits_only_for_checkouts_still_open(app):
    campaign = CampaignFactory(live=True)
    PledgeFactory(campaign=campaign, status=P.PAID)
    _checkout(campaign, timedelta(minutes=20))
    _checkout(campaign, -timedelta(minutes=1))
    PledgeFactory(campaign=campaign, status=P.EXPIRED, confirmed_at=None)
    assert _money_page(app, campaign) == {"paid": 1, "waiting for payment": 1, "not completed": 2}
