"""Settings classes that read the environment; production refuses unsafe defaults."""
from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlsplit

BASE_DIR = Path(__file__).resolve().parent
_INSTANCE = Path(os.environ.get("HARAMBEE_INSTANCE_DIR", BASE_DIR / "instance"))

DEV_SECRET_KEY = "dev-only-not-secret"


def _env_list(name: str, default: str) -> list[str]:
    return [item.strip().upper() for item in os.environ.get(name, default).split(",") if item.strip()]


def _env_hosts(name: str, default: str = "") -> list[str]:
    return [item.strip().lower() for item in os.environ.get(name, default).split(",") if item.strip()]


def _env_limits(name: str, default: dict[str, int]) -> dict[str, str]:
    """CUR:amount pairs, comma-separated ("EUR:1000,XOF:650000"); amounts in major units."""
    text = os.environ.get(name)
    if not text:
        return {currency: str(amount) for currency, amount in default.items()}
    pairs = (item.split(":", 1) for item in text.split(",") if ":" in item)
    return {currency.strip().upper(): amount.strip() for currency, amount in pairs}


def public_url_from_environment() -> str | None:
    """PUBLIC_URL; MUTUAL_AID_PUBLIC_URL, its former mutual-aid-only name, is still read when it is unset."""
    return os.environ.get("PUBLIC_URL") or os.environ.get("MUTUAL_AID_PUBLIC_URL") or None


