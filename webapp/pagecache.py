"""Whole pages for anonymous visitors, from a cache: the home page (discovery) and the campaign page.

What is cached: the body of a 200 GET answered to a visitor who is not signed in, has no flash message
waiting and made the render touch neither the session nor a real CSRF token. The key is the page's
path and query, the visitor's language and currency (webapp.i18n, webapp.payments.display), and
version tokens: one for the whole site (organizations, exchange rates, match funds), one for the
listing (any campaign changed) and, on a campaign page, one for that campaign.

Freshness: an entry lives PAGE_CACHE_SECONDS (5 s by default) whatever happens, and sooner than that
it is out of use once what it shows changes: a `before_flush` listener notes which campaign a write
touches (the campaign itself, or any row with a campaign_id in CAMPAIGN_TABLES: ledger entries, i.e.
every total, pledges, updates, tiers, matches...) and an `after_commit` listener replaces that
campaign's and the listing's tokens, so the next visitor gets a fresh render. A rolled-back
transaction changes nothing. Bulk UPDATE/DELETE statements on those tables replace the site token.

Stale-while-revalidate: an entry is fresh PAGE_CACHE_SECONDS and kept twice as long; the first request that
finds it stale renders the page again while the others get the stale copy, so a popular page is rendered
once per PAGE_CACHE_SECONDS, not by every worker that misses at once. A total on a cached page is at
most PAGE_CACHE_SECONDS plus one render old; on a campaign's own page a pledge shows at once.

Two versions per campaign, as in "Russian doll" caching: the campaign's *money* token changes with
any write that touches it (a pledge, a refund, a match... and every write below), its *record* token
only with what the organization writes and the moderators review (CONTENT_TABLES: the campaign's own
row, its translations, updates, progress reports, budget lines, indicators and what the people asked
said). The campaign page's body is two fragments: the record (story, updates, reports, impact,
budget), kept PAGE_CACHE_RECORD_SECONDS (60 s) under the record token, and the money (the totals,
match offers, latest supporters, rewards left), kept PAGE_CACHE_SECONDS under the money token; at the
surge, when pledges arrive every second, a page re-renders only its money part.

Nothing personal crosses visitors: the two per-visitor values in an anonymous page, the language form's
CSRF token and the CSP nonce of the inline <script>, are rendered as markers (NONCE_MARK, CSRF_MARK)
while the page is being cached, and every answer, fresh or cached, gets this visitor's own token and a
nonce of its own in their place (`_stamp`). A render that generated a real token anyway, flashed,
or set anything in the session is not stored.

Conditional requests: anonymous pages carry a weak ETag (the cached body's digest and a digest of the
visitor's CSRF secret, so another session never revalidates a copy holding someone else's token),
Last-Modified (when the entry was rendered) and `Cache-Control: private, no-cache`: a browser keeps its
copy and revalidates it (304) instead of refetching; shared proxies store nothing, as the page holds
the visitor's own CSRF token.

The store is Flask-Caching's (`webapp.extensions.cache`): Redis in production (CACHE_REDIS_URL), the
process's memory in `make run`, none in tests unless a test turns it on.
"""
from __future__ import annotations

import hashlib
import re
import secrets
import time
from collections.abc import Callable
from datetime import datetime, timezone

from flask import Flask, Response, current_app, g, has_app_context, request, session
from markupsafe import Markup
from sqlalchemy import event, inspect
from sqlalchemy.orm import Session

#: endpoint -> the kind of page it is
CACHED_ENDPOINTS = {"campaigns.home": "listing", "campaigns.show": "campaign"}
#: a write to a row of these tables (its campaign_id) changes that campaign's page and the listing
CAMPAIGN_TABLES = frozenset({"campaigns", "ledger_entries", "pledges", "campaign_updates", "reward_tiers",
                             "campaign_transitions", "matches", "match_fund_campaigns", "transfers",
                             "refunds", "campaign_translations", "campaign_update_translations",
                             "progress_reports", "budget_lines",
                             # impact: indicators, reported values, and the answers of the people asked
                             "impact_indicators", "impact_values", "impact_answers"})
#: of those, what changes the campaign's record (the fragment kept longer); the others only change money
CONTENT_TABLES = frozenset({"campaigns", "campaign_updates", "campaign_transitions", "campaign_translations",
                            "campaign_update_translations", "progress_reports", "budget_lines",
                            "impact_indicators", "impact_values", "impact_answers"})
