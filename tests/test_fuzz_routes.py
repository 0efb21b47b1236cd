"""Every route of the URL map, every method, every field of its forms, fed malformed values: no answer
is a 5xx, and a refusal (a 4xx, a form shown again with its errors, a redirect with an error message)
writes nothing (a checksum of every table, before and after).

Routes and their concrete URLs come from the permission tables (tests/test_permissions.py and
tests/mutual_aid/test_permissions.py), which have a row for every route; the roles are a visitor and
the first role each table lets through. Fields are what the route's own row sends plus every input,
select and textarea of the forms that the app's pages point at the route (each GET page is rendered
once, per role, and its forms parsed); query strings get the parameters the views read. URL
parameters get out-of-range and non-ASCII values too.

The values are sampled deterministically, a few per field (the whole set rotated by the field's
name), with a cap per route and role, to keep the run to a few minutes. Every failure is collected
and reported at the end of its route's test: route, method, role, where, field, value, status and
the head of the traceback.

CSRF is off in TestConfig (tests/conftest.py uses it as is), so requests reach the forms' validators
and the views, which is the harder test; `test_a_malformed_csrf_token_is_a_400` fuzzes the token itself
on an app with CSRF on.
"""
from __future__ import annotations

import hashlib
import logging
import re
import traceback
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from types import SimpleNamespace
from urllib.parse import quote, quote_from_bytes, urlsplit

import pytest
from flask import Flask, got_request_exception, url_for
from sqlalchemy import text

import tests.governance.test_permissions as gov_table
import tests.impact.test_permissions as impact_table
import tests.mutual_aid.test_permissions as aid_table
import tests.payments.recurring.test_permissions as recur_table
import tests.test_permissions as main_table
from tests import worlds
from tests.conftest import empty_database
from webapp.extensions import db, limiter

# -- the malformed values ------------------------------------------------------------------------
MISSING = object()


@dataclass(frozen=True)
class Raw:
    """Bytes sent as they are (not valid UTF-8), percent-encoded or not."""

    data: bytes
    encoded: bool = True


ONE_MB = "x" * (1 << 20)
#: name -> value; a list is the same field sent several times
VALUES: dict[str, object] = {
    "missing": MISSING,
    "empty": "",
    "2^63": str(2**63),
    "superscript-2": "²",
    "nul": "a\x00b",
    "bad-utf8": Raw(b"\xff\xfe\xc3("),
    "list": ["1", "2"],
    "10^30": str(10**30),
    "arabic-indic-3": "٣",
    "negative": "-1",
    "text-for-number": "abc",
    "1MB": ONE_MB,
    "bad-utf8-raw": Raw(b"\xc3\x28\xa0\xa1", encoded=False),
    "spaces": "   ",
}
#: whole bodies: not a form, not UTF-8, JSON where a form is expected
BODIES = {"bytes": (b"\xff\xfe\x00=&&=%zz%", "application/x-www-form-urlencoded"),
          "json-list": (b"[1, 2]", "application/json"),
          "multipart-without-boundary": (b"--x\r\n", "multipart/form-data")}
#: values for URL parameters (the rule's converter decides what even reaches the view)
PATH_VALUES = {"2^63": str(2**63), "10^30": str(10**30), "zero": "0", "superscript-2": "²", "arabic-indic-3": "٣",
               "bad-utf8": Raw(b"\xff\xfe"), "nul": "a\x00b", "long": "y" * 2000}
#: query parameters the views read (request.args), besides the fields of GET forms
QUERY_PARAMS = ("page", "q", "category", "sort", "country", "region", "next", "via", "state", "done", "selected",
                "lang", "currency", "reference", "session_id")
#: requests per route and role: signed in, and as a visitor (most routes send a visitor to sign in)
CAP_SIGNED_IN, CAP_ANONYMOUS = 36, 8
#: values tried per field before the cap spreads the rest
PER_FIELD = 6

#: 5xx found in webapp/payments/**, being reshaped: xfailed (strict=False) until the lead fixes them
#: after the reshape lands. (endpoint, method) -> what fails.
KNOWN_PAYMENTS_5XX: dict[tuple[str, str], str] = {}