class Config:
    """Defaults that are safe on a developer's machine."""

    SECRET_KEY = os.environ.get("SECRET_KEY", DEV_SECRET_KEY)
    SQLALCHEMY_DATABASE_URI = os.environ.get(
        "DATABASE_URL", f"sqlite:///{_INSTANCE / 'harambee.sqlite3'}"
    )
    SQLALCHEMY_ENGINE_OPTIONS: dict = {"pool_pre_ping": True}
    INSTANCE_DIR = str(_INSTANCE)
    UPLOAD_DIR = os.environ.get("UPLOAD_DIR", str(_INSTANCE / "uploads"))
    #: the site's public address: every link that leaves the app (emails, SMS, Open Graph, processors'
    #: return URLs) starts with it, whatever Host a request named. Unset: SERVER_NAME, else
    #: http://127.0.0.1:5000. Required (https) in production.
    PUBLIC_URL = public_url_from_environment()
    #: hosts served besides PUBLIC_URL's (comma-separated in the environment); any other Host gets a 400.
    #: The app turns this into Flask's TRUSTED_HOSTS, the public host first (webapp.public_url).
    TRUSTED_HOSTS = _env_hosts("TRUSTED_HOSTS")
    MAX_CONTENT_LENGTH = 6 * 1024 * 1024  # a request body, uploads included
    MAX_IMAGE_BYTES = int(os.environ.get("MAX_IMAGE_BYTES", 5 * 1024 * 1024))

    # Languages with complete catalogs; the first is the fallback.
    LANGUAGES = ["en", "fr", "es", "pt", "ar"]
    BABEL_DEFAULT_LOCALE = "en"
    BABEL_DEFAULT_TIMEZONE = "UTC"
    BABEL_TRANSLATION_DIRECTORIES = str(BASE_DIR / "webapp" / "translations")

    SUPPORTED_CURRENCIES = _env_list(
        "SUPPORTED_CURRENCIES", "EUR,USD,GBP,CAD,CHF,XOF,XAF,MAD,TND,JPY,KES,NGN,RWF,UGX"
    )

    # Mail: "log" writes messages to the application log; "smtp" sends them.
    MAIL_BACKEND = os.environ.get("MAIL_BACKEND", "log")
    MAIL_SERVER = os.environ.get("MAIL_SERVER", "127.0.0.1")
    MAIL_PORT = int(os.environ.get("MAIL_PORT", 25))
    MAIL_USE_TLS = os.environ.get("MAIL_USE_TLS", "false").lower() == "true"
    MAIL_USERNAME = os.environ.get("MAIL_USERNAME")
    MAIL_PASSWORD = os.environ.get("MAIL_PASSWORD")
    MAIL_DEFAULT_SENDER = os.environ.get("MAIL_DEFAULT_SENDER", "Harambee <no-reply@harambee.localhost>")

    # Tokens sent by email.
    EMAIL_VERIFY_MAX_AGE = 7 * 24 * 3600
    PASSWORD_RESET_MAX_AGE = 3600
    INVITATION_MAX_AGE = 14 * 24 * 3600

    # Login throttling (webapp.accounts.devices): browsers unknown to an account share its lockout and a
    # limit per address; a browser with the account's device cookie has its own limit and skips those.
    LOGIN_LIMIT_PER_ACCOUNT = os.environ.get("LOGIN_LIMIT_PER_ACCOUNT", "5 per 15 minutes")
    #: high enough that a school or a cyber café behind one address is not locked out by one guesser
    LOGIN_LIMIT_PER_ADDRESS = os.environ.get("LOGIN_LIMIT_PER_ADDRESS", "100 per 15 minutes;300 per day")
    LOGIN_LIMIT_PER_DEVICE = os.environ.get("LOGIN_LIMIT_PER_DEVICE", "5 per 15 minutes")
    #: how long a browser stays known to an account after its last sign-in there
    DEVICE_COOKIE_MAX_AGE = int(os.environ.get("DEVICE_COOKIE_MAX_AGE", 365 * 24 * 3600))
    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI", "memory://")
    RATELIMIT_HEADERS_ENABLED = True

    REMEMBER_COOKIE_DURATION = 30 * 24 * 3600
    REMEMBER_COOKIE_HTTPONLY = True
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"

    PAYMENT_PROVIDER = os.environ.get("PAYMENT_PROVIDER", "sandbox")
    STRIPE_SECRET_KEY = os.environ.get("STRIPE_SECRET_KEY", "")
    STRIPE_WEBHOOK_SECRET = os.environ.get("STRIPE_WEBHOOK_SECRET", "whsec_sandbox_local_only")
    #: the Connect webhook endpoint's own signing secret: connected accounts' events (account.updated,
    #: capability.updated) reach only that endpoint, signed with it (docs.stripe.com/connect/webhooks)
    STRIPE_CONNECT_WEBHOOK_SECRET = os.environ.get("STRIPE_CONNECT_WEBHOOK_SECRET",
                                                   "whsec_sandbox_connect_local_only")
    #: where the stripe library sends API calls; tests point it at a fake server on loopback
    STRIPE_API_BASE = os.environ.get("STRIPE_API_BASE", "https://api.stripe.com")
    #: the API version the app is written for: the one the stripe library pins (16.1.0). Create the
    #: webhook endpoint with this version; events in another version are refused (see README).
    STRIPE_API_VERSION = "2026-10-28.endive"
    #: other event versions accepted while the endpoint is being upgraded (comma-separated); none by default
    STRIPE_EXTRA_EVENT_API_VERSIONS = [
        v.strip() for v in os.environ.get("STRIPE_EXTRA_EVENT_API_VERSIONS", "").split(",") if v.strip()]
    #: the currency the platform's Stripe balance settles in: every charge must convert to at least
    #: Stripe's minimum in it (docs.stripe.com/currencies, "Minimum and maximum charge amounts")
    STRIPE_SETTLEMENT_CURRENCY = os.environ.get("STRIPE_SETTLEMENT_CURRENCY", "EUR").upper()
    #: the country of the platform's Stripe account (ISO 3166-1 alpha-2): decides where Connect can pay
    PLATFORM_COUNTRY = os.environ.get("PLATFORM_COUNTRY", "FR").upper()
    #: headroom over that minimum for other currencies, in percent: the rate Stripe converts at is not ours
    STRIPE_MINIMUM_MARGIN_PERCENT = int(os.environ.get("STRIPE_MINIMUM_MARGIN_PERCENT", 5))
    #: how many seconds a webhook signature stays valid
    WEBHOOK_TOLERANCE = 300
    #: minutes a reward unit is held while a checkout is open (Stripe's shortest session is 30)
    CHECKOUT_HOLD_MINUTES = 30
    #: charging committed pledges at success: pledges per batch, and processor requests per second, reads
    #: (the check before each attempt) included. Stripe allows 25 a second in test mode, 100 live: 10
    #: leaves room for the webhooks' reads and the other workers.
    CHARGE_BATCH_SIZE = int(os.environ.get("CHARGE_BATCH_SIZE", 100))
    CHARGE_RATE_PER_SECOND = float(os.environ.get("CHARGE_RATE_PER_SECOND", 10))
    #: a batch's pledges stay locked (and its answers unrecorded) at most about this long: the answers so
    #: far are committed, the rest locked again. A webhook about one of them waits on its lock meanwhile.
    CHARGE_LOCK_SECONDS = float(os.environ.get("CHARGE_LOCK_SECONDS", 2))
    #: a 429 from Stripe is retried this many times, after a pause drawn at random below
    #: min(CAP, BACKOFF * 2**retry) seconds; never counted as a decline
    STRIPE_RATE_LIMIT_RETRIES = int(os.environ.get("STRIPE_RATE_LIMIT_RETRIES", 4))
    STRIPE_RATE_LIMIT_BACKOFF_SECONDS = float(os.environ.get("STRIPE_RATE_LIMIT_BACKOFF_SECONDS", 0.5))
    STRIPE_RATE_LIMIT_BACKOFF_CAP_SECONDS = float(os.environ.get("STRIPE_RATE_LIMIT_BACKOFF_CAP_SECONDS", 8))
    #: the stripe library's own retries (connection errors, 409, 5xx, 429s marked Stripe-Should-Retry)
    STRIPE_MAX_NETWORK_RETRIES = int(os.environ.get("STRIPE_MAX_NETWORK_RETRIES", 2))
    #: days a bank debit of a collected pledge may stay `processing` before a job asks Stripe again
    #: (SEPA: up to 14 business days, usually 7–8; BACS 4–7; ACH up to 4: docs.stripe.com/payments/*-debit)
    PROCESSING_RECHECK_DAYS = int(os.environ.get("PROCESSING_RECHECK_DAYS", 10))
    #: days between a campaign's success and the transfer to its organization (refunds, disputes)
    PAYOUT_HOLD_DAYS = int(os.environ.get("PAYOUT_HOLD_DAYS", 7))
    #: recurring support (payments.recurring): days a renewal may wait for the supporter before the gift
    #: pauses, hours between reminders, and days before a yearly renewal that its notice is emailed
    RECURRING_PAUSE_AFTER_DAYS = int(os.environ.get("RECURRING_PAUSE_AFTER_DAYS", 14))
    RECURRING_REMINDER_HOURS = int(os.environ.get("RECURRING_REMINDER_HOURS", 48))
    RECURRING_YEARLY_NOTICE_DAYS = int(os.environ.get("RECURRING_YEARLY_NOTICE_DAYS", 30))
    #: the platform's share of what a campaign received, in percent (0: the platform lives on tips)
    PLATFORM_FEE_PERCENT = int(os.environ.get("PLATFORM_FEE_PERCENT", 0))
    #: expenses above this amount (major units, per currency) need two different approvers; a currency not
    #: listed always needs two. EXPENSE_SECOND_APPROVAL_ABOVE="EUR:1000,XOF:650000" overrides the whole table.
    EXPENSE_SECOND_APPROVAL_ABOVE = _env_limits("EXPENSE_SECOND_APPROVAL_ABOVE", {
        "EUR": 1000, "XOF": 650_000, "MAD": 10_000, "GBP": 850, "USD": 1100, "CHF": 950, "CAD": 1500})
    #: the largest receipt or proof of payment an upload may be
    RECEIPT_MAX_BYTES = 5 * 1024 * 1024
    #: where a production job may fetch the ECB reference rates; never called in tests
    FX_ECB_URL = os.environ.get("FX_ECB_URL", "https://www.ecb.europa.eu/stats/eurofxref/eurofxref-daily.xml")
    #: seconds a process keeps the latest rate it showed in an approximation (display only; 0: none)
    FX_DISPLAY_CACHE_SECONDS = int(os.environ.get("FX_DISPLAY_CACHE_SECONDS", 300))
    FX_SNAPSHOT = str(BASE_DIR / "webapp" / "payments" / "data" / "rates-snapshot.xml")
    #: Redis in production; unset, tasks run in-process (make run, tests that need no worker)
    CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "")
    CELERY_RESULT_BACKEND = os.environ.get("CELERY_RESULT_BACKEND", "")
    #: run the periodic jobs in a thread of the web process (make run); production uses Celery beat
    IN_PROCESS_SCHEDULER = os.environ.get("HARAMBEE_IN_PROCESS_SCHEDULER", "") == "1"
    #: how many reverse proxies set X-Forwarded-For in front of the app; 0 trusts none. Login limits
    #: per address need the visitor's address, not the proxy's.
    TRUSTED_PROXIES = int(os.environ.get("TRUSTED_PROXIES", 0))
    PAGE_SIZE = 12
    #: anonymous home and campaign pages are served from a cache for at most this many seconds, and less
    #: once what they show changes (webapp.pagecache); 0 turns the cache off
    PAGE_CACHE_SECONDS = int(os.environ.get("PAGE_CACHE_SECONDS", 5))
    #: the campaign page's record (story, updates, reports, impact, budget): out of use at once when the
    #: organization writes any of it (webapp.pagecache), and at the latest after this (a write no listener saw)
    PAGE_CACHE_RECORD_SECONDS = int(os.environ.get("PAGE_CACHE_RECORD_SECONDS", 60))
    #: a process remembers the pages' version tokens this long (seconds, may be a fraction): another process's
    #: change reaches its pages within it; its own at once
    PAGE_CACHE_VERSION_SECONDS = float(os.environ.get("PAGE_CACHE_VERSION_SECONDS", 1))
    #: days a link asking someone to confirm a reported impact value works (webapp.impact)
    IMPACT_LINK_DAYS = int(os.environ.get("IMPACT_LINK_DAYS", 30))
    #: Flask-Caching's store: the process's memory here (make run); Redis in production
    CACHE_TYPE = "SimpleCache"
    CACHE_THRESHOLD = 2000  # SimpleCache's entries at most
    CACHE_KEY_PREFIX = "harambee:"
    #: static files are linked as /static/site.css?v=<content digest> and kept this long by browsers
    STATIC_IMMUTABLE_MAX_AGE = 365 * 24 * 3600
    #: Strict-Transport-Security's max-age in seconds; 0 sends none (only production is always HTTPS)
    HSTS_MAX_AGE = 0
    DEMO_TOOLS = False  # development-only shortcuts such as fast-forwarding a deadline


