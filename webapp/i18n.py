"""Locale choice and the template helpers that format money, dates and places for the viewer."""
from __future__ import annotations

from datetime import datetime

from babel import Locale
from flask import Flask, current_app, request, session
from flask_babel import format_date, format_datetime, format_decimal, get_locale, get_timezone, gettext
from flask_login import current_user
from markupsafe import Markup, escape

from webapp import geo
from webapp.clock import utcnow
from webapp.money import Money


def select_locale() -> str:
    """The member's saved choice, then the visitor's session choice, then Accept-Language."""
    languages = current_app.config["LANGUAGES"]
    user = current_user if _has_user() else None
    if user is not None and user.is_authenticated and user.locale in languages:
        return user.locale
    chosen = session.get("lang")
    if chosen in languages:
        return chosen
    return request.accept_languages.best_match(languages) or languages[0]


def _has_user() -> bool:
    try:
        return current_user is not None
    except Exception:  # outside a request (CLI, tasks): no user
        return False


def locale_code() -> str:
    return str(get_locale() or current_app.config["BABEL_DEFAULT_LOCALE"])


def text_direction(locale: str | None = None) -> str:
    loc = Locale.parse(locale or locale_code())
    return "rtl" if loc.character_order == "right-to-left" else "ltr"


def money(value: Money | None) -> str:
    if value is None:
        return ""
    return value.format(locale_code())


def days_left(ends_at: datetime) -> int:
    seconds = (ends_at - utcnow()).total_seconds()
    return max(0, int(-(-seconds // 86400)))  # a part-day counts as a day


def datetime_with_zone(value: datetime | None, fmt: str = "medium") -> str:
    """A moment in the viewer's time zone, which the text names: "12/1/26, 8:30 AM UTC".

    Members come from several time zones and the site shows UTC (BABEL_DEFAULT_TIMEZONE): a bare "8:30" would read
    as local time in Cotonou, Lyon or Montréal.
    """
    if not value:
        return ""
    return f"{format_datetime(value, fmt)}\u00a0{get_timezone()}"


def exchange_rate(value) -> str:
    """An exchange rate to six decimals at most, in the viewer's locale: "0,001524" in French, "0.001524" in English."""
    if value is None:
        return ""
    return format_decimal(value, format="#,##0.######")


def with_colon(label: str) -> str:
    """A label followed by its colon, as the language writes it: "Area:" in English, "Zone :" in French
    (a narrow no-break space before the colon), so that templates never glue a bare ':' after a translation."""
    return gettext("%(label)s:", label=label)


def phone_link(number: str | None) -> Markup | str:
    """A phone number as a `tel:` link that a phone dials on a tap; the text shows as the member wrote it."""
    if not number:
        return ""
    # A dialler reads digits and a leading +; spaces, dots, dashes and brackets are only for the eye.
    digits = "".join(ch for ch in number if ch.isdigit() and ch.isascii())
    if not digits:
        return escape(number)
    plus = "+" if number.strip().startswith("+") else ""
    return Markup('<a href="tel:{}{}">{}</a>').format(plus, digits, number)


def register_template_helpers(app: Flask) -> None:
    app.jinja_env.filters.update(
        money=money,
        minor_units=lambda amount, currency: money(Money(int(amount or 0), currency)),
        date=lambda d, fmt="medium": format_date(d, fmt) if d else "",
        datetime=datetime_with_zone,
        country=lambda code: geo.country_name(code, locale_code()),
        region=lambda code: geo.region_name(code, locale_code()),
        days_left=days_left,
        tel=phone_link,
        rate=exchange_rate,
    )

    @app.context_processor
    def locale_context() -> dict:
        code = locale_code()
        return {
            "current_locale": code,
            "text_direction": text_direction(code),
            "with_colon": with_colon,
            "languages": [(lang, Locale.parse(lang).get_display_name(lang).capitalize())
                          for lang in app.config["LANGUAGES"]],
        }
