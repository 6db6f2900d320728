"""The gateway as an ASGI application: every route of the table, plus
`/openapi.json`, `/docs`, `/healthz` and the operator console at `/console`.

One handler serves every RPC; what differs per route (the template, body,
method, service) is data from the descriptors. The order of one request is
fixed: request id and span, route, token, rate limit, body, request message,
call (cancelled if the client goes away), response or error, record.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import grpc
from google.rpc import code_pb2
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.types import Receive, Scope, Send

from gateway import console, docs, errors, exchange, observe, openapi, streams, transcode
from gateway.access import EdgeAuth
from gateway.ratelimit import Policy, RateLimiter
from gateway.routes import RouteTable
from gateway.settings import GatewaySettings
from gateway.upstream import Upstream
from kit import context

log = logging.getLogger("gateway")

METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]


class Gateway:
    """The handler behind every route, with what it shares across requests."""

    def __init__(self, settings: GatewaySettings, table: RouteTable) -> None:
        self.settings = settings
        self.table = table
        self.upstream = Upstream(settings)
        self.open_streams = streams.OpenStreams()
        self.auth = EdgeAuth(self.upstream, leeway_seconds=settings.token_leeway_seconds)
        self.limiter = RateLimiter(
            settings.redis_url,
            settings.redis_prefix,
            subject_policy=Policy(settings.subject_rate, settings.subject_burst, "user"),
            address_policy=Policy(settings.address_rate, settings.address_burst, "address"),
        )

    async def close(self) -> None:
        await self.limiter.close()
        await self.upstream.close()

    async def handle(self, request: Request) -> Response:
        started = time.perf_counter()
        method = request.method
        request_id = exchange.request_id(request.headers.get("x-request-id"))
        context.request_id.set(request_id)
        client = request.client.host if request.client else ""
        reason = ""
        with observe.span(method, observe.UNMATCHED, request.headers) as span:
            try:
                response = await self._serve(request, request_id, client, span)
            except (errors.EdgeError, grpc.RpcError) as exc:
                refused = exc if isinstance(exc, errors.EdgeError) else errors.refused_by_service(exc)
                response = _error_response(refused.http_status, refused.status, refused.headers)
                reason = errors.reason_of(refused.status)
            except Exception:
                # A fault of ours: logged with its traceback, answered without it.
                log.exception("unhandled exception serving %s %s", method, request.url.path)
                sent = errors.status(code_pb2.INTERNAL, "internal error", "INTERNAL")
                response = _error_response(500, sent, [])
                reason = "INTERNAL"
            route_name = str(request.scope.get("stockmesh.route", observe.UNMATCHED))
            response.headers["X-Request-Id"] = request_id
            observe.finish(
                span,
                method=method,
                route=route_name,
                status=response.status_code,
                started=started,
                client=client,
                reason=reason,
            )
        return response

    async def _serve(self, request: Request, request_id: str, client: str, span: Any) -> Response:
        raw_path = exchange.raw_path(request)
        found = self.table.match(request.method, raw_path)
        if found is None:
            allowed = self.table.allowed_methods(raw_path)
            if allowed:
                raise errors.method_not_allowed(request.method, allowed)
            raise errors.EdgeError(
                404, code_pb2.NOT_FOUND, f"no route for {request.url.path}", "ROUTE_NOT_FOUND"
            )
        route = found.value
        request.scope["stockmesh.route"] = route.template.text
        span.set_attribute("rpc.method", route.grpc_path)
        try:
            token, subject = await self.auth.check(route, request.headers.get("authorization"))
        except errors.EdgeError:
            # A refused token still spends its address's token: guessing
            # tokens is limited like any other traffic.
            await self._limit(None, client)
            raise
        limit_headers = await self._limit(subject, client)
        body = await exchange.read_body(request, self.settings.max_body_bytes)
        message = transcode.request_message(
            route,
            found.bindings,
            list(request.query_params.multi_items()),
            body,
            request.headers.get("content-type"),
        )
        transcode.fill_request_id(message, request.headers.get("idempotency-key"))
        transcode.fill_etag(route, message, request.headers.get("if-match"))
        metadata = [("x-request-id", request_id)]
        canary = request.headers.get(context.CANARY_HEADER)
        if canary:
            metadata.append((context.CANARY_HEADER, canary))
        if token:
            metadata.append(("authorization", f"Bearer {token}"))
        if route.streaming:
            streams.resume_from(message, request.headers.get("last-event-id"))
            stream = self.upstream.stream(route)(
                message, metadata=metadata, timeout=self.settings.stream_max_seconds
            )
            refusal = await streams.open_stream(stream)
            if refusal is not None:
                raise refusal
            return streams.response(
                stream,
                events=streams.wants_events(request.headers.get("accept")),
                route=route.template.text,
                headers=dict(limit_headers),
                open_streams=self.open_streams,
            )
        timeout = self.upstream.timeout(request.headers.get("grpc-timeout"))
        call = self.upstream.unary(route)(message, metadata=metadata, timeout=timeout)
        reply = await exchange.unless_disconnected(request, call)
        content, etag = transcode.response_json(route, reply)
        headers = dict(limit_headers)
        if etag:
            headers["ETag"] = f'"{etag}"'
            if (
                request.method == "GET"
                and transcode.parse_if_match(request.headers.get("if-none-match")) == etag
            ):
                return Response(status_code=304, headers=headers)
        return Response(content, 200, headers, media_type="application/json")

    async def _limit(self, subject: str | None, client: str) -> list[tuple[str, str]]:
        """Take the request's tokens; the RateLimit headers, or a 429."""
        decision, policy = await self.limiter.check(subject, client)
        limit_headers = decision.headers(policy)
        if not decision.allowed:
            raise errors.EdgeError(
                429,
                code_pb2.RESOURCE_EXHAUSTED,
                f"rate limit of {policy.name} exceeded; retry after {limit_headers[-1][1]} s",
                "RATE_LIMITED",
                headers=limit_headers,
            )
        return limit_headers