class DevelopmentConfig(Config):
    DEBUG = False
    TRUSTED_HOSTS = _env_hosts("TRUSTED_HOSTS", "127.0.0.1,localhost")
    DEMO_TOOLS = True
    #: the demo shows a payout right after a fast-forwarded close
    PAYOUT_HOLD_DAYS = int(os.environ.get("PAYOUT_HOLD_DAYS", 0))


class TestConfig(Config):
    TESTING = True
    CHARGE_RATE_PER_SECOND = 10_000
    STRIPE_RATE_LIMIT_BACKOFF_SECONDS = 0.01
    SECRET_KEY = "test-secret"
    SQLALCHEMY_DATABASE_URI = os.environ.get("TEST_DATABASE_URL", "sqlite:///:memory:")
    WTF_CSRF_ENABLED = False
    RATELIMIT_STORAGE_URI = "memory://"
    SERVER_NAME = "harambee.test"
    PREFERRED_URL_SCHEME = "http"
    #: links follow SERVER_NAME (the live server's too, set once it has a port), never the environment
    PUBLIC_URL = None
    #: the live server and the browser use loopback; "localhost" is the tests' trusted-but-not-public host
    TRUSTED_HOSTS = ["127.0.0.1", "localhost"]
    DEMO_TOOLS = True
    #: no page cache unless a test turns it on (tests/test_page_cache.py): tests read pages right after writes
    CACHE_TYPE = os.environ.get("TEST_CACHE_TYPE", "NullCache")
    CACHE_NO_NULL_WARNING = True
    FX_DISPLAY_CACHE_SECONDS = 0  # tests import rates and read them back at once


