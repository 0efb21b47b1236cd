"""The HTTP side of the fake Stripe: a threaded server on 127.0.0.1, form decoding, auth, idempotency, routes."""
from __future__ import annotations

import json
import re
import secrets
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit


class FakeStripeError(AssertionError):
    """A test asked the fake for something Stripe would not let happen (paying an expired session...)."""


class ApiError(Exception):
    """An error answered in Stripe's JSON shape: {"error": {"type", "code", "message", "param", ...}}."""

    def __init__(self, status: int, message: str, *, type: str = "invalid_request_error", code: str | None = None,
                 param: str | None = None, **extra: Any):
        super().__init__(message)
        self.status = status
        self.error = {"type": type, "message": message}
        if code:
            self.error["code"] = code
        if param:
            self.error["param"] = param
        self.error.update(extra)

    @property
    def saved_by_idempotency(self) -> bool:
        # Stripe keeps the result of a request that started executing (a declined card) but not
        # of one refused while validating its parameters, which may be retried with the same key.
        return self.status == 402


def invalid(message: str, param: str | None = None, code: str | None = None) -> ApiError:
    return ApiError(400, message, param=param, code=code or ("parameter_invalid" if param else None))


def not_found(kind: str, ident: str, param: str = "id") -> ApiError:
    return ApiError(404, f"No such {kind}: '{ident}'", code="resource_missing", param=param)


def parse_params(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """Stripe's form encoding to nested data: `a[b][0][c]=v` → {"a": {"b": [{"c": "v"}]}}; `a[]` appends."""
    root: dict[str, Any] = {}
    for key, value in pairs:
        match = re.fullmatch(r"([^\[\]]+)((?:\[[^\[\]]*\])*)", key)
        if not match:
            raise invalid(f"Invalid parameter name: {key}")
        parts = [match.group(1), *re.findall(r"\[([^\[\]]*)\]", match.group(2))]
        node = root
        for depth, part in enumerate(parts):
            if part == "":
                part = str(len(node))
            last = depth == len(parts) - 1
            if last:
                node[part] = value
            else:
                child = node.setdefault(part, {})
                if not isinstance(child, dict):
                    raise invalid(f"Invalid parameter: {key} mixes a value and a hash")
                node = child
    return _lists(root)


def _lists(node: Any) -> Any:
    if not isinstance(node, dict):
        return node
    converted = {key: _lists(value) for key, value in node.items()}
    if converted and sorted(converted, key=lambda k: int(k) if k.isdigit() else -1) == [
            str(i) for i in range(len(converted))]:
        return [converted[str(i)] for i in range(len(converted))]
    return converted


@dataclass
class RecordedRequest:
    method: str
    path: str
    params: dict[str, Any]
    idempotency_key: str | None
    headers: dict[str, str]
    client_host: str
    status: int = 0
    replayed: bool = False
    #: the route's path template ("/v1/payment_intents/{id}") once routed
    route: str | None = None
    #: True once the parameters passed the stripe library's params TypedDict for the route
    validated: bool = False
    #: the 400 the validator answered, if it refused the parameters
    validation_error: dict[str, Any] | None = None


@dataclass
class _Saved:
    method: str
    path: str
    params: dict[str, Any]
    status: int
    body: dict[str, Any]


@dataclass
class Route:
    method: str
    pattern: re.Pattern
    handler: Any
    template: str  #: the path as written, "/v1/payment_intents/{id}" (the key of params.ROUTE_PARAMS)


@dataclass
class RateLimit:
    """Answer the next `remaining` requests (to `path` only, if given) with a 429."""

    remaining: int
    path: str | None = None
    code: str = "rate_limit"
    #: the Stripe-Should-Retry header to send ("true"/"false"), None: no header
    should_retry: str | None = None


@dataclass
class HttpSide:
    """Everything about the wire: what was asked, with which keys, and what was answered."""

    api_key: str
    requests: list[RecordedRequest] = field(default_factory=list)
    #: how many times each Idempotency-Key arrived (replays included)
    idempotency_keys: Counter = field(default_factory=Counter)
    saved: dict[str, _Saved] = field(default_factory=dict)
    #: answer nothing to the next N API requests after doing them (a response lost on the network)
    lose_responses: int = 0
    #: the same, for the next requests to one (method, path) only: how many are left to lose
    lose_responses_to: Counter = field(default_factory=Counter)
    #: 429s to answer on demand, in order (see FakeStripe.rate_limit_next)
    rate_limits: list[RateLimit] = field(default_factory=list)
    #: None: no limiter; else at most this many API requests (reads and writes) per rolling second
    requests_per_second: int | None = None
    #: monotonic times of the requests the limiter let through in the last second
    recent: list[float] = field(default_factory=list)
    #: the limiter's clock (a test may freeze it)
    clock: Any = time.monotonic

    def reset(self) -> None:
        self.requests.clear()
        self.idempotency_keys.clear()
        self.saved.clear()
        self.lose_responses = 0
        self.lose_responses_to.clear()
        self.rate_limits.clear()
        self.requests_per_second = None
        self.recent.clear()
        self.clock = time.monotonic


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"
    #: headers and body go out in two writes: without TCP_NODELAY the body waits for the client's
    #: delayed ACK (40 ms on Linux) on every kept-alive request
    disable_nagle_algorithm = True

    def log_message(self, format, *args):  # keep test output quiet
        pass

    def do_GET(self):
        self._dispatch("GET")

    def do_POST(self):
        self._dispatch("POST")

    def do_DELETE(self):
        self._dispatch("DELETE")

    def _dispatch(self, method: str) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode("utf-8") if length else ""
        split = urlsplit(self.path)
        fake = self.server.fake
        if not split.path.startswith("/v1/"):
            status, headers, content = fake.hosted_page(method, split.path, body)
            self._send(status, headers, content)
            return
        outcome = fake.api_request(method, split.path, split.query, body, dict(self.headers.items()),
                                   self.client_address[0])
        if outcome is None:  # the response "got lost": close without a word
            self.close_connection = True
            return
        status, payload, headers = outcome
        self._send(status, {"Content-Type": "application/json", **headers}, json.dumps(payload).encode())

    def _send(self, status: int, headers: dict[str, str], content: bytes) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(content)))
        self.end_headers()
        self.wfile.write(content)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, fake):
        self.fake = fake
        super().__init__(("127.0.0.1", 0), _Handler)