#: rows of these tables without a campaign_id belong to no campaign page (the platform's tip, a pooled fund's money)
ROWS_OF_NO_CAMPAIGN = frozenset({"ledger_entries"})
#: an INSERT's bound parameters naming a row's campaign: campaign_id, or campaign_id_m<n> for the n-th of many rows
_CAMPAIGN_PARAM = re.compile(r"campaign_id(_m\d+)?")
#: a write to these changes what every cached page may show
SITE_TABLES = frozenset({"organizations", "exchange_rates", "match_funds"})
#: markers a cacheable render writes instead of the per-visitor values; user content never holds them
#: (text is HTML-escaped, and the stories' sanitizer drops comments)
NONCE_MARK = "<!--harambee:csp-nonce-->"
CSRF_MARK = "<!--harambee:csrf-token-->"
_SITE, _LISTING = "pagecache:v:site", "pagecache:v:listing"


def _campaign_version_key(slug_or_id) -> str:
    return f"pagecache:v:campaign:{slug_or_id}"


def _record_version_key(slug_or_id) -> str:
    return f"pagecache:v:record:{slug_or_id}"


#: version tokens this process read lately: name -> (read at, token); kept PAGE_CACHE_VERSION_SECONDS, so a
#: page served from the cache costs one read of the store, not two. This process's own writes replace them at
#: once (invalidate); another process's are seen within that delay.
_recent_versions: dict[str, tuple[float, str]] = {}


def _versions(slug: str | None) -> dict[str, str]:
    """The site's, the listing's and (for `slug`) the campaign's two version tokens, read once per request."""
    memo = g.setdefault("page_cache_versions", {})
    if slug not in memo:
        names = [_SITE, _LISTING] + ([_campaign_version_key(slug), _record_version_key(slug)] if slug else [])
        keep = current_app.config.get("PAGE_CACHE_VERSION_SECONDS", 0)
        now = time.monotonic()
        found = {name: _recent_versions[name][1] for name in names
                 if keep and name in _recent_versions and now - _recent_versions[name][0] < keep}
        missing = [name for name in names if name not in found]
        if missing:
            read = dict(zip(missing, (v or "0" for v in _cache().get_many(*missing))))
            if keep:
                if len(_recent_versions) > 10_000:  # one entry per campaign seen: bounded
                    _recent_versions.clear()
                _recent_versions.update({name: (now, token) for name, token in read.items()})
            found.update(read)
        memo[slug] = found
    return memo[slug]


def _cache():
    from webapp.extensions import cache

    return cache


def enabled() -> bool:
    return current_app.config.get("CACHE_TYPE", "NullCache") not in ("NullCache", "null") \
        and current_app.config.get("PAGE_CACHE_SECONDS", 0) > 0


# -- who and what may be cached ---------------------------------------------------------------------
def _anonymous() -> bool:
    cookie = current_app.config.get("REMEMBER_COOKIE_NAME", "remember_token")
    return "_user_id" not in session and cookie not in request.cookies and "_flashes" not in session


def _cacheable_request() -> str | None:
    """The page's kind, when this request may be answered from the cache (or stored in it)."""
    if request.method not in ("GET", "HEAD") or request.endpoint not in CACHED_ENDPOINTS:
        return None
    if not enabled() or not _anonymous():
        return None
    return CACHED_ENDPOINTS[request.endpoint]


def _key(kind: str) -> str:
    from webapp.i18n import locale_code
    from webapp.payments.display import viewer_currency

    slug = None if kind == "listing" else request.view_args.get("slug")
    versions = _versions(slug)
    names = [_SITE, _LISTING] if kind == "listing" else [_SITE, _campaign_version_key(slug)]
    where = hashlib.sha256(request.full_path.encode()).hexdigest()[:32]
    tokens = ".".join(versions[name] for name in names)
    return f"pagecache:page:{kind}:{tokens}:{locale_code()}:{viewer_currency() or '-'}:{where}"


# -- fragments: the part of a page every viewer of a kind sees alike -------------------------------
def _value_key(slug: str, parts: tuple, record: bool) -> str:
    from webapp.i18n import locale_code
    from webapp.payments.display import viewer_currency

    versions = _versions(slug)
    names = (_SITE, _record_version_key(slug) if record else _campaign_version_key(slug))
    return (f"pagecache:fragment:{'r' if record else 'm'}:{'.'.join(versions[n] for n in names)}:"
            f"{locale_code()}:{viewer_currency() or '-'}:{hashlib.sha256(repr((slug, parts)).encode()).hexdigest()[:32]}")


