"""Token verification for services other than svc_user: the keys come from
svc_user's GetJwks over mTLS, cached and refetched on an unknown `kid`."""

from __future__ import annotations

from collections.abc import Sequence

import grpc
from google.protobuf.json_format import MessageToDict

from kit import auth, errors
from kit.clients import Channels
from stockmesh.user.v1 import user_pb2, user_pb2_grpc


def remote_verifier(channels: Channels, *, leeway_seconds: float) -> auth.TokenVerifier:
    stub = user_pb2_grpc.AuthServiceStub(channels.get("user"))
    timeout = channels.settings.call_timeout_seconds

    async def fetch() -> Sequence[auth.Jwk]:
        try:
            response = await stub.GetJwks(user_pb2.GetJwksRequest(), timeout=timeout)
        except grpc.RpcError as exc:
            raise errors.Unavailable(f"svc_user unreachable for JWKS: {exc.code()}") from exc
        return [MessageToDict(key, preserving_proto_field_name=True) for key in response.keys]

    return auth.TokenVerifier(auth.KeySet(fetch), leeway_seconds=int(leeway_seconds))
