"""The second path, in a real browser: a French-speaking visitor pledges to a demo campaign in francs CFA.

The provider is the sandbox (the default of `make run`): its checkout page accepts Stripe's test
cards and hands signed events to the same webhook code as Stripe. The receipt goes to a real SMTP
server on 127.0.0.1. Each step is saved to test-artifacts/<db>/e2e_test_pledge.py_<test>/NN-step.png.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import func, select

from tests.conftest import ARTIFACTS, _artifact_name
from webapp import demo
from webapp.campaigns.models import Campaign
from webapp.extensions import db
from webapp.payments.models import CONFIRMED_STATUSES, Pledge, PledgeStatus

pytestmark = pytest.mark.e2e

SLUG = "ganvie-guest-huts"  # demo: Association Ganvié Écotourisme, XOF, minimum and optimum
TITLE = "Three guest huts on stilts in Ganvié"
HUT = "A night in a hut"  # demo tier: 25,000 XOF or more, 40 units
NNBSP, NBSP = "\u202f", "\u00a0"
XOF_25000 = f"25{NNBSP}000{NBSP}F{NNBSP}CFA"  # 25,000 XOF as French speakers read it
EUR_OF_25000 = f"38,11{NBSP}€"  # 25,000 / 655.957, the fixed parity, rounded half up


@pytest.fixture
def fr_page(browser, live_server, request) -> Iterator[Page]:
    """A tab of a browser set up in French for France (locale and Accept-Language fr-FR)."""
    context = browser.new_context(base_url=live_server.url, locale="fr-FR", viewport={"width": 1280, "height": 900},
                                  extra_http_headers={"Accept-Language": "fr-FR,fr;q=0.9"})
    context.set_default_timeout(10_000)
    tab = context.new_page()
    yield tab
    failed = any(getattr(getattr(request.node, f"report_{when}", None), "failed", False)
                 for when in ("setup", "call"))
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    try:
        tab.screenshot(path=str(ARTIFACTS / f"{_artifact_name(request)}{'-FAILED' if failed else ''}.png"),
                       full_page=True)
    except Exception:  # a screenshot must not hide the test's own outcome
        pass
    context.close()


@pytest.fixture
def shot(fr_page, request) -> Callable[[str], None]:
    """`shot("receipt")` saves the French tab to test-artifacts/<db>/<test>/NN-receipt.png."""
    counter = iter(range(1, 100))
    folder = ARTIFACTS / _artifact_name(request)

    def _take(name: str) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        fr_page.screenshot(path=str(folder / f"{next(counter):02d}-{name}.png"), full_page=True)

    return _take


@pytest.fixture
def demo_data(live_server) -> None:
    with live_server.app.app_context():
        demo.load_all()  # what `make run` loads, the rate snapshot included
        db.session.commit()


def _pledges(live_server) -> list[Pledge]:
    with live_server.app.app_context():
        campaign_id = db.session.scalar(select(Campaign.id).where(Campaign.slug == SLUG))
        pledges = db.session.scalars(select(Pledge).where(Pledge.campaign_id == campaign_id).order_by(Pledge.id)).all()
        db.session.expunge_all()
        return list(pledges)


def _confirmed_total(live_server) -> tuple[int, int]:
    """(how many confirmed pledges, their sum in XOF), straight from the database."""
    with live_server.app.app_context():
        row = db.session.execute(
            select(func.count(Pledge.id), func.coalesce(func.sum(Pledge.amount), 0))
            .join(Campaign, Campaign.id == Pledge.campaign_id)
            .where(Campaign.slug == SLUG, Pledge.status.in_(CONFIRMED_STATUSES))).one()
        return row[0], row[1]


def _figures(page: Page) -> str:
    return page.locator("aside .figures").inner_text()


def _assert_stacked(boxes) -> None:
    """Each reward choice sits below the previous one: none overlaps another (a broken layout would)."""
    rects = [boxes.nth(i).bounding_box() for i in range(boxes.count())]
    assert len(rects) >= 2
    for above, below in zip(rects, rects[1:]):
        assert below["y"] >= above["y"] + above["height"] - 1, (above, below)


def _pay_with(page: Page, card: str) -> None:
    expect(page.locator("label[for=card]")).to_have_text("Numéro de carte")
    page.locator("#card").fill(card)
    page.locator("#exp").fill("12/34")
    page.locator("#cvc").fill("123")


def test_a_visitor_in_france_pledges_25000_xof_with_the_test_card_and_gets_a_french_receipt(
        fr_page: Page, live_server, demo_data, smtp_server, shot):
    page = fr_page

    # 1. The home page greets her in French.
    page.goto("/")
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    expect(page.get_by_role("heading", level=1)).to_have_text("Soutenez l'économie sociale et solidaire")
    shot("home-fr")

    # 2. The campaign page: francs CFA, with euros beside them at the fixed parity.
    page.locator("article.card", has_text=TITLE).get_by_role("link", name=TITLE).click()
    expect(page).to_have_url(re.compile(rf"/campaigns/{SLUG}$"))
    hut = page.locator("aside .tier", has_text=HUT)
    expect(hut).to_contain_text(f"{XOF_25000} ou plus")
    expect(hut.locator(".approx")).to_have_text(f"≈ {EUR_OF_25000} (parité fixe)")
    expect(page.locator("aside .figures")).to_contain_text(f"0{NBSP}F{NNBSP}CFA")
    before = _figures(page)
    assert re.search(r"\b0\s*contributeur", before), before
    shot("campaign-before")

    # 3. The pledge form, for the "night in a hut" reward.
    hut.get_by_role("link", name="Choisir cette contrepartie").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Soutenir cette campagne")
    expect(page.locator("input[name=tier]:checked")).to_have_attribute("value", re.compile(r"\d+"))
    chosen = page.locator("label.tier", has=page.locator("input[name=tier]:checked"))
    expect(chosen).to_contain_text(HUT)
    expect(chosen.locator(".approx")).to_have_text(f"≈ {EUR_OF_25000} (parité fixe)")
    _assert_stacked(page.locator("label.tier"))
    expect(page.locator("label[for=amount]")).to_have_text("Votre contribution")
    page.locator("#amount").fill("25 000")  # typed the French way, with a space
    page.locator("#email").fill("afiavi.dossou@example.org")
    page.locator("#display_name").fill("Afiavi, infirmière à Lyon")
    page.locator("#message").fill("Pour les enfants de la cantine !")
    # a minimum-and-optimum campaign: its minimum decides, not its goal (issue 11's walk)
    expect(page.locator("main")).to_contain_text("Vous ne serez débité que si la campagne atteint son minimum de")
    shot("pledge-form")
    page.get_by_role("button", name="Passer au paiement").click()

    # 4. The sandbox's hosted page: save the card 4242 4242 4242 4242.
    expect(page).to_have_url(re.compile(r"/sandbox/checkout/"))
    expect(page.get_by_role("heading", level=1)).to_contain_text(XOF_25000)
    _pay_with(page, "4242 4242 4242 4242")
    shot("sandbox-checkout")
    page.get_by_role("button", name="Enregistrer ma carte").click()

    # 5. The receipt page.
    expect(page).to_have_url(re.compile(r"/pledges/[\w-]+\?checkout=done$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Merci ! Votre promesse de don est enregistrée.")
    receipt = page.locator("main table")
    expect(receipt).to_contain_text(XOF_25000)
    expect(receipt.locator(".approx")).to_have_text(f"≈ {EUR_OF_25000} (parité fixe)")
    expect(receipt).to_contain_text(HUT)
    expect(receipt).to_contain_text(TITLE)
    shot("receipt")
    receipt_path = page.url.split(live_server.url, 1)[1].split("?", 1)[0]

    (pledge,) = _pledges(live_server)
    assert pledge.status == PledgeStatus.COMMITTED and pledge.amount == 25_000 and pledge.currency == "XOF"
    assert pledge.email == "afiavi.dossou@example.org" and pledge.locale == "fr"
    assert receipt_path == f"/pledges/{pledge.reference}"
    assert _confirmed_total(live_server) == (1, 25_000)

    # 6. The receipt email, in French, with the amount and a link back to the receipt page.
    (message,) = smtp_server.wait_for(1)
    assert message["To"] == "afiavi.dossou@example.org"
    assert TITLE in message["Subject"] and message["Subject"].startswith("Votre reçu")
    body = smtp_server.text_of(message)
    assert XOF_25000 in body and pledge.reference in body
    assert f"{live_server.url}{receipt_path}" in body

    # 7. The campaign's totals moved, and her message is among the latest supporters.
    page.get_by_role("link", name=TITLE).first.click()
    figures = page.locator("aside .figures")
    expect(figures).to_contain_text(XOF_25000)
    expect(figures).to_contain_text(f"≈ {EUR_OF_25000}")
    assert re.search(r"\b1\s*contributeur", _figures(page)), _figures(page)
    expect(page.locator("aside .supporters")).to_contain_text("Afiavi, infirmière à Lyon")
    expect(page.locator("aside .supporters")).to_contain_text("Pour les enfants de la cantine !")
    expect(page.locator("aside .tier", has_text=HUT)).to_contain_text("39 disponibles")  # one of 40 taken
    shot("campaign-after")


def test_a_declined_card_confirms_no_pledge_and_says_so_clearly(fr_page: Page, live_server, demo_data, shot):
    page = fr_page
    page.goto(f"/campaigns/{SLUG}")
    shot("campaign-before")
    page.get_by_role("link", name="Soutenir cette campagne").click()
    # Without a reward the form starts at a round sum in her own currency, the campaign's equivalent beside it
    # (10 EUR x 655.957 at the fixed parity); she types francs CFA instead, and says so.
    expect(page.locator("#amount")).to_have_value("10,00")
    expect(page.locator("#amount_currency")).to_have_value("EUR")
    expect(page.locator("#amount-equivalent")).to_contain_text(f"6{NNBSP}560{NBSP}F{NNBSP}CFA")
    page.locator("#amount").fill("25 000")
    page.locator("#amount_currency").select_option("XOF")
    expect(page.locator("#amount-equivalent")).to_have_text(f"≈ {EUR_OF_25000} (parité fixe)")  # as she types
    page.locator("#pay_currency").select_option("XOF")
    page.locator("#email").fill("youssef@example.org")
    shot("pledge-form")
    page.get_by_role("button", name="Passer au paiement").click()

    # The card 4000 0000 0000 9995 is declined: she stays on the payment page with a plain message.
    _pay_with(page, "4000 0000 0000 9995")
    page.get_by_role("button", name="Enregistrer ma carte").click()
    expect(page).to_have_url(re.compile(r"/sandbox/checkout/"))
    expect(page.get_by_role("alert")).to_have_text("Votre carte a été refusée. Essayez une autre carte.")
    shot("card-declined")
    (pledge,) = _pledges(live_server)
    assert pledge.status == PledgeStatus.PENDING  # she may still try another card
    assert _confirmed_total(live_server) == (0, 0)

    # She gives up: the processor's cancel URL lands on a page that changes nothing by itself (issue 9),
    # whose button releases the checkout; back on the campaign page, told that nothing was charged.
    page.get_by_role("button", name="Annuler et revenir").click()
    expect(page).to_have_url(re.compile(r"/pledges/[\w-]+/checkout-cancelled$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Cette contribution n'a pas été finalisée")
    shot("checkout-left")
    assert _pledges(live_server)[0].status == PledgeStatus.PENDING
    page.get_by_role("button", name="Renoncer à cette contribution maintenant").click()
    expect(page).to_have_url(re.compile(rf"/campaigns/{SLUG}$"))
    expect(page.locator(".flash")).to_contain_text("rien n'a été débité")
    expect(page.locator("aside .figures")).to_contain_text(f"0{NBSP}F{NNBSP}CFA")
    assert re.search(r"\b0\s*contributeur", _figures(page)), _figures(page)
    shot("back-on-the-campaign")
    (pledge,) = _pledges(live_server)
    assert pledge.status == PledgeStatus.EXPIRED
    assert _confirmed_total(live_server) == (0, 0)
