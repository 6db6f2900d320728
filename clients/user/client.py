"""Token verification for every process but svc_user: the keys come from
svc_user's GetJwks over mTLS, cached and refetched on an unknown `kid`
(kit.auth.KeySet). A failed fetch arrives as a kit error (kit.neighbours);
the key set keeps its cached keys, or refuses with JWKS_UNAVAILABLE."""

from __future__ import annotations

from collections.abc import Sequence

from google.protobuf.json_format import MessageToDict

from kit import auth
from kit.clients import Channels
from stockmesh.user.v1 import user_pb2, user_pb2_grpc


def remote_verifier(channels: Channels, *, leeway_seconds: float) -> auth.TokenVerifier:
    stub = user_pb2_grpc.AuthServiceStub(channels.get("user"))

    async def fetch() -> Sequence[auth.Jwk]:
        response = await stub.GetJwks(user_pb2.GetJwksRequest())
        return [MessageToDict(key, preserving_proto_field_name=True) for key in response.keys]

    return auth.TokenVerifier(auth.KeySet(fetch), leeway_seconds=int(leeway_seconds))
