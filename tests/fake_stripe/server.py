"""The HTTP side of the fake Stripe: a threaded server on 127.0.0.1, form decoding, auth, idempotency, routes."""
from __future__ import annotations

import json
import re
import secrets
import threading
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit


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
    if converted and all(key.isdigit() for key in converted):
        return [converted[key] for key in sorted(converted, key=int)]
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
    allowed: frozenset[str] | None = None  #: top-level parameters this endpoint accepts (None: any)


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

    def reset(self) -> None:
        self.requests.clear()
        self.idempotency_keys.clear()
        self.saved.clear()
        self.lose_responses = 0


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

    def lose_next_responses(self, count: int = 1) -> None:
        """Carry out the next `count` API requests but drop their responses, as a flaky network would."""
        self.http.lose_responses = count

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
            status, payload, extra = self._answer(method, path, params, headers, key, early, record)
            record.status = status
            if self.http.lose_responses > 0:
                self.http.lose_responses -= 1
                return None
            return status, payload, {"Request-Id": "req_" + secrets.token_hex(7), **extra}

    def _answer(self, method, path, params, headers, key, early, record):
        auth = headers.get("authorization", "")
        if not auth.startswith("Bearer ") or not auth.removeprefix("Bearer ").strip():
            return 401, _error_body(ApiError(401, "You did not provide an API key. Provide it in the "
                                             "Authorization header as a Bearer token.")), {}
        if auth.removeprefix("Bearer ").strip() != self.http.api_key:
            return 401, _error_body(ApiError(401, "Invalid API Key provided.", code="api_key_invalid")), {}
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
        status, payload = self._route(method, path, params)
        if method == "POST" and key and (status == 200 or status == 402):
            self.http.saved[key] = _Saved(method, path, params, status, payload)
        return status, payload, {}

    def _route(self, method: str, path: str, params: dict) -> tuple[int, dict]:
        for route in self.routes:
            match = route.pattern.fullmatch(path)
            if route.method == method and match:
                try:
                    if route.allowed is not None:
                        for name in params:
                            if name not in route.allowed:
                                raise invalid(f"Received unknown parameter: {name}", param=name,
                                              code="parameter_unknown")
                    return 200, route.handler(params, *match.groups())
                except ApiError as exc:
                    return exc.status, _error_body(exc)
        return 404, _error_body(ApiError(404, f"Unrecognized request URL ({method}: {path}).",
                                         code="resource_missing"))


def _error_body(exc: ApiError) -> dict:
    return {"error": dict(exc.error)}


def route(method: str, path: str, handler, allowed: set[str] | None = None) -> Route:
    """A route whose `{id}` parts capture one path segment each."""
    pattern = re.compile(re.sub(r"\\\{\w+\\\}", r"([^/]+)", re.escape(path)))
    return Route(method, pattern, handler, frozenset(allowed | {"expand"}) if allowed is not None else None)
