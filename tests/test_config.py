"""Production refuses to start on settings that are only fit for a laptop, and starts on real ones."""
from __future__ import annotations

import pytest

from config import DEV_SECRET_KEY, ProductionConfig

pytestmark = pytest.mark.no_app

REAL_SETTINGS = {
    "SECRET_KEY": "k7Qe0rVd3mXb9LsTz2YwNc5Hj8Ga1Pf4",  # 32 characters, like `secrets.token_urlsafe(24)`
    "DATABASE_URL": "postgresql+psycopg://harambee@db.internal/harambee",
    "PAYMENT_PROVIDER": "stripe",
    "STRIPE_SECRET_KEY": "sk_live_not_a_real_key",
    "STRIPE_WEBHOOK_SECRET": "whsec_not_a_real_secret",
    "STRIPE_CONNECT_WEBHOOK_SECRET": "whsec_not_a_real_connect_secret",
    "CELERY_BROKER_URL": "redis://redis.internal:6379/0",
    "PUBLIC_URL": "https://harambee.example",
}


@pytest.fixture
def production_env(monkeypatch):
    for name, value in REAL_SETTINGS.items():
        monkeypatch.setenv(name, value)
    return monkeypatch


def test_production_starts_with_real_settings(production_env):
    from webapp import create_app

    ProductionConfig.check()
    app = create_app("production")
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["PREFERRED_URL_SCHEME"] == "https"
    assert not app.testing and not app.debug


@pytest.mark.parametrize(
    ("name", "value", "complaint"),
    [
        ("SECRET_KEY", None, "SECRET_KEY"),
        ("SECRET_KEY", DEV_SECRET_KEY, "SECRET_KEY"),
        ("SECRET_KEY", "too-short-to-be-random", "SECRET_KEY"),
        ("DATABASE_URL", None, "DATABASE_URL"),
        ("DATABASE_URL", "", "DATABASE_URL"),
        ("PAYMENT_PROVIDER", "sandbox", "PAYMENT_PROVIDER=sandbox"),
        ("PAYMENT_PROVIDER", None, "PAYMENT_PROVIDER=sandbox"),  # sandbox is the default
        ("STRIPE_SECRET_KEY", None, "STRIPE_SECRET_KEY"),
        ("STRIPE_WEBHOOK_SECRET", None, "STRIPE_WEBHOOK_SECRET"),
        ("STRIPE_CONNECT_WEBHOOK_SECRET", None, "STRIPE_CONNECT_WEBHOOK_SECRET"),
        ("STRIPE_CONNECT_WEBHOOK_SECRET", "", "STRIPE_CONNECT_WEBHOOK_SECRET"),
        ("STRIPE_CONNECT_WEBHOOK_SECRET", "whsec_not_a_real_secret", "Connect endpoint's own secret"),
        ("CELERY_BROKER_URL", None, "CELERY_BROKER_URL"),
        ("PUBLIC_URL", None, "PUBLIC_URL"),
        ("PUBLIC_URL", "http://harambee.example", "PUBLIC_URL must start with https://"),
        ("PUBLIC_URL", "https://", "PUBLIC_URL"),
    ],
)
def test_production_refuses_to_start_on_unsafe_setting(production_env, name, value, complaint):
    from webapp import create_app

    if value is None:
        production_env.delenv(name)
    else:
        production_env.setenv(name, value)
    with pytest.raises(RuntimeError, match=complaint):
        create_app("production")


def test_production_lists_every_problem_at_once(monkeypatch):
    for name in REAL_SETTINGS:
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(RuntimeError) as refused:
        ProductionConfig.check()
    assert all(name in str(refused.value) for name in ("SECRET_KEY", "DATABASE_URL", "PAYMENT_PROVIDER"))
