"""Pieces every service's HTTP layer uses: the caller, ETags and If-Match."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Request, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from .auth import AuthError, Principal, verify_token
from .errors import DomainError, NotFoundError

_bearer = HTTPBearer(auto_error=False, description="A token from `psa token`")
POSITION_HEADER = "Settings-Position"


def current_principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    if credentials is None:
        raise AuthError("a bearer token is required: get one with `psa token`")
    secret: str = request.app.state.jwt_secret
    return verify_token(secret, credentials.credentials)


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


def tenant_member(principal: CurrentPrincipal) -> Principal:
    """A caller who belongs to a tenant (not an operator token)."""
    if principal.tenant is None:
        raise NotFoundError("this token belongs to no tenant")
    return principal


TenantPrincipal = Annotated[Principal, Depends(tenant_member)]


def parse_if_match(
    if_match: Annotated[
        str | None,
        Header(description='The ETag of the version the change is based on, e.g. "12"'),
    ] = None,
) -> int | None:
    if if_match is None or if_match.strip() == "*":
        return None
    value = if_match.strip()
    if value.startswith("W/"):
        value = value[2:]
    value = value.strip('"')
    try:
        return int(value)
    except ValueError:
        raise DomainError(
            f'If-Match must be an ETag this API gave, like "12", not {if_match!r}', "If-Match"
        ) from None


IfMatch = Annotated[int | None, Depends(parse_if_match)]


def etag(version: int) -> str:
    return f'"{version}"'


def set_version_headers(response: Response, version: int, position: int | None = None) -> None:
    response.headers["ETag"] = etag(version)
    if position is not None:
        response.headers[POSITION_HEADER] = str(position)
