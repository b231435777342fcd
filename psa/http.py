"""Pieces every service's HTTP layer uses: the caller, ETags and If-Match."""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import Depends, Header, Request, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from .auth import AuthError, Principal, verify_token
from .errors import DomainError, NotFoundError

_bearer = HTTPBearer(auto_error=False, description="A token from `psa token`")
POSITION_HEADER = "Settings-Position"
_STRONG_ETAG = re.compile(r'^"[0-9]{1,18}"$')


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
        Header(description='ETags of versions the change may be based on, e.g. "12"'),
    ] = None,
) -> frozenset[int] | None:
    """The versions a change may apply to; None when any version will do.

    If-Match compares strongly (RFC 9110 §13.1.1): a weak tag (`W/"12"`) never matches.
    """
    if if_match is None or if_match.strip() == "*":
        return None
    versions: set[int] = set()
    for tag in (part.strip() for part in if_match.split(",")):
        if tag.startswith("W/"):
            continue
        if not _STRONG_ETAG.match(tag):
            raise DomainError(
                f'If-Match takes ETags this API gave, like "12", not {if_match!r}', "If-Match"
            )
        versions.add(int(tag.strip('"')))
    return frozenset(versions)


IfMatch = Annotated[frozenset[int] | None, Depends(parse_if_match)]


def etag(version: int) -> str:
    return f'"{version}"'


def set_version_headers(response: Response, version: int, position: int | None = None) -> None:
    response.headers["ETag"] = etag(version)
    if position is not None:
        response.headers[POSITION_HEADER] = str(position)