def _error_response(status_code: int, sent: Any, headers: list[tuple[str, str]]) -> Response:
    return Response(errors.body(sent), status_code, dict(headers), media_type="application/json")


def create_app(settings: GatewaySettings, table: RouteTable | None = None) -> Starlette:
    """The ASGI application; the route table is built (and checked) here, so a
    contract with ambiguous rules fails at start-up."""
    table = table or RouteTable.load(settings.descriptors)
    document = openapi.document(table)
    # gRPC channels belong to the event loop they are opened on: the
    # gateway is built when the server's loop starts, not at import.
    running: list[Gateway] = []

    async def handle(scope: Scope, receive: Receive, send: Send) -> None:
        # Every path the pages below do not take comes here, whatever its
        # characters: the route table decides, not a path regex.
        if scope["type"] != "http":
            return
        response = await running[0].handle(Request(scope, receive))
        await response(scope, receive, send)

    async def healthz(request: Request) -> Response:
        return JSONResponse({"status": "SERVING", "routes": len(table.routes)})

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        running.append(Gateway(settings, table))
        app.state.gateway = running[0]
        try:
            yield
        finally:
            await running.pop().close()

    # The pages are matched before the route table, so they need no token and take no rate limit.
    routes: list[BaseRoute] = [
        Route("/healthz", healthz, methods=["GET"]),
        *docs.routes(document),
        *console.routes(settings.console_dir),
    ]
    middleware = [Middleware(GZipMiddleware, minimum_size=1024)]
    if settings.cors_origins:
        middleware.insert(
            0,
            Middleware(
                CORSMiddleware,
                allow_origins=list(settings.cors_origins),
                allow_methods=METHODS,
                allow_headers=[
                    "authorization",
                    "content-type",
                    "idempotency-key",
                    "if-match",
                    "if-none-match",
                    "x-request-id",
                    "last-event-id",
                    "grpc-timeout",
                    context.CANARY_HEADER,
                ],
                expose_headers=["etag", "x-request-id", "retry-after", "ratelimit", "ratelimit-policy"],
                max_age=600,
            ),
        )
    app = Starlette(routes=routes, middleware=middleware, lifespan=lifespan)
    app.router.default = handle
    app.state.document = document
    return app
