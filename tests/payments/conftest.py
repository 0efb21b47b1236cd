"""Payment fixtures: the fake Stripe server on loopback, the app pointed at it, and a guard on outgoing connections."""
from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterator

import pytest

from tests.fake_stripe import FakeStripe

PROVIDER_KEY = "harambee.payment_provider"
STRIPE_SETTINGS = ("PAYMENT_PROVIDER", "STRIPE_SECRET_KEY", "STRIPE_API_BASE", "STRIPE_WEBHOOK_SECRET",
                   "STRIPE_CONNECT_WEBHOOK_SECRET")


@pytest.fixture(scope="session")
def _fake_stripe_server() -> Iterator[FakeStripe]:
    with FakeStripe(api_key="sk_test_fake") as fake:
        yield fake


@pytest.fixture
def fake_stripe(_fake_stripe_server, request) -> Iterator[FakeStripe]:
    """A fake Stripe API on 127.0.0.1, emptied for this test, with the app (and the live server's app,
    when the test uses `live_server`) set to PAYMENT_PROVIDER="stripe" against it.

    The provider cached in `app.extensions` is dropped before and after, so it is rebuilt from these
    settings. Webhooks are signed with STRIPE_WEBHOOK_SECRET = fake_stripe.webhook_secret ("whsec_test"), Connect
    events with STRIPE_CONNECT_WEBHOOK_SECRET = fake_stripe.connect_webhook_secret ("whsec_connect_test").
    """
    fake = _fake_stripe_server
    fake.reset()
    apps = []
    if not request.node.get_closest_marker("no_app"):
        apps.append(request.getfixturevalue("app"))
    if "live_server" in request.fixturenames:
        apps.append(request.getfixturevalue("live_server").app)
    settings = {"PAYMENT_PROVIDER": "stripe", "STRIPE_SECRET_KEY": "sk_test_fake", "STRIPE_API_BASE": fake.url,
                "STRIPE_WEBHOOK_SECRET": fake.webhook_secret,
                "STRIPE_CONNECT_WEBHOOK_SECRET": fake.connect_webhook_secret}
    saved = [(app, {key: app.config.get(key) for key in STRIPE_SETTINGS}) for app in apps]
    for app in apps:
        app.config.update(settings)
        app.extensions.pop(PROVIDER_KEY, None)
    yield fake
    for app, values in saved:
        app.config.update(values)
        app.extensions.pop(PROVIDER_KEY, None)
    fake.reset()


@pytest.fixture
def stripe_provider(fake_stripe):
    """A StripeProvider talking to the fake server (the same one `get_provider()` builds under `fake_stripe`)."""
    from webapp.payments.providers.stripe import StripeProvider

    return StripeProvider("sk_test_fake", fake_stripe.url)


@pytest.fixture(autouse=True)
def loopback_only(monkeypatch) -> list[tuple[str, int]]:
    """Fail any connection this test opens to an address outside 127.0.0.0/8 and ::1; returns those it opened."""
    opened: list[tuple[str, int]] = []
    real_connect = socket.socket.connect
    real_connect_ex = socket.socket.connect_ex

    def check(sock, address):
        if sock.family in (socket.AF_INET, socket.AF_INET6):
            host, port = address[0], address[1]
            if not _is_loopback(host):
                raise AssertionError(f"a test tried to reach {host}:{port}; only loopback is allowed")
            opened.append((host, port))

    def connect(sock, address):
        check(sock, address)
        return real_connect(sock, address)

    def connect_ex(sock, address):
        check(sock, address)
        return real_connect_ex(sock, address)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)
    return opened


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host.split("%")[0]).is_loopback
    except ValueError:
        return host == "localhost"
