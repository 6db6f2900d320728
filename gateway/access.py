"""Who may pass the edge: a verified access token on every route but the
open ones (login, refresh, logout, JWKS), checked before any gRPC call.

The token is verified the way the services verify it (kit.auth, keys from
svc_user's JWKS, a verified token remembered until it expires); the
services check it again, with their roles, so the edge never decides more
than "is this a valid token of ours".
"""

from __future__ import annotations

from google.rpc import code_pb2

from clients.user.client import remote_verifier
from gateway import errors
from gateway.routes import Route
from gateway.upstream import Upstream
from kit import auth
from kit import errors as kit_errors


class EdgeAuth:
    def __init__(self, upstream: Upstream, *, leeway_seconds: float) -> None:
        self.verifier = remote_verifier(upstream.channels, leeway_seconds=leeway_seconds)

    async def check(self, route: Route, authorization: str | None) -> tuple[str | None, str | None]:
        """The token to forward and the rate-limit subject (tenant and user);
        an `EdgeError` 401 (or 503 when the keys cannot be fetched) otherwise."""
        token = None
        if authorization:
            try:
                token = auth.bearer({"authorization": authorization})
            except kit_errors.ServiceError as exc:
                raise errors.of_service_error(exc) from None
        if route.public:
            return token, None
        if token is None:
            raise errors.EdgeError(
                401,
                code_pb2.UNAUTHENTICATED,
                "this route needs an access token: Authorization: Bearer <accessToken> (POST /v1/auth:login)",
                "TOKEN_MISSING",
                headers=[("WWW-Authenticate", 'Bearer realm="stockmesh"')],
            )
        try:
            principal = await self.verifier.verify(token)
        except kit_errors.ServiceError as exc:
            refusal = errors.of_service_error(exc)
            if refusal.http_status == 401:
                refusal.headers.append(
                    ("WWW-Authenticate", 'Bearer realm="stockmesh", error="invalid_token"')
                )
            raise refusal from None
        return token, f"{principal.tenant_id}/{principal.user_id}"
