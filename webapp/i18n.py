"""Locale choice and the template helpers that format money, dates and places for the viewer."""
from __future__ import annotations

import re
from datetime import date, datetime

from babel import Locale
from babel.core import UnknownLocaleError, get_global
from babel.dates import get_date_format, get_datetime_format, get_time_format
from babel.languages import get_official_languages
from babel.numbers import get_decimal_symbol
from flask import Flask, current_app, request, session
from jinja2 import pass_eval_context
from flask_babel import (
    format_date,
    format_datetime,
    format_decimal,
    get_locale,
    get_timezone,
    gettext,
    to_user_timezone,
)
from flask_login import current_user
from markupsafe import Markup, escape

from webapp import geo
from webapp.clock import utcnow
from webapp.errors import InvalidMoney
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


def language_of_country(country: str | None) -> str:
    """The language the site speaks that a country uses: its first official (or de facto) language among LANGUAGES,
    else the site's first language. For what is written for an organization rather than for one reader."""
    languages = current_app.config["LANGUAGES"]
    if country:
        for language in get_official_languages(country.upper(), de_facto=True):
            if language in languages:
                return language
    return languages[0]


def text_direction(locale: str | None = None) -> str:
    loc = Locale.parse(locale or locale_code())
    return "rtl" if loc.character_order == "right-to-left" else "ltr"


def language_choices(languages: list[str]) -> list[tuple[str, str, str]]:
    """(code, name, direction) for the language picker: each language named in itself ("العربية", "Español")."""
    return [(lang, _own_name(lang), text_direction(lang)) for lang in languages]


def _own_name(lang: str) -> str:
    name = Locale.parse(lang).display_name or lang
    return name[:1].upper() + name[1:]


def money(value: Money | None) -> str:
    if value is None:
        return ""
    return value.format(locale_code())


#: Unicode's first-strong isolate and its closing pop: what <bdi> does, for plain text (emails).
FSI, PDI = "\u2068", "\u2069"


def isolate(text: str, *, html: bool) -> Markup | str:
    """A value written in its own direction (an amount, an email address, an IBAN, a URL) kept whole inside
    right-to-left text: `<bdi>` in a page, Unicode isolates in plain text. Left-to-right pages need neither
    and get the text unchanged."""
    if not text or text_direction() != "rtl":
        return escape(text) if html else text
    return Markup("<bdi>{}</bdi>").format(text) if html else f"{FSI}{text}{PDI}"


@pass_eval_context
def money_filter(eval_ctx, value: Money | None) -> Markup | str:
    """The `money` filter: the amount in the viewer's locale, isolated from the text around it in right-to-left
    pages (HTML templates autoescape) and emails (plain text) alike."""
    return isolate(money(value), html=eval_ctx.autoescape)


@pass_eval_context
def ltr_filter(eval_ctx, value: str | None) -> Markup | str:
    """The `ltr` filter, for what is always written left to right (email addresses, IBANs, URLs, references)."""
    if not value:
        return ""
    if text_direction() != "rtl":
        return escape(value) if eval_ctx.autoescape else value
    if eval_ctx.autoescape:
        return Markup('<bdi dir="ltr">{}</bdi>').format(value)
    return f"\u2066{value}{PDI}"  # LEFT-TO-RIGHT ISOLATE ... POP DIRECTIONAL ISOLATE


def arrow() -> str:
    """The arrow from one thing to the next ("1 Dec → 31 Dec") pointing the way the text reads."""
    return "←" if text_direction() == "rtl" else "→"


