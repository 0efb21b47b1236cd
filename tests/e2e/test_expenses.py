"""The host route in a real browser: a Benin association's succeeded campaign spends through its host.

Kofi (Association Ganvié Écotourisme) writes an expense against the school kitchen's budget with a
receipt and submits it; Hawa, for the host Finances Solidaires, approves it and records the mobile
money payment with a proof; a visitor in France reads it, paid, on the transparency page against
its budget line, with euros beside the francs CFA. Screenshots go to
test-artifacts/<db>/e2e_test_expenses.py_<test>/NN-step.png.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import date, timedelta

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from tests.conftest import ARTIFACTS, _artifact_name
from webapp import demo
from webapp.extensions import db
from webapp.payments.expenses.models import Expense, ExpenseState

pytestmark = pytest.mark.e2e

SLUG = "ganvie-school-kitchen"  # demo: succeeded, XOF, its money held by Finances Solidaires
PASSWORD = demo.DEMO_PASSWORD
NNBSP, NBSP = "\u202f", "\u00a0"
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
DESCRIPTION = "Charcoal and rice for the first week"


@pytest.fixture
def fr_page(browser, live_server, request) -> Iterator[Page]:
    """A tab in French for France, 390 px wide: the phone an organizer or a host uses."""
    context = browser.new_context(base_url=live_server.url, locale="fr-FR", viewport={"width": 390, "height": 844},
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
    counter = iter(range(1, 100))
    folder = ARTIFACTS / _artifact_name(request)

    def _take(name: str) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        fr_page.screenshot(path=str(folder / f"{next(counter):02d}-{name}.png"), full_page=True)

    return _take


@pytest.fixture
def demo_data(live_server) -> None:
    with live_server.app.app_context():
        demo.load_all()
        db.session.commit()


def sign_in(page: Page, email: str) -> None:
    page.goto("/account/login")
    page.locator("#email").fill(email)
    page.locator("#password").fill(PASSWORD)
    page.locator("main form button").click()
    expect(page.locator("header form[action$='/account/logout']")).to_be_visible()


def sign_out(page: Page) -> None:
    page.locator("header form[action$='/account/logout'] button").click()
    page.wait_for_load_state()


def _no_wider_than_the_screen(page: Page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page is {width} px wide"


def _expense(live_server) -> Expense:
    with live_server.app.app_context():
        found = db.session.scalar(select(Expense).where(Expense.description == DESCRIPTION))
        db.session.expunge_all()
        return found


def test_a_benin_association_spends_through_its_host_and_a_visitor_sees_it_paid(
        fr_page: Page, live_server, demo_data, shot, tmp_path):
    page = fr_page
    receipt, proof = tmp_path / "facture.pdf", tmp_path / "momo.pdf"
    receipt.write_bytes(PDF)
    proof.write_bytes(PDF)

    # 1. The organizer: the payout page says the host holds the money; the campaign's money page leads to expenses.
    sign_in(page, "kofi@harambee.test")
    page.goto("/manage/organizations/ganvie-ecotourisme/payout")
    expect(page.locator("main")).to_contain_text("Stripe ne peut pas virer")
    expect(page.locator("main")).to_contain_text("Finances Solidaires détient votre argent")
    shot("payout-route")
    page.goto(f"/manage/campaigns/{SLUG}/money")
    page.locator("a[href$='/expenses']").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Dépenses")
    _no_wider_than_the_screen(page)
    shot("expenses")

    # 2. A new expense against the cook's line, with its receipt; then submitted.
    form = page.locator("#new-expense form")
    form.locator("#budget_line").select_option(label="The cook's wage, six months")
    form.locator("#amount").fill("45 000")
    form.locator("#description").fill(DESCRIPTION)
    form.locator("#spent_on").fill((date.today() - timedelta(days=1)).isoformat())
    form.locator("#payee_kind").select_option("supplier")
    form.locator("#payee_details").fill("Marché de Ganvié, Mme Tossou, MoMo +229 96 11 22 33")
    form.locator("#receipt").set_input_files(str(receipt))
    shot("expense-form")
    form.locator("button").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(DESCRIPTION)
    expect(page.locator("main")).to_contain_text("Justificatif 1")
    page.locator("form[action$='/submit'] button").click()
    expect(page.locator(".badge.submitted")).to_be_visible()
    expect(page.locator("main")).to_contain_text("quelqu’un d’autre l’approuve")
    assert page.locator("form[action$='/decision']").count() == 0  # nobody approves what they submitted
    shot("submitted")
    sign_out(page)

    # 3. The host: its dashboard lists the expense; Hawa approves it and records the payment.
    sign_in(page, "host@harambee.test")
    page.goto("/hosts/finances-solidaires")
    expect(page.locator("main")).to_contain_text("Association Ganvié Écotourisme")
    _no_wider_than_the_screen(page)
    shot("host-dashboard")
    page.get_by_role("link", name=DESCRIPTION).first.click()
    expect(page.locator("main")).to_contain_text("Mme Tossou")  # the payee's details: private, the host sees them
    page.locator("#decision").select_option("approve")
    shot("host-decides")
    page.locator("form[action$='/decision'] button").click()
    expect(page.locator(".badge.approved")).to_be_visible()
    pay = page.locator("form[action$='/payment']")
    pay.locator("#method").select_option("mobile_money")
    pay.locator("#reference").fill("MOMO-778812")
    pay.locator("#paid_on").fill(date.today().isoformat())
    pay.locator("#currency_paid").select_option("XOF")
    pay.locator("#amount_paid").fill("45 000")
    pay.locator("#rate").fill("1")
    pay.locator("#proof").set_input_files(str(proof))
    shot("host-pays")
    pay.locator("button").click()
    expect(page.locator(".badge.paid")).to_be_visible()
    expect(page.locator("main")).to_contain_text("MOMO-778812")
    shot("paid")
    e = _expense(live_server)
    assert e.state == ExpenseState.PAID and e.checked_by_host
    sign_out(page)

    # 4. A visitor from France: the transparency page shows it paid against its line, euros beside the francs.
    page.goto(f"/campaigns/{SLUG}/transparency")
    line = page.locator("article.budget-line", has_text="The cook's wage, six months")
    row = line.locator("tr", has_text=DESCRIPTION)
    expect(row).to_contain_text(f"45{NNBSP}000{NBSP}F{NNBSP}CFA")
    expect(row).to_contain_text("Payée")
    expect(row).to_contain_text("Justificatif vérifié par l’hôte")
    expect(row.locator(".approx")).to_contain_text("€")
    expect(line).to_contain_text(re.compile(r"payé 45\s000"))
    main = page.locator("main").inner_text()
    assert "Tossou" not in main and "MoMo" not in main and "MOMO-778812" not in main
    assert page.locator("a[href*='/receipts/'], a[href*='/proof'], a[href*='private/']").count() == 0
    _no_wider_than_the_screen(page)
    shot("transparency")
    # what the receipts lead to stays closed to the visitor
    assert page.request.get(f"/manage/expenses/{e.id}/receipts/1", max_redirects=0).status in (302, 403, 404)
