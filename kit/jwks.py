"""Token verification for services other than svc_user: the keys come from
svc_user's GetJwks over mTLS, cached and refetched on an unknown `kid`."""

from __future__ import annotations

from collections.abc import Sequence

import grpc
from google.protobuf.json_format import MessageToDict

from kit import auth, errors
from kit.clients import Channels
from kit.settings import Settings
from stockmesh.user.v1 import user_pb2, user_pb2_grpc


def remote_verifier(settings: Settings, channels: Channels) -> auth.TokenVerifier:
    stub = user_pb2_grpc.AuthServiceStub(channels.get("user"))

    async def fetch() -> Sequence[auth.Jwk]:
        try:
            response = await stub.GetJwks(user_pb2.GetJwksRequest(), timeout=settings.call_timeout_seconds)
        except grpc.RpcError as exc:
            raise errors.Unavailable(f"svc_user unreachable for JWKS: {exc.code()}") from exc
        return [MessageToDict(key, preserving_proto_field_name=True) for key in response.keys]

    return auth.TokenVerifier(auth.KeySet(fetch), leeway_seconds=int(settings.token_leeway_seconds))
