"""Every response carries the security headers: a Content-Security-Policy that lets scripts come only
from the app (or carry this response's nonce), nosniff, a Referrer-Policy (none at all on pages whose
address holds a secret), and HSTS in production only. No page of the app has an inline script without
the nonce, an inline event handler or a style attribute, which the policy would block."""
from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from flask import url_for

import tests.mutual_aid.test_permissions as aid_table
import tests.test_permissions as main_table
from tests.campaigns.helpers import sign_in
from tests.conftest import make_app
from tests.test_config import REAL_SETTINGS

EXPECTED_DIRECTIVES = {
    "default-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "object-src": "'none'",
    "base-uri": "'self'",
    "frame-ancestors": "'none'",
    "form-action": "'self'",
}


def directives(response) -> dict[str, str]:
    policy = response.headers["Content-Security-Policy"]
    return {part.split(" ", 1)[0]: part.split(" ", 1)[1] for part in (p.strip() for p in policy.split(";")) if part}


def nonce_of(response) -> str:
    match = re.fullmatch(r"'self' 'nonce-([A-Za-z0-9_-]{16,})'", directives(response)["script-src"])
    assert match, directives(response)["script-src"]
    return match.group(1)


class Inline(HTMLParser):
    """What a strict CSP would block: scripts without src or nonce, on* attributes, style attributes."""

    def __init__(self):
        super().__init__()
        self.scripts: list[dict] = []
        self.handlers: list[str] = []
        self.styles: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "script":
            self.scripts.append(a)
        for name, _value in attrs:
            if name.startswith("on"):
                self.handlers.append(f"<{tag} {name}>")
            if name == "style":
                self.styles.append(f"<{tag} style>")

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)


def test_an_html_page_carries_every_header(client):
    response = client.get(url_for("campaigns.home"))
    assert response.status_code == 200
    found = directives(response)
    for name, sources in EXPECTED_DIRECTIVES.items():
        assert found[name] == sources, name
    nonce_of(response)
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "Strict-Transport-Security" not in response.headers  # not outside production


def test_error_pages_and_static_files_carry_them_too(client):
    for response in (client.get("/no-such-page"), client.get(url_for("static", filename="site.css"))):
        assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
        assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_the_script_tags_carry_this_responses_nonce_which_changes_every_time(client):
    first, second = client.get(url_for("campaigns.home")), client.get(url_for("campaigns.home"))
    assert nonce_of(first) != nonce_of(second)
    parser = Inline()
    parser.feed(first.get_data(as_text=True))
    assert parser.scripts, "the page loads site.js"
    for script in parser.scripts:
        assert script.get("nonce") == nonce_of(first)
        assert script.get("src", "").startswith("/static/"), script


def test_a_page_whose_address_holds_a_secret_sends_no_referrer(client):
    from tests.factories import UserFactory
    from webapp.accounts import services as accounts
    from webapp.extensions import db

    user = UserFactory(verified=True)
    db.session.commit()
    response = client.get(url_for("accounts.reset_password", token=accounts.make_reset_token(user)))
    assert response.status_code == 200
    assert response.headers["Referrer-Policy"] == "no-referrer"


def test_only_production_sends_hsts(monkeypatch):
    for name, value in REAL_SETTINGS.items():
        monkeypatch.setenv(name, value)
    from webapp import create_app

    app = create_app("production")
    response = app.test_client().get("/static/site.css", base_url="https://harambee.example")
    assert response.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"


@pytest.mark.parametrize("provider, api, form_action", [
    ("sandbox", "https://api.stripe.com", "'self'"),  # its checkout is a page of the app
    # a 303 to Stripe's checkout or onboarding, which Chrome checks against form-action
    ("stripe", "https://api.stripe.com", "'self' https://checkout.stripe.com https://connect.stripe.com"),
    # a local stand-in (the tests' fake Stripe) serves its checkout pages at its own address
    ("stripe", "http://127.0.0.1:4242", "'self' https://checkout.stripe.com https://connect.stripe.com "
                                        "http://127.0.0.1:4242"),
])
def test_forms_may_lead_only_to_the_app_and_to_stripes_checkout_when_stripe_is_the_provider(provider, api,
                                                                                           form_action):
    app = make_app(PAYMENT_PROVIDER=provider, STRIPE_SECRET_KEY="sk_test_x", STRIPE_API_BASE=api)
    response = app.test_client().get("/static/site.css")
    assert directives(response)["form-action"] == form_action


def _pages():
    for case in main_table.EXPECTATIONS:
        if case.method == "GET":
            role = next((r for r in main_table.ROLES if case.expect[r] == "ok"), None)
            if role:
                yield pytest.param("main", case, role, id=f"{case.id}-{role}")
    for case in aid_table.EXPECTATIONS:
        if case.method == "GET":
            role = next((r for r in aid_table.ROLES if case.expect[r] == "ok"), None)
            if role:
                yield pytest.param("aid", case, role, id=f"{case.id}-{role}")


@pytest.mark.parametrize("world, case, role", list(_pages()))
def test_no_page_has_what_the_policy_would_block(app, world, case, role):
    w = main_table.build_world() if world == "main" else aid_table.build_world()
    client = app.test_client()
    user = None if role == "anonymous" else (w.users[role] if world == "main" else getattr(w, role))
    if user is not None:
        sign_in(client, user)
    values = case.values(w) if world == "main" else case.args(w)
    response = client.get(url_for(case.endpoint, **values))
    assert response.status_code < 400
    if response.mimetype != "text/html" or response.status_code != 200:
        return
    parser = Inline()
    parser.feed(response.get_data(as_text=True))
    assert not parser.handlers, parser.handlers
    assert not parser.styles, parser.styles
    for script in parser.scripts:
        assert script.get("nonce") == nonce_of(response), script


def test_the_browser_enforces_the_policy_and_still_runs_the_apps_own_script(browser, live_server):
    """In chromium: an injected inline script is refused (and said so in the console, which the
    `page` fixture turns into a failure for every browser test), while site.js, carrying the nonce,
    is loaded without complaint."""
    context = browser.new_context(base_url=live_server.url)
    tab = context.new_page()
    console: list[str] = []
    tab.on("console", lambda message: console.append(message.text))
    try:
        tab.goto("/account/signup")
        tab.evaluate("""() => { const s = document.createElement('script');
                               s.textContent = 'window.injected = true'; document.head.appendChild(s); }""")
        assert tab.evaluate("() => window.injected === undefined")
        assert any("Content Security Policy" in text for text in console), console
        assert not any("site.js" in text for text in console), console
        scripts = tab.evaluate("() => Array.from(document.scripts).map(s => s.src)")
        assert any(src.split("?")[0].endswith("/static/site.js") for src in scripts)
        loaded = tab.evaluate("() => performance.getEntriesByType('resource').map(e => e.name)")
        assert any(name.split("?")[0].endswith("/static/site.js") for name in loaded)
    finally:
        context.close()