# -- what a route is, and how to reach it -------------------------------------------------------
@dataclass
class Target:
    endpoint: str
    method: str
    #: whose world: "main" (tests/test_permissions.py), "aid", "recur", "gov" or "impact" (their own tables)
    world: str
    #: URL values from the world
    values: Callable[[SimpleNamespace], dict]
    #: the row's valid form data, from the world and the signed-in user
    data: Callable[[SimpleNamespace, object], dict]
    #: roles to send it as: a visitor, and one the route lets through
    roles: tuple[str, ...]

    @property
    def id(self) -> str:
        return f"{self.endpoint}-{self.method}"


def _first_allowed(expect: dict, roles: Iterable[str]) -> str | None:
    return next((role for role in roles if role != "anonymous" and expect[role] == "ok"), None)


def targets() -> list[Target]:
    found: dict[tuple[str, str], Target] = {}
    for case in main_table.EXPECTATIONS:
        key = (case.endpoint, case.method)
        allowed = _first_allowed(case.expect, main_table.ROLES)
        if key in found and (allowed is None or len(found[key].roles) > 1):
            continue
        data = case.data or (lambda w, u: {})
        found[key] = Target(case.endpoint, case.method, "main", case.values, data,
                            ("anonymous",) + ((allowed,) if allowed else ()))
    # the blueprints with tables of their own: their own roles, form data from the world alone
    for table, world in ((aid_table, "aid"), (recur_table, "recur"), (gov_table, "gov"), (impact_table, "impact")):
        for case in table.EXPECTATIONS:
            key = (case.endpoint, case.method)
            allowed = _first_allowed(case.expect, table.ROLES)
            if key in found and (allowed is None or len(found[key].roles) > 1):
                continue
            found[key] = Target(case.endpoint, case.method, world, case.args,
                                (lambda d: lambda w, u: d(w))(case.data), ("anonymous",) + ((allowed,) if allowed else ()))
    return [found[key] for key in sorted(found)]


TARGETS = targets()


def test_every_route_of_the_app_is_fuzzed():
    routes = set(main_table.ROUTES)
    missing = routes - {(t.endpoint, t.method) for t in TARGETS}
    assert not missing, f"routes the fuzzer cannot build a URL for (add their permission row): {sorted(missing)}"


def test_the_checksum_sees_a_committed_write_and_a_rolled_back_one_leaves_it(app):
    from tests.factories import OrganizationFactory

    first = checksum()
    assert checksum() == first  # nothing written: the digest read there is reused
    OrganizationFactory(name="A written row")
    db.session.commit()
    second = checksum()
    assert second != first
    OrganizationFactory(name="A row rolled back")
    db.session.flush()
    db.session.rollback()
    assert checksum() == second


# -- worlds --------------------------------------------------------------------------------------
def build(world: str) -> SimpleNamespace:
    if world == "recur":
        return recur_table.build_world()
    if world == "gov":
        return gov_table.build_world()
    if world == "impact":
        return impact_table.build_world()
    return main_table.build_world() if world == "main" else aid_table.build_world()


def user_of(w: SimpleNamespace, world: str, role: str):
    if role == "anonymous":
        return None
    return w.users[role] if world in ("main", "recur", "gov", "impact") else getattr(w, role)


@dataclass
class Frozen:
    """A world built once per run, kept as the rows of every table (restored in a few milliseconds,
    with the same ids) and as what each target needs from it (URL values, form data, the user)."""

    snapshot: worlds.Rows
    values: dict[str, dict] = field(default_factory=dict)
    data: dict[tuple[str, str], dict] = field(default_factory=dict)
    user_ids: dict[str, str | None] = field(default_factory=dict)
    forms: "FormIndex | None" = None


_frozen: dict[str, Frozen] = {}


def frozen_world(app: Flask, world: str) -> Frozen:
    if world in _frozen:
        restore(_frozen[world].snapshot)
        return _frozen[world]
    db.session.remove()
    empty_database(db.engine)
    w = build(world)
    roles = {"main": main_table.ROLES, "aid": aid_table.ROLES, "recur": recur_table.ROLES,
             "gov": gov_table.ROLES, "impact": impact_table.ROLES}[world]
    frozen = Frozen(snapshot=worlds.Rows(rows={}, sequences=[]))
    frozen.user_ids = {role: (user_of(w, world, role).get_id() if role != "anonymous" else None) for role in roles}
    for target in TARGETS:
        if target.world != world:
            continue
        frozen.values[target.id] = target.values(w)
        for role in target.roles:
            raw = target.data(w, user_of(w, world, role))
            frozen.data[(target.id, role)] = {k: [str(x) for x in v] if isinstance(v, list) else str(v)
                                              for k, v in raw.items()}
    db.session.commit()
    db.session.remove()
    frozen.snapshot = worlds.Rows.take()
    frozen.forms = form_index(app, world, frozen)
    restore(frozen.snapshot)
    _frozen[world] = frozen
    return frozen


