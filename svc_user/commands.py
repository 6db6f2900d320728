"""What callers ask svc_user to do, as plain values; the use cases take these."""

from __future__ import annotations

from dataclasses import dataclass

from kit.identity import Role


@dataclass(frozen=True)
class Login:
    tenant: str  # slug
    email: str
    password: str


@dataclass(frozen=True)
class CreateUser:
    email: str
    display_name: str
    roles: tuple[Role, ...]
    password: str


@dataclass(frozen=True)
class UpdateUser:
    user_id: str
    etag: str
    display_name: str | None = None
    roles: tuple[Role, ...] | None = None
    disabled: bool | None = None


@dataclass(frozen=True)
class ChangePassword:
    current_password: str
    new_password: str


@dataclass(frozen=True)
class ResetPassword:
    user_id: str
    new_password: str


@dataclass(frozen=True)
class UpdateTenant:
    etag: str
    display_name: str | None = None


@dataclass(frozen=True)
class ListUsers:
    page_size: int
    page_token: str
    role: Role | None
    show_disabled: bool


@dataclass(frozen=True)
class CreateTenant:
    slug: str
    display_name: str
    admin_email: str
    admin_password: str
    admin_display_name: str = ""
