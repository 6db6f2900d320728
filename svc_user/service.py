"""svc_user's gRPC servicers: proto in, command to a use case, proto out.

Errors are raised, never set on the context: the call pipeline maps them.
"""

from __future__ import annotations

from kit import auth, protos
from kit.auth import Role
from kit.rpc import Context
from stockmesh.user.v1 import user_pb2, user_pb2_grpc
from svc_user import commands, convert
from svc_user.usecases.keys import KeyRing
from svc_user.usecases.sessions import Sessions
from svc_user.usecases.tenants import Tenancy
from svc_user.usecases.users import UserAccounts

USER = "stockmesh.user.v1.UserService"
TENANT = "stockmesh.user.v1.TenantService"
AUTH = "stockmesh.user.v1.AuthService"

ADMIN = auth.roles(Role.ADMIN)
MANAGERS = auth.roles(Role.MANAGER)

RULES: dict[str, auth.Rule] = {
    f"/{AUTH}/Login": auth.PUBLIC,
    f"/{AUTH}/RefreshToken": auth.PUBLIC,
    f"/{AUTH}/Logout": auth.PUBLIC,
    f"/{AUTH}/GetJwks": auth.PUBLIC,
    f"/{USER}/GetCurrentUser": auth.ANY_USER,
    f"/{USER}/ChangePassword": auth.ANY_USER,
    f"/{USER}/CreateUser": ADMIN,
    f"/{USER}/GetUser": auth.ANY_USER,  # others than oneself: managers (in the use case)
    f"/{USER}/ListUsers": MANAGERS,
    f"/{USER}/UpdateUser": ADMIN,
    f"/{USER}/ResetPassword": ADMIN,
    f"/{TENANT}/GetTenant": auth.ANY_USER,
    f"/{TENANT}/UpdateTenant": ADMIN,
}


class AuthServicer(user_pb2_grpc.AuthServiceServicer):
    def __init__(self, sessions: Sessions, keys: KeyRing) -> None:
        self.sessions = sessions
        self.keys = keys

    async def Login(self, request: user_pb2.LoginRequest, context: Context) -> user_pb2.LoginResponse:
        cmd = commands.Login(tenant=request.tenant, email=request.email, password=request.password)
        result = await self.sessions.login(request.request_id, cmd)
        return user_pb2.LoginResponse(tokens=convert.tokens(result.tokens), user=convert.user(result.user))

    async def RefreshToken(
        self, request: user_pb2.RefreshTokenRequest, context: Context
    ) -> user_pb2.RefreshTokenResponse:
        tokens = await self.sessions.refresh(request.request_id, request.refresh_token)
        return user_pb2.RefreshTokenResponse(tokens=convert.tokens(tokens))

    async def Logout(self, request: user_pb2.LogoutRequest, context: Context) -> user_pb2.LogoutResponse:
        await self.sessions.logout(request.request_id, request.refresh_token)
        return user_pb2.LogoutResponse()

    async def GetJwks(self, request: user_pb2.GetJwksRequest, context: Context) -> user_pb2.GetJwksResponse:
        keys = await self.keys.jwks()
        return user_pb2.GetJwksResponse(keys=[user_pb2.Jwk(**key) for key in keys])


class UserServicer(user_pb2_grpc.UserServiceServicer):
    def __init__(self, accounts: UserAccounts) -> None:
        self.accounts = accounts

    async def GetCurrentUser(
        self, request: user_pb2.GetCurrentUserRequest, context: Context
    ) -> user_pb2.GetCurrentUserResponse:
        user = await self.accounts.current_user(auth.principal())
        return user_pb2.GetCurrentUserResponse(user=convert.user(user))

    async def ChangePassword(
        self, request: user_pb2.ChangePasswordRequest, context: Context
    ) -> user_pb2.ChangePasswordResponse:
        cmd = commands.ChangePassword(request.current_password, request.new_password)
        await self.accounts.change_password(auth.principal(), request.request_id, cmd)
        return user_pb2.ChangePasswordResponse()

    async def CreateUser(
        self, request: user_pb2.CreateUserRequest, context: Context
    ) -> user_pb2.CreateUserResponse:
        cmd = commands.CreateUser(
            email=request.user.email,
            display_name=request.user.display_name,
            roles=convert.roles(list(request.user.roles), "user.roles"),
            password=request.user.password,
        )
        user = await self.accounts.create_user(auth.principal(), request.request_id, cmd)
        return user_pb2.CreateUserResponse(user=convert.user(user))

    async def GetUser(self, request: user_pb2.GetUserRequest, context: Context) -> user_pb2.GetUserResponse:
        user = await self.accounts.get_user(auth.principal(), convert.user_id(request.name))
        return user_pb2.GetUserResponse(user=convert.user(user))

    async def ListUsers(
        self, request: user_pb2.ListUsersRequest, context: Context
    ) -> user_pb2.ListUsersResponse:
        query = commands.ListUsers(
            page_size=request.page_size,
            page_token=request.page_token,
            role=convert.role_filter(request.role),
            show_disabled=request.show_disabled,
        )
        page = await self.accounts.list_users(auth.principal(), query)
        return user_pb2.ListUsersResponse(
            users=[convert.user(u) for u in page.items], next_page_token=page.next_page_token
        )

    async def UpdateUser(
        self, request: user_pb2.UpdateUserRequest, context: Context
    ) -> user_pb2.UpdateUserResponse:
        paths = protos.update_paths(list(request.update_mask.paths), {"display_name", "roles", "disabled"})
        cmd = commands.UpdateUser(
            user_id=convert.user_id(request.user.name, "user.name"),
            etag=request.user.etag,
            display_name=request.user.display_name if "display_name" in paths else None,
            roles=convert.roles(list(request.user.roles), "user.roles") if "roles" in paths else None,
            disabled=request.user.disabled if "disabled" in paths else None,
        )
        user = await self.accounts.update_user(auth.principal(), request.request_id, cmd)
        return user_pb2.UpdateUserResponse(user=convert.user(user))

    async def ResetPassword(
        self, request: user_pb2.ResetPasswordRequest, context: Context
    ) -> user_pb2.ResetPasswordResponse:
        cmd = commands.ResetPassword(convert.user_id(request.name), request.new_password)
        await self.accounts.reset_password(auth.principal(), request.request_id, cmd)
        return user_pb2.ResetPasswordResponse()


class TenantServicer(user_pb2_grpc.TenantServiceServicer):
    def __init__(self, tenancy: Tenancy) -> None:
        self.tenancy = tenancy

    async def GetTenant(
        self, request: user_pb2.GetTenantRequest, context: Context
    ) -> user_pb2.GetTenantResponse:
        tenant = await self.tenancy.get_tenant(auth.principal())
        return user_pb2.GetTenantResponse(tenant=convert.tenant(tenant))

    async def UpdateTenant(
        self, request: user_pb2.UpdateTenantRequest, context: Context
    ) -> user_pb2.UpdateTenantResponse:
        paths = protos.update_paths(list(request.update_mask.paths), {"display_name"})
        cmd = commands.UpdateTenant(
            etag=request.tenant.etag,
            display_name=request.tenant.display_name if "display_name" in paths else None,
        )
        tenant = await self.tenancy.update_tenant(auth.principal(), request.request_id, cmd)
        return user_pb2.UpdateTenantResponse(tenant=convert.tenant(tenant))