def restore(snapshot: worlds.Rows) -> None:
    db.session.rollback()
    db.session.remove()
    empty_database(db.engine)
    snapshot.put_back()


def client_as(app: Flask, user_id: str | None):
    client = app.test_client()
    if user_id is not None:
        with client.session_transaction() as session:
            session["_user_id"] = user_id
            session["_fresh"] = True
    return client


#: (where the database stood, the digest read there): a digest is read again only once something may have written
_digest_at: list = [None, None]


def checksum() -> str:
    """A digest of every row of every table, as committed (the session's own changes rolled back, as at
    the end of a request in production).

    Reading every table after every request is most of a probe's cost, so the digest is read again only
    when the database may have changed since the last one: on PostgreSQL when the cluster's WAL insert
    position moved (every committed write to a logged table moves it; so may other databases' writes or a
    page pruned on read, which only costs a new digest), on SQLite when this connection's total_changes()
    did (every INSERT, UPDATE or DELETE counts, even rolled back; the in-memory database has one connection).
    """
    db.session.rollback()
    postgres = db.engine.dialect.name == "postgresql"
    mark = db.session.execute(text("SELECT pg_current_wal_insert_lsn()::text" if postgres
                                   else "SELECT total_changes()")).scalar()
    mark = (str(db.engine.url), mark)
    if _digest_at[0] == mark:
        db.session.rollback()
        return _digest_at[1]
    digest = _digest()
    _digest_at[:] = [mark, digest]
    return digest


def _digest() -> str:
    if db.engine.dialect.name == "postgresql":  # one round trip: each table's rows as text, digested there
        parts = " || ".join(f"""(SELECT md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) FROM "{table.name}" t)"""
                            for table in db.metadata.sorted_tables)
        found = db.session.execute(text(f"SELECT {parts}")).scalar()
        db.session.rollback()
        return found
    digest = hashlib.sha256()
    cursor = db.session.connection().connection.dbapi_connection.cursor()
    try:
        for table in db.metadata.sorted_tables:
            cursor.execute(f'SELECT * FROM "{table.name}"')
            digest.update(table.name.encode())
            for line in sorted(repr(tuple(row)) for row in cursor.fetchall()):
                digest.update(line.encode())
    finally:
        cursor.close()
    db.session.rollback()
    return digest.hexdigest()


# -- forms on the app's pages ---------------------------------------------------------------------
class FormParser(HTMLParser):
    """Forms of a page: action path, method, and their fields (name -> input type)."""

    def __init__(self, page_path: str):
        super().__init__()
        self.page_path = page_path
        self.forms: list[tuple[str, str, dict[str, str]]] = []
        self._current: dict[str, str] | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            action = urlsplit(a.get("action") or self.page_path).path or self.page_path
            self._current = {}
            self.forms.append((action, (a.get("method") or "get").upper(), self._current))
        elif tag in ("input", "select", "textarea", "button") and self._current is not None and a.get("name"):
            kind = a.get("type", "text") if tag == "input" else tag
            if kind not in ("submit", "image", "reset") or tag == "button":
                self._current.setdefault(a["name"], kind)

    def handle_endtag(self, tag):
        if tag == "form":
            self._current = None


@dataclass
class FormIndex:
    #: (action path, method) -> {field name: kind}
    fields: dict[tuple[str, str], dict[str, str]] = field(default_factory=dict)

    def add(self, page_path: str, html: str) -> None:
        parser = FormParser(page_path)
        parser.feed(html)
        for action, method, fields in parser.forms:
            self.fields.setdefault((action, method), {}).update(fields)

    def of(self, path: str, method: str) -> dict[str, str]:
        return self.fields.get((path, method), {})


def form_index(app: Flask, world: str, frozen: Frozen) -> FormIndex:
    """Every GET page of the world's routes, rendered as each role the fuzzer sends it as, parsed."""
    index = FormIndex()
    for target in TARGETS:
        if target.world != world or target.method != "GET":
            continue
        for role in target.roles:
            path = url_for(target.endpoint, **frozen.values[target.id])
            response = client_as(app, frozen.user_ids[role]).get(path)
            if response.status_code == 200 and response.mimetype == "text/html":
                index.add(urlsplit(path).path, response.get_data(as_text=True))
            db.session.rollback()
    return index