class ProductionConfig(Config):
    #: the pages' cache is shared by every worker: Redis (CACHE_REDIS_URL, else REDIS_URL, else the broker's)
    CACHE_TYPE = "RedisCache"
    CACHE_REDIS_URL = (os.environ.get("CACHE_REDIS_URL") or os.environ.get("REDIS_URL")
                       or os.environ.get("CELERY_BROKER_URL", ""))
    HSTS_MAX_AGE = 365 * 24 * 3600
    SESSION_COOKIE_SECURE = True
    REMEMBER_COOKIE_SECURE = True
    PREFERRED_URL_SCHEME = "https"
    PUBLIC_URL_REQUIRED = True

    @classmethod
    def check(cls) -> None:
        """Refuse to start on settings that are only fit for a laptop."""
        problems = []
        secret = os.environ.get("SECRET_KEY", "")
        if not secret or secret == DEV_SECRET_KEY or len(secret) < 32:
            problems.append("SECRET_KEY must be set to a random value of at least 32 characters")
        if not os.environ.get("DATABASE_URL"):
            problems.append("DATABASE_URL must point at the production database")
        if not os.environ.get("CELERY_BROKER_URL"):
            problems.append("CELERY_BROKER_URL must point at Redis for the background workers")
        if os.environ.get("PAYMENT_PROVIDER", "sandbox") == "sandbox":
            problems.append("PAYMENT_PROVIDER=sandbox is for demos; set PAYMENT_PROVIDER=stripe")
        else:
            if not os.environ.get("STRIPE_SECRET_KEY") or not os.environ.get("STRIPE_WEBHOOK_SECRET"):
                problems.append("STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET must be set")
            connect_secret = os.environ.get("STRIPE_CONNECT_WEBHOOK_SECRET", "")
            if not connect_secret:
                problems.append("STRIPE_CONNECT_WEBHOOK_SECRET must be set to the Connect webhook endpoint's "
                                "signing secret: organizations' payout accounts report there")
            elif connect_secret == os.environ.get("STRIPE_WEBHOOK_SECRET"):
                problems.append("STRIPE_CONNECT_WEBHOOK_SECRET must be the Connect endpoint's own secret, "
                                "not STRIPE_WEBHOOK_SECRET")
        public_url = public_url_from_environment()
        if not public_url:
            problems.append("PUBLIC_URL must be set to the site's public address (https://...): emailed links use it")
        elif not public_url.startswith("https://") or not urlsplit(public_url).hostname:
            problems.append("PUBLIC_URL must start with https:// and name a host")
        if problems:
            raise RuntimeError("Unsafe production configuration: " + "; ".join(problems))


CONFIGS = {
    "development": DevelopmentConfig,
    "test": TestConfig,
    "production": ProductionConfig,
}