def kept_together(slug: str, wanted: list[tuple[tuple, Callable[[], object], bool, bool]]) -> list:
    """Values of the campaign page that every viewer of a kind gets alike, read from the cache in one round
    trip: each of `wanted` is (parts, compute, record, html), and comes from the cache when it holds it for
    the campaign's current version (language and currency are in the key), else is `compute()`d and kept
    (None never is).

    The version is the campaign's money token and an entry lives PAGE_CACHE_SECONDS, or with `record` the
    record token (what only the organization's and moderators' writes change) and PAGE_CACHE_RECORD_SECONDS.
    With `html`, `compute` renders a fragment: its CSRF token and nonce are markers while it renders, stamped
    with this viewer's own before the answer leaves (signed-in members get fragments too: they hold no one's
    name)."""
    if not enabled():
        return [compute() for _parts, compute, _record, _html in wanted]
    cache = _cache()
    try:
        keys = [_value_key(slug, parts, record) for parts, _compute, record, _html in wanted]
        values = list(cache.get_many(*keys))
    except Exception:  # noqa: BLE001 - a cache that is down is a slower page, never an error page
        current_app.logger.warning("page cache unavailable", exc_info=True)
        keys, values = None, [None] * len(wanted)
    for index, (_parts, compute, record, html) in enumerate(wanted):
        if html:
            g.page_cache_markers = True
        if values[index] is not None:
            continue
        if html:
            g.page_cache_fragment = True  # markers in place of this viewer's CSRF token and nonce
        try:
            values[index] = compute()
        finally:
            g.pop("page_cache_fragment", None)
        if keys is not None and values[index] is not None:
            seconds = current_app.config["PAGE_CACHE_RECORD_SECONDS" if record else "PAGE_CACHE_SECONDS"]
            try:
                cache.set(keys[index], values[index], timeout=seconds)
            except Exception:  # noqa: BLE001
                current_app.logger.warning("page cache unavailable", exc_info=True)
    return values


def kept(slug: str, parts: tuple, compute: Callable[[], object], *, record: bool = False):
    """One value of `kept_together`, not HTML."""
    return kept_together(slug, [(parts, compute, record, False)])[0]


#: between the pieces of one fragment (`fragments_in_pieces`); user content never holds it, as for the markers
PART_MARK = "<!--harambee:part-->"


def fragments_in_pieces(slug: str, wanted: list[tuple[tuple, Callable[[], str], bool]]) -> list[list[Markup]]:
    """Rendered fragments of `kept_together` — each of `wanted` is (parts, render, record) — each cut into
    the pieces its render separated by PART_MARK (kept and read as one entry)."""
    html = kept_together(slug, [(parts, render, record, True) for parts, render, record in wanted])
    return [[Markup(piece) for piece in str(value).split(PART_MARK)] for value in html]


# -- template globals while a page is being cached --------------------------------------------------
def _marking() -> bool:
    return bool(g.get("page_cache_key") or g.get("page_cache_fragment"))


def _wrap_globals(app: Flask) -> None:
    real_nonce = app.jinja_env.globals["csp_nonce"]
    real_csrf = app.jinja_env.globals["csrf_token"]

    def csp_nonce() -> str:
        return Markup(NONCE_MARK) if _marking() else real_nonce()

    def csrf_token() -> str:
        return Markup(CSRF_MARK) if _marking() else real_csrf()

    app.jinja_env.globals.update(csp_nonce=csp_nonce, csrf_token=csrf_token)
    # Flask-WTF also puts csrf_token in every template's context; this processor, registered last, wins
    app.context_processor(lambda: {"csp_nonce": csp_nonce, "csrf_token": csrf_token})