# -- building requests ----------------------------------------------------------------------------
def _encode(pairs: list[tuple[str, object]]) -> bytes:
    parts = []
    for name, value in pairs:
        key = quote(name, safe="").encode()
        if isinstance(value, Raw):
            parts.append(key + b"=" + (quote_from_bytes(value.data, safe="").encode() if value.encoded else value.data))
        else:
            parts.append(key + b"=" + quote(str(value), safe="").encode())
    return b"&".join(parts)


def with_value(base: dict, name: str, value) -> list[tuple[str, object]]:
    pairs = [(k, v) for k, values in base.items() if k != name
             for v in (values if isinstance(values, list) else [values])]
    if value is MISSING:
        return pairs
    if isinstance(value, list):
        return pairs + [(name, v) for v in value]
    return pairs + [(name, value)]


_RULE_PART = re.compile(r"<(?:([^:<>]+):)?([^<>]+)>")


def build_path(rule: str, values: dict, replace: tuple[str, object] | None = None) -> str:
    def part(match):
        name = match.group(2)
        value = replace[1] if replace and replace[0] == name else values[name]
        if isinstance(value, Raw):
            return quote_from_bytes(value.data, safe="")
        return quote(str(value), safe="")

    return _RULE_PART.sub(part, rule)


@dataclass(frozen=True)
class Probe:
    where: str  # "form", "query" or "path"
    field: str
    value_name: str


def sample(fields: list[str], where: str, values: dict, cap: int, per_field: int = PER_FIELD,
           salt: str = "") -> list[Probe]:
    """Deterministic: each field tries `per_field` values, starting at an offset its name (and the
    route, `salt`) decides, so that across fields and routes every value is tried; round-robin over
    the fields until the cap."""
    names = list(values)
    lanes = []
    for name in sorted(fields):
        offset = zlib.crc32(f"{salt}:{where}:{name}".encode()) % len(names)
        lanes.append([Probe(where, name, names[(offset + i) % len(names)]) for i in range(min(per_field, len(names)))])
    probes: list[Probe] = []
    for i in range(max((len(lane) for lane in lanes), default=0)):
        probes.extend(lane[i] for lane in lanes if i < len(lane))
    return probes[:cap]


# -- one request, judged ---------------------------------------------------------------------------
@dataclass
class Failure:
    route: str
    role: str
    probe: Probe
    status: object
    detail: str

    def __str__(self) -> str:
        p = self.probe
        return f"{self.route} as {self.role}: {p.where} {p.field}={p.value_name} -> {self.status}\n    {self.detail}"


_ERROR_MARKUP = re.compile(r'class="[^"]*\b(has-error|errors)\b|aria-invalid="true"')


def refused(response, client) -> bool:
    """A 4xx, a form shown again with its errors, or a redirect carrying an error message."""
    if 400 <= response.status_code < 500:
        return True
    if response.status_code == 200 and response.mimetype == "text/html":
        return bool(_ERROR_MARKUP.search(response.get_data(as_text=True)))
    if 300 <= response.status_code < 400:
        with client.session_transaction() as session:
            flashes = session.get("_flashes", [])
            errors = any(category == "error" for category, _message in flashes)
            session.pop("_flashes", None)
        return errors
    return False


def _head(exc: BaseException) -> str:
    where = " <- ".join(f"{f.filename.rsplit('/', 2)[-1]}:{f.lineno}"
                        for f in reversed(traceback.extract_tb(exc.__traceback__)[-4:]))
    return "".join(traceback.format_exception_only(type(exc), exc)).strip()[:300] + " at " + where


def send(client, method: str, path: str, *, body: bytes | None = None, query: bytes | None = None,
         content_type: str = "application/x-www-form-urlencoded"):
    """The response and the head of the traceback of any exception the app met (raised through the
    test client, or turned into a 500 page by the error handlers), or None."""
    kwargs = {}
    if body is not None:
        kwargs.update(data=body, content_type=content_type)
    if query is not None:  # as the server hands it over: the raw bytes, latin-1 decoded (PEP 3333)
        kwargs["environ_overrides"] = {"QUERY_STRING": query.decode("latin-1")}
    seen = _Seen()
    got_request_exception.connect(seen.signal)
    ERRORPAGES_LOG.addHandler(seen)
    try:
        response = client.open(path, method=method, **kwargs)
    except Exception as exc:  # noqa: BLE001  (any exception is a 500 in production)
        return None, _head(exc)
    finally:
        got_request_exception.disconnect(seen.signal)
        ERRORPAGES_LOG.removeHandler(seen)
    return response, (_head(seen.errors[0]) if seen.errors else None)


