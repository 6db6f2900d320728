"""Translation between svc_user's protos and its domain values."""

from __future__ import annotations

from kit.errors import Violations
from kit.identity import Role
from kit.protos import resource_id, timestamp
from stockmesh.user.v1 import user_pb2
from svc_user.domain import Tenant, User
from svc_user.usecases.sessions import TokenPair
from svc_user.usecases.tenants import tenant_etag, tenant_name
from svc_user.usecases.users import user_etag, user_name

ROLE_TO_PROTO = {
    Role.ADMIN: user_pb2.ROLE_ADMIN,
    Role.MANAGER: user_pb2.ROLE_MANAGER,
    Role.CLERK: user_pb2.ROLE_CLERK,
    Role.BUYER: user_pb2.ROLE_BUYER,
    Role.VIEWER: user_pb2.ROLE_VIEWER,
}
PROTO_TO_ROLE = {v: k for k, v in ROLE_TO_PROTO.items()}


def roles(values: list[int] | tuple[int, ...], field: str) -> tuple[Role, ...]:
    violations = Violations()
    out = []
    for i, value in enumerate(values):
        role = PROTO_TO_ROLE.get(value)  # type: ignore[call-overload]
        if role is None:
            violations.add(f"{field}[{i}]", "not a known role")
        else:
            out.append(role)
    violations.raise_if_any()
    return tuple(out)


def role_filter(value: int) -> Role | None:
    if value == user_pb2.ROLE_UNSPECIFIED:
        return None
    return roles([value], "role")[0]


def user_id(name: str, field: str = "name") -> str:
    return resource_id(name, "users", field)


def user(value: User) -> user_pb2.User:
    return user_pb2.User(
        name=user_name(value.id),
        email=value.email,
        display_name=value.display_name,
        roles=[ROLE_TO_PROTO[r] for r in value.roles],
        disabled=value.disabled,
        tenant=tenant_name(value.tenant_id),
        create_time=timestamp(value.created_at),
        update_time=timestamp(value.updated_at),
        last_login_time=timestamp(value.last_login_at),
        etag=user_etag(value),
    )


def tenant(value: Tenant) -> user_pb2.Tenant:
    return user_pb2.Tenant(
        name=tenant_name(value.id),
        slug=value.slug,
        display_name=value.display_name,
        create_time=timestamp(value.created_at),
        update_time=timestamp(value.updated_at),
        etag=tenant_etag(value),
    )


def tokens(value: TokenPair) -> user_pb2.TokenPair:
    return user_pb2.TokenPair(
        access_token=value.access_token,
        access_token_expire_time=timestamp(value.access_expires_at),
        refresh_token=value.refresh_token,
        refresh_token_expire_time=timestamp(value.refresh_expires_at),
        token_type="Bearer",
    )