def days_left(ends_at: datetime) -> int:
    seconds = (ends_at - utcnow()).total_seconds()
    return max(0, int(-(-seconds // 86400)))  # a part-day counts as a day


NAMED_FORMATS = ("short", "medium", "long", "full")
#: Languages that write the first day of a month as an ordinal: "le 1er décembre", never "le 1 décembre";
#: Brazilian Portuguese writes "1º de dezembro" (the masculine ordinal indicator U+00BA, not a degree sign).
FIRST_DAY_ORDINALS = {"fr": "er", "pt": "\u00ba"}


def _ordinal_first(pattern: str, suffix: str) -> str:
    """The pattern with `suffix` after its day-of-month field `d` (not `dd`, not inside quoted text)."""
    parts = pattern.split("'")
    for i in range(0, len(parts), 2):  # even parts are outside quotes
        parts[i] = re.sub(r"(?<!d)d(?!d)", f"d'{suffix}'", parts[i])
    return "'".join(parts)


def _day_of(value: date | datetime) -> int:
    return to_user_timezone(value).day if isinstance(value, datetime) else value.day


def _first_day_suffix(value: date | datetime) -> str | None:
    return FIRST_DAY_ORDINALS.get(get_locale().language) if _day_of(value) == 1 else None


def format_day(value: date | datetime | None, fmt: str = "medium") -> str:
    """A date in the viewer's language; in French the first of the month is "1er"."""
    if not value:
        return ""
    suffix = _first_day_suffix(value)
    if suffix is None:
        return format_date(value, fmt)
    pattern = get_date_format(fmt, get_locale()).pattern if fmt in NAMED_FORMATS else fmt
    return format_date(value, _ordinal_first(pattern, suffix))


def _format_moment(value: datetime, fmt: str) -> str:
    suffix = _first_day_suffix(value)
    if suffix is None:
        return format_datetime(value, fmt)
    locale = get_locale()
    if fmt in NAMED_FORMATS:
        fmt = (get_datetime_format(fmt, locale).replace("{1}", get_date_format(fmt, locale).pattern)
               .replace("{0}", get_time_format(fmt, locale).pattern))
    return format_datetime(value, _ordinal_first(fmt, suffix))


def datetime_with_zone(value: datetime | None, fmt: str = "medium") -> str:
    """A moment in the viewer's time zone, which the text names: "12/1/26, 8:30 AM UTC".

    Members come from several time zones and the site shows UTC (BABEL_DEFAULT_TIMEZONE): a bare "8:30" would read
    as local time in Cotonou, Lyon or Montréal.
    """
    if not value:
        return ""
    return f"{_format_moment(value, fmt)}\u00a0{get_timezone()}"


def exchange_rate(value) -> str:
    """An exchange rate to six decimals at most, in the viewer's locale: "0,001524" in French, "0.001524" in English."""
    if value is None:
        return ""
    return format_decimal(value, format="#,##0.######")


def local_input_value(money: Money) -> str:
    """The amount as the reader types it, with their language's decimal sign ("10,00" in French, "10.00" in
    English; no grouping), when it reads back as the same amount; else the plain "10.00"."""
    locale = locale_code()
    plain = money.input_value()
    local = plain.replace(".", get_decimal_symbol(locale))
    try:
        return local if Money.parse(local, money.currency, locale) == money else plain
    except InvalidMoney:
        return plain


def og_locale() -> str:
    """The page's language as Open Graph writes it (language_TERRITORY), from CLDR's likely territory."""
    code = locale_code()
    try:
        likely = Locale.parse(get_global("likely_subtags").get(code, code))
    except (ValueError, UnknownLocaleError):
        return code
    return f"{likely.language}_{likely.territory}" if likely.territory else likely.language


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
    if text_direction() == "rtl":  # "+229 97 11 22 33" reads left to right inside Arabic text too
        return Markup('<a href="tel:{}{}" dir="ltr">{}</a>').format(plus, digits, number)
    return Markup('<a href="tel:{}{}">{}</a>').format(plus, digits, number)


def register_template_helpers(app: Flask) -> None:
    app.jinja_env.filters.update(
        money=money_filter,
        ltr=ltr_filter,
        minor_units=pass_eval_context(
            lambda eval_ctx, amount, currency: isolate(money(Money(int(amount or 0), currency)), html=eval_ctx.autoescape)),
        date=format_day,
        datetime=datetime_with_zone,
        country=lambda code: geo.country_name(code, locale_code()),
        region=lambda code: geo.region_name(code, locale_code()),
        days_left=days_left,
        tel=phone_link,
        rate=exchange_rate,
        money_input=local_input_value,
    )

    app.jinja_env.globals["og_locale"] = og_locale  # a global: the share tags' macro (_share_meta.html) reads it

    @app.context_processor
    def locale_context() -> dict:
        code = locale_code()
        return {
            "current_locale": code,
            "text_direction": text_direction(code),
            "arrow": arrow(),
            "with_colon": with_colon,
            "languages": language_choices(app.config["LANGUAGES"]),
        }