#: webapp/errorpages.py logs the exception it turns into a 500 page
ERRORPAGES_LOG = logging.getLogger("webapp.errorpages")


class _Seen(logging.Handler):
    """The exceptions a request met: Flask's signal, or the error page's log record."""

    def __init__(self):
        super().__init__(logging.ERROR)
        self.errors: list[BaseException] = []

    def signal(self, sender, exception, **extra):
        self.errors.append(exception)

    def emit(self, record):
        if record.exc_info and record.exc_info[1] is not None:
            self.errors.append(record.exc_info[1])


@dataclass
class Fuzzer:
    """Sends probes and judges the answers; `reset` rebuilds the world after a request changed it."""

    client_for: Callable[[], object]
    checksum: Callable[[], str]
    reset: Callable[[], None]
    failures: list[Failure] = field(default_factory=list)
    sent: int = 0

    #: the checksum after the last request (the state the next one starts from)
    last: str | None = None

    def probe(self, route: str, role: str, probe: Probe, method: str, path: str, *, body=None, query=None,
              content_type: str = "application/x-www-form-urlencoded") -> None:
        before = self.last if self.last is not None else self.checksum()
        client = self.client_for()
        response, error = send(client, method, path, body=body, query=query, content_type=content_type)
        self.sent += 1
        if response is None or response.status_code >= 500:
            status = "exception (500)" if response is None else response.status_code
            self.failures.append(Failure(route, role, probe, status, error or "(no exception recorded)"))
            self.reset()
            self.last = None
            return
        was_refused = refused(response, client)
        after = self.checksum()
        if after != before:
            if was_refused:
                self.failures.append(Failure(route, role, probe, response.status_code,
                                             "refused, yet the database changed"))
            self.reset()
            after = None
        self.last = after


# -- the test ---------------------------------------------------------------------------------------
def _params() -> list:
    params = []
    for target in TARGETS:
        marks = []
        if (target.endpoint, target.method) in KNOWN_PAYMENTS_5XX:
            marks.append(pytest.mark.xfail(reason=KNOWN_PAYMENTS_5XX[(target.endpoint, target.method)],
                                           strict=False))
        params.append(pytest.param(target, id=target.id, marks=marks))
    return params


@pytest.fixture
def no_rate_limits():
    was = limiter.enabled
    limiter.enabled = False
    yield
    limiter.enabled = was