class HttpServerMixin:
    """Serving, authenticating, decoding, routing and replaying; FakeStripe supplies the endpoints."""

    routes: list[Route]
    http: HttpSide
    lock: threading.RLock

    def start(self):
        self._server = _Server(self)
        self._thread = threading.Thread(target=self._server.serve_forever, name="fake-stripe", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    @property
    def url(self) -> str:
        """The API base to give the stripe library (STRIPE_API_BASE)."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every API request received, in order (hosted-page requests are not counted)."""
        return self.http.requests

    @property
    def idempotency_keys(self) -> Counter:
        return self.http.idempotency_keys

    def rate_limit_next(self, count: int = 1, path: str | None = None, *, code: str = "rate_limit",
                        should_retry: bool | None = None) -> None:
        """Answer the next `count` API requests (to `path` only, e.g. "/v1/payment_intents") with HTTP 429.

        `code` is "rate_limit" (too many requests) or "lock_timeout" (another request holds the object).
        `should_retry` sets the Stripe-Should-Retry header; by default the fake sends "true" with
        lock_timeout (the header the stripe library reads: it retries a 429 only when told to) and
        no header with rate_limit.
        """
        if code not in RATE_LIMIT_ERRORS:
            raise ValueError(f"code must be one of {sorted(RATE_LIMIT_ERRORS)}")
        header = None if should_retry is None and code == "rate_limit" else (
            "true" if should_retry is None or should_retry else "false")
        with self.lock:
            self.http.rate_limits.append(RateLimit(count, path, code, header))

    def limit_rate(self, requests_per_second: int | None = 25) -> None:
        """Refuse API requests beyond `requests_per_second` in any rolling second with a 429 rate_limit,
        as test mode does at 25 (reads and writes alike); None switches the limiter off."""
        with self.lock:
            self.http.requests_per_second = requests_per_second
            self.http.recent.clear()

    def invalid_requests(self) -> list[RecordedRequest]:
        """The requests Stripe would have refused for their parameters (the validator's 400s)."""
        return [r for r in self.http.requests if r.validation_error is not None]

    def lose_next_responses(self, count: int = 1) -> None:
        """Carry out the next `count` API requests but drop their responses, as a flaky network would."""
        self.http.lose_responses = count

    def forget_idempotency_keys(self) -> None:
        """Time passes: Stripe prunes idempotency keys once they are at least 24 hours old
        (https://docs.stripe.com/api/idempotent_requests), so a key sent again makes a new request."""
        with self.lock:
            self.http.saved.clear()

    def lose_next_responses_to(self, method: str, path: str, count: int = 1) -> None:
        """Carry out the next `count` requests to `method path` (e.g. "POST", "/v1/payment_intents") but
        drop their responses; requests to other paths are answered."""
        with self.lock:
            self.http.lose_responses_to[(method, path)] += count

    def api_request(self, method: str, path: str, query: str, body: str, headers: dict[str, str],
                    client_host: str):
        headers = {name.lower(): value for name, value in headers.items()}
        key = headers.get("idempotency-key")
        with self.lock:
            try:
                params = parse_params(parse_qsl(query, keep_blank_values=True) if method != "POST"
                                      else parse_qsl(body, keep_blank_values=True))
            except ApiError as exc:
                params, early = {}, exc
            else:
                early = None
            record = RecordedRequest(method, path, params, key, headers, client_host)
            self.http.requests.append(record)
            if key:
                self.http.idempotency_keys[key] += 1
            request_id = "req_" + secrets.token_hex(7)
            # events an API request causes name it (event.request), as Stripe's do
            self.request_context = {"id": request_id, "idempotency_key": key}
            try:
                status, payload, extra = self._answer(method, path, params, headers, key, early, record)
            finally:
                self.request_context = None
            record.status = status
            if self.http.lose_responses > 0:
                self.http.lose_responses -= 1
                return None
            if self.http.lose_responses_to[(method, path)] > 0:
                self.http.lose_responses_to[(method, path)] -= 1
                return None
            return status, payload, {"Request-Id": request_id, **extra}

    def _answer(self, method, path, params, headers, key, early, record):
        auth = headers.get("authorization", "")
        if not auth.startswith("Bearer ") or not auth.removeprefix("Bearer ").strip():
            return 401, _error_body(ApiError(401, "You did not provide an API key. Provide it in the "
                                             "Authorization header as a Bearer token.")), {}
        if auth.removeprefix("Bearer ").strip() != self.http.api_key:
            return 401, _error_body(ApiError(401, "Invalid API Key provided.", code="api_key_invalid")), {}
        limited = self._rate_limited(path)
        if limited is not None:
            return limited
        if early is not None:
            return early.status, _error_body(early), {}
        if method == "POST" and key:
            saved = self.http.saved.get(key)
            if saved is not None:
                if (saved.method, saved.path, saved.params) != (method, path, params):
                    error = ApiError(400, "Keys for idempotent requests can only be used with the same "
                                     "parameters they were first used with. Try using a key other than "
                                     f"'{key}' if you meant to execute a different request.",
                                     type="idempotency_error")
                    return 400, _error_body(error), {}
                record.replayed = True
                return saved.status, saved.body, {"Idempotent-Replayed": "true", "Original-Request": key}
        status, payload = self._route(method, path, params, record)
        if method == "POST" and key and (status == 200 or status == 402):
            self.http.saved[key] = _Saved(method, path, params, status, payload)
        return status, payload, {}

    def _rate_limited(self, path: str):
        for limit in self.http.rate_limits:
            if limit.remaining > 0 and (limit.path is None or limit.path == path):
                limit.remaining -= 1
                headers = {"Stripe-Should-Retry": limit.should_retry} if limit.should_retry else {}
                return 429, _error_body(rate_limit_error(limit.code)), headers
        self.http.rate_limits = [limit for limit in self.http.rate_limits if limit.remaining > 0]
        if self.http.requests_per_second is not None:
            now = self.http.clock()
            self.http.recent = [moment for moment in self.http.recent if now - moment < 1.0]
            if len(self.http.recent) >= self.http.requests_per_second:
                return 429, _error_body(rate_limit_error("rate_limit")), {}
            self.http.recent.append(now)
        return None

    def _route(self, method: str, path: str, params: dict, record: RecordedRequest | None = None
               ) -> tuple[int, dict]:
        from tests.fake_stripe import params as types, versions

        for route in self.routes:
            match = route.pattern.fullmatch(path)
            if route.method == method and match:
                if record is not None:
                    record.route = route.template
                try:
                    if (method, route.template) not in types.ROUTE_PARAMS:
                        raise ApiError(500, f"the fake serves {method} {route.template} but knows no stripe "
                                       "params type for it: add it to tests/fake_stripe/params.py",
                                       type="api_error")
                    try:
                        versions.refuse_removed(method, route.template, params)
                        params = types.validate_request(method, route.template, params)
                    except ApiError as exc:
                        if record is not None:
                            record.validation_error = dict(exc.error)
                        raise
                    if record is not None:
                        record.validated = True
                    return 200, route.handler(params, *match.groups())
                except ApiError as exc:
                    return exc.status, _error_body(exc)
        return 404, _error_body(ApiError(404, f"Unrecognized request URL ({method}: {path}).",
                                         code="resource_missing"))


#: Stripe's 429 bodies (https://docs.stripe.com/rate-limits, https://docs.stripe.com/error-codes)
RATE_LIMIT_ERRORS = {
    "rate_limit": "Request rate limit exceeded. Learn more about rate limits here "
                  "https://docs.stripe.com/rate-limits.",
    "lock_timeout": "This object cannot be accessed right now because another API request or Stripe process is "
                    "currently accessing it. If you see this error intermittently, retry the request. If you see "
                    "this error frequently and are making multiple concurrent requests to a single object, make "
                    "your requests serially or at a lower rate.",
}


def rate_limit_error(code: str) -> ApiError:
    return ApiError(429, RATE_LIMIT_ERRORS[code], code=code,
                    doc_url=f"https://docs.stripe.com/error-codes/{code.replace('_', '-')}")


def _error_body(exc: ApiError) -> dict:
    return {"error": dict(exc.error)}


def route(method: str, path: str, handler) -> Route:
    """A route whose `{id}` parts capture one path segment each; its parameters are checked against
    the stripe library's params type for (method, path) in tests/fake_stripe/params.py."""
    pattern = re.compile(re.sub(r"\\\{\w+\\\}", r"([^/]+)", re.escape(path)))
    return Route(method, pattern, handler, path)