def _csrf_secret_digest() -> str:
    from flask_wtf.csrf import generate_csrf

    generate_csrf()  # makes sure the session holds a secret (a first visit gets its session cookie)
    secret = session.get(current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token"), "")
    return hashlib.sha256(str(secret).encode()).hexdigest()[:12]


def _stamp(body: str) -> str:
    """This visitor's own CSRF token and CSP nonce in place of the markers."""
    from flask_wtf.csrf import generate_csrf

    from webapp.security import csp_nonce

    if CSRF_MARK in body:
        body = body.replace(CSRF_MARK, generate_csrf())
    return body.replace(NONCE_MARK, csp_nonce())


def _answer(entry: dict, status_from_cache: bool) -> Response:
    body = entry["body"]
    response = Response(_stamp(body), status=200, mimetype="text/html")
    response.set_etag(f"{entry['digest']}-{_csrf_secret_digest()}", weak=True)
    response.last_modified = datetime.fromtimestamp(entry["at"], tz=timezone.utc)
    response.headers["Cache-Control"] = "private, no-cache"
    response.vary.update(("Cookie", "Accept-Language"))
    response.headers["X-Page-Cache"] = "hit" if status_from_cache else "miss"
    return response.make_conditional(request)


# -- the request hooks ------------------------------------------------------------------------------
def serve_from_cache():
    kind = _cacheable_request()
    if kind is None:
        return None
    try:
        key = _key(kind)
        entry = _cache().get(key)
    except Exception:  # noqa: BLE001 - a cache that is down is a slower page, never an error page
        current_app.logger.warning("page cache unavailable", exc_info=True)
        return None
    if entry is not None:
        if _now() - entry["at"] < current_app.config["PAGE_CACHE_SECONDS"] or not _claim_refresh(key):
            return _answer(entry, status_from_cache=True)  # fresh, or another request is making it again
    g.page_cache_key = key
    return None


def _now() -> float:
    return time.time()


def _claim_refresh(key: str) -> bool:
    """Stale-while-revalidate: of the requests that find an entry older than PAGE_CACHE_SECONDS, one (the first
    to add this key's refresh mark) renders the page again while the others are answered the stale entry; the
    mark lasts as long as an entry is fresh, so a render that failed is tried again by a later request."""
    try:
        return bool(_cache().add(f"{key}:refreshing", 1, timeout=current_app.config["PAGE_CACHE_SECONDS"]))
    except Exception:  # noqa: BLE001
        return True


def store_in_cache(response: Response) -> Response:
    key = g.pop("page_cache_key", None)
    if key is None or response.headers.get("X-Page-Cache"):
        if g.pop("page_cache_markers", False) and response.mimetype == "text/html" \
                and not response.direct_passthrough:
            response.set_data(_stamp(response.get_data(as_text=True)))  # a fragment's markers
        return response
    storable = (response.status_code == 200 and response.mimetype == "text/html" and not response.direct_passthrough
                and "Set-Cookie" not in response.headers and not session.modified and "_flashes" not in session
                and g.get(current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token")) is None)
    body = response.get_data(as_text=True)
    if not storable:  # answer this visitor with their own values; keep nothing
        response.set_data(_stamp(body))
        return response
    entry = {"body": body, "at": int(_now()),
             "digest": hashlib.sha256(body.encode()).hexdigest()[:16]}
    try:
        # kept twice as long as it is fresh: its second half serves the visitors who come while one renders it again
        _cache().set(key, entry, timeout=2 * current_app.config["PAGE_CACHE_SECONDS"])
    except Exception:  # noqa: BLE001
        current_app.logger.warning("page cache unavailable", exc_info=True)
    fresh = _answer(entry, status_from_cache=False)
    for name, value in response.headers.items():  # anything a hook added before this one
        if name.lower() not in ("content-length", "content-type") and name not in fresh.headers:
            fresh.headers.add(name, value)
    return fresh


# -- invalidation -----------------------------------------------------------------------------------
def _note(session_: Session, what: str) -> None:
    session_.info.setdefault("pagecache_changed", set()).add(what)


def _slug_in_session(session_: Session, campaign_id: int) -> str | None:
    """The campaign's slug when the session already holds the campaign (no query), else None."""
    from sqlalchemy.orm.util import identity_key

    from webapp.campaigns.models import Campaign

    campaign = session_.identity_map.get(identity_key(Campaign, campaign_id))
    return campaign.__dict__.get("slug") if campaign is not None else None


def _before_flush(session_: Session, _context, _instances) -> None:
    """Notes what the flush changes: 'campaign:<id>' / 'slug:<slug>' (its record and money), 'money:<id>' /
    'money-slug:<slug>' (its money only), 'listing' or 'site'."""
    for obj in (*session_.new, *session_.dirty, *session_.deleted):
        table = getattr(obj, "__tablename__", None)
        if table == "campaigns":
            if obj in session_.dirty and not session_.is_modified(obj, include_collections=False):
                continue  # only a collection moved (a pledge appended): the child row notes itself
            _note(session_, f"campaign:{obj.id}" if obj.id is not None else "listing")
            if obj.slug:
                _note(session_, f"slug:{obj.slug}")
            for old in inspect(obj).attrs.slug.history.deleted or ():  # a renamed campaign's old address
                _note(session_, f"slug:{old}")
        elif table in CAMPAIGN_TABLES:
            campaign_id, slug = getattr(obj, "campaign_id", None), None
            if campaign_id is None:
                related = obj.__dict__.get("campaign")  # a new row given its campaign, not yet its id
                if related is not None and related.id is not None:
                    campaign_id, slug = related.id, related.__dict__.get("slug")
                elif table in ROWS_OF_NO_CAMPAIGN:
                    continue
                else:
                    _note(session_, "site")
                    continue
            slug = slug or _slug_in_session(session_, campaign_id)
            if table in CONTENT_TABLES:
                _note(session_, f"slug:{slug}" if slug else f"campaign:{campaign_id}")
            else:
                _note(session_, f"money-slug:{slug}" if slug else f"money:{campaign_id}")
        elif table in SITE_TABLES:
            _note(session_, "site")


def _orm_execute(state) -> None:
    if not (state.is_update or state.is_delete or state.is_insert):
        return
    mapper = state.bind_mapper
    table = getattr(getattr(mapper, "class_", None), "__tablename__", None) if mapper is not None else None
    if table not in CAMPAIGN_TABLES and table not in SITE_TABLES:
        return
    ids = _inserted_campaigns(state) if state.is_insert and table in CAMPAIGN_TABLES and table != "campaigns" \
        else None
    if ids is None or (None in ids and table not in ROWS_OF_NO_CAMPAIGN):
        _note(state.session, "site")
        return
    prefix = "campaign" if table in CONTENT_TABLES else "money"
    for campaign_id in ids - {None}:
        _note(state.session, f"{prefix}:{campaign_id}")


def _inserted_campaigns(state) -> set | None:
    """The campaign ids an ORM INSERT writes rows for (None among them for a row without one), or None when
    they cannot be told (then the whole site is out of date, as for a bulk UPDATE)."""
    try:
        rows = state.parameters  # insert(Model), [rows]: executemany
        if rows:
            rows = [rows] if isinstance(rows, dict) else rows
            return {row.get("campaign_id") for row in rows} if all("campaign_id" in r for r in rows) else None
        params = state.statement.compile(dialect=state.session.get_bind().dialect).params  # .values(...)
        found = {name: value for name, value in params.items() if _CAMPAIGN_PARAM.fullmatch(name)}
        return set(found.values()) if found else None
    except Exception:  # noqa: BLE001 - never let the cache break a write
        return None


def _after_commit(session_: Session) -> None:
    changed = session_.info.pop("pagecache_changed", None)
    if not changed or not has_app_context() or not enabled():
        return
    try:
        invalidate(changed)
    except Exception:  # noqa: BLE001 - the timeout still bounds what a visitor sees
        current_app.logger.warning("page cache invalidation failed", exc_info=True)


def _after_rollback(session_: Session) -> None:
    session_.info.pop("pagecache_changed", None)


def invalidate(changed: set[str]) -> None:
    """New version tokens for what changed: 'site', 'listing', a campaign's record and money ('campaign:<id>',
    'slug:<slug>') or its money only ('money:<id>', 'money-slug:<slug>')."""
    cache = _cache()
    token = secrets.token_hex(6)

    def named(kind: str) -> set[str]:
        return {c.split(":", 1)[1] for c in changed if c.startswith(kind + ":")}

    record_ids, money_ids = {int(i) for i in named("campaign")}, {int(i) for i in named("money")}
    record_slugs, money_slugs = named("slug"), named("money-slug")
    if record_ids or money_ids:  # pages are keyed by slug: one read names them (a connection of its own)
        from sqlalchemy import select

        from webapp.campaigns.models import Campaign
        from webapp.extensions import db

        with db.engine.connect() as conn:
            for campaign_id, slug in conn.execute(select(Campaign.id, Campaign.slug)
                                                  .where(Campaign.id.in_(record_ids | money_ids))):
                (record_slugs if campaign_id in record_ids else money_slugs).add(slug)
    money_slugs |= record_slugs
    # The listing (home page, discovery) changes at once with what organizations and moderators write; its cards'
    # totals follow the money within PAGE_CACHE_SECONDS (its entries' freshness), so that at the surge, when
    # pledges arrive every second, the home page is not rendered again for each.
    versions = {_LISTING: token} if (record_slugs or "listing" in changed) else {}
    if "site" in changed:
        versions[_SITE] = token
    versions.update({_campaign_version_key(slug): token for slug in money_slugs})
    versions.update({_record_version_key(slug): token for slug in record_slugs})
    if versions:
        cache.set_many(versions, timeout=0)
        now = time.monotonic()
        _recent_versions.update({name: (now, value) for name, value in versions.items()})


def init_app(app: Flask) -> None:
    from webapp.extensions import cache

    cache.init_app(app)
    _wrap_globals(app)
    app.before_request(serve_from_cache)
    app.after_request(store_in_cache)
    if not getattr(Session, "_harambee_pagecache", False):  # once per process, whatever the app count
        event.listen(Session, "before_flush", _before_flush)
        event.listen(Session, "do_orm_execute", _orm_execute)
        event.listen(Session, "after_commit", _after_commit)
        event.listen(Session, "after_rollback", _after_rollback)
        Session._harambee_pagecache = True