@pytest.mark.parametrize("target", _params())
def test_malformed_input_never_answers_5xx_and_a_refusal_writes_nothing(app, target: Target, no_rate_limits):
    frozen = frozen_world(app, target.world)
    rule = next(r for r in app.url_map.iter_rules(target.endpoint) if target.method in r.methods)
    values = frozen.values[target.id]
    path = url_for(target.endpoint, **values)
    route = f"{target.method} {rule.rule}"
    fuzzer = Fuzzer(client_for=lambda: None, checksum=checksum, reset=lambda: restore(frozen.snapshot))
    for role in target.roles:
        cap = CAP_ANONYMOUS if role == "anonymous" else CAP_SIGNED_IN
        fuzzer.client_for = lambda role=role: client_as(app, frozen.user_ids[role])
        base = frozen.data[(target.id, role)]
        # an unexpected field, and (posting) bodies that are no form at all; then the URL's parameters
        probes = [Probe("query" if target.method == "GET" else "form", "unexpected", "list")]
        if target.method != "GET":
            probes += [Probe("body", "<body>", name) for name in BODIES]
        probes += sample(sorted(rule.arguments), "path", PATH_VALUES, cap // 4, per_field=3, salt=target.id)
        room = cap - len(probes)
        if target.method == "GET":
            query_fields = set(QUERY_PARAMS) | set(frozen.forms.of(urlsplit(path).path, "GET"))
            probes += sample(sorted(query_fields), "query", VALUES, room, salt=f"{target.id}:{role}")
        else:
            form_fields = set(base) | set(frozen.forms.of(urlsplit(path).path, target.method))
            probes += sample(sorted(form_fields), "form", VALUES, room, salt=f"{target.id}:{role}")
        for probe in probes[:cap]:
            if probe.where == "body":
                body, content_type = BODIES[probe.value_name]
                fuzzer.probe(route, role, probe, target.method, path, body=body, content_type=content_type)
            elif probe.where == "form":
                body = _encode(with_value(base, probe.field, VALUES[probe.value_name]))
                fuzzer.probe(route, role, probe, target.method, path, body=body)
            elif probe.where == "query":
                query = _encode(with_value({}, probe.field, VALUES[probe.value_name]))
                fuzzer.probe(route, role, probe, target.method, path, query=query)
            else:
                bad_path = build_path(rule.rule, values, (probe.field, PATH_VALUES[probe.value_name]))
                body = _encode(with_value(base, "", MISSING)) if target.method != "GET" else None
                fuzzer.probe(route, role, probe, target.method, bad_path, body=body)
    assert fuzzer.sent > 0
    assert not fuzzer.failures, f"{len(fuzzer.failures)} failure(s) of {fuzzer.sent} requests:\n" + "\n".join(
        str(f) for f in fuzzer.failures)


# -- the fuzzer catches what it is for --------------------------------------------------------------
def test_the_fuzzer_finds_the_fields_of_forms_that_other_pages_hold(app):
    """A route's fields are more than its permission row sends: the tier form on the campaign's edit
    page posts to add_tier, with fields the row leaves out; the search form on the home page."""
    frozen = frozen_world(app, "main")
    add_tier = urlsplit(url_for("manage.add_tier", slug="draft-a")).path
    assert {"title", "minimum", "quantity_limit", "delivery_month"} <= set(frozen.forms.of(add_tier, "POST"))
    assert {"q", "category"} <= set(frozen.forms.of(urlsplit(url_for("campaigns.home")).path, "GET"))



def test_the_fuzzer_flags_a_500_and_a_refusal_that_writes(app):
    """A deliberately broken app: a route that int()s its field (a 500 on 'abc'), one that writes and
    then answers 400. The fuzzer reports both, with the field and the value."""
    broken = Flask("broken")
    broken.config["TESTING"] = True
    rows: list[str] = []

    @broken.post("/count")
    def count():
        from flask import request

        return str(int(request.form.get("n", "0")))  # '²', 'abc', a missing field...: ValueError -> 500

    @broken.post("/note")
    def note():
        from flask import request

        rows.append(request.form.get("text", ""))  # written before it is checked
        return ("too long", 400) if len(rows[-1]) > 10 else "ok"

    fuzzer = Fuzzer(client_for=broken.test_client, checksum=lambda: str(len(rows)), reset=lambda: None)
    for probe in sample(["n"], "form", VALUES, cap=len(VALUES), per_field=len(VALUES)):
        fuzzer.probe("POST /count", "anonymous", probe, "POST", "/count",
                     body=_encode(with_value({}, "n", VALUES[probe.value_name])))
    for probe in sample(["text"], "form", VALUES, cap=len(VALUES), per_field=len(VALUES)):
        fuzzer.probe("POST /note", "anonymous", probe, "POST", "/note",
                     body=_encode(with_value({}, "text", VALUES[probe.value_name])))

    flagged = {(f.route, f.probe.value_name, str(f.status)) for f in fuzzer.failures}
    assert ("POST /count", "text-for-number", "exception (500)") in flagged
    assert ("POST /count", "superscript-2", "exception (500)") in flagged
    assert ("POST /note", "1MB", "400") in flagged
    assert all(f.route == "POST /count" or f.detail == "refused, yet the database changed" for f in fuzzer.failures)
    assert "ValueError" in next(f.detail for f in fuzzer.failures if f.route == "POST /count")


@pytest.mark.parametrize("token", ["", "\x00", "²", "x" * 100_000, ["a", "b"], Raw(b"\xff\xfe")],
                         ids=["empty", "nul", "superscript", "100kB", "list", "bad-utf8"])
def test_a_malformed_csrf_token_is_a_400(token):
    """With CSRF on (as in production), a malformed token on every form-posting route is refused with
    a 400 before any view runs."""
    from tests.conftest import make_app

    app = make_app(WTF_CSRF_ENABLED=True)
    client = app.test_client()
    posts = sorted({rule.rule for rule in app.url_map.iter_rules() if "POST" in rule.methods
                    and not rule.arguments and rule.endpoint != "payments.stripe_webhook"})
    assert posts
    with app.app_context():
        for path in posts:
            response, error = send(client, "POST", path, body=_encode(with_value({}, "csrf_token", token)))
            assert error is None, f"POST {path}: {error}"
            assert response.status_code == 400, f"POST {path}: {response.status_code}"
