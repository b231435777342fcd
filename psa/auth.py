"""Signed bearer tokens (JWT, HS256) and the principal they carry."""

from __future__ import annotations

import os
import secrets
import time
from dataclasses import dataclass, field
from pathlib import Path
from uuid import UUID

import jwt

from .config import Config

ISSUER = "psa"
AUDIENCE = "psa-api"
ALGORITHM = "HS256"


class AuthError(Exception):
    """The token is missing, malformed, expired or not signed by us."""


@dataclass(frozen=True)
class Principal:
    """Who calls: the token's user, tenant, companies and roles."""

    sub: str
    name: str
    tenant: UUID | None
    company: str | None
    companies: tuple[str, ...] = field(default_factory=tuple)
    roles: tuple[str, ...] = field(default_factory=tuple)

    @property
    def is_operator(self) -> bool:
        return "operator" in self.roles

    @property
    def is_admin(self) -> bool:
        return "admin" in self.roles


def load_secret(config: Config) -> str:
    """The configured secret, or one generated once into the data dir (embedded mode)."""
    if config.jwt_secret is not None and config.jwt_secret.get_secret_value():
        return config.jwt_secret.get_secret_value()
    path = Path(config.data_dir) / "jwt-secret"
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, value.encode())
    except BaseException:
        os.close(fd)
        raise
    os.close(fd)
    return value


def mint_token(
    secret: str,
    *,
    sub: str,
    name: str,
    tenant: UUID | str | None,
    company: str | None = None,
    companies: list[str] | tuple[str, ...] = (),
    roles: list[str] | tuple[str, ...] = (),
    ttl_hours: float = 12.0,
) -> str:
    now = int(time.time())
    claims = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "iat": now,
        "exp": now + int(ttl_hours * 3600),
        "sub": sub,
        "name": name,
        "tenant": str(tenant) if tenant else None,
        "company": company,
        "companies": list(companies),
        "roles": list(roles),
    }
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def verify_token(secret: str, token: str) -> Principal:
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=[ALGORITHM],
            audience=AUDIENCE,
            issuer=ISSUER,
            options={"require": ["exp", "sub", "iss", "aud"]},
        )
    except jwt.ExpiredSignatureError:
        raise AuthError("the token has expired: get a new one with `psa token`") from None
    except jwt.PyJWTError as error:
        raise AuthError(f"the token is not valid: {error}") from None
    try:
        tenant = UUID(claims["tenant"]) if claims.get("tenant") else None
        return Principal(
            sub=str(claims["sub"]),
            name=str(claims.get("name") or claims["sub"]),
            tenant=tenant,
            company=claims.get("company"),
            companies=tuple(str(c) for c in claims.get("companies") or ()),
            roles=tuple(str(r) for r in claims.get("roles") or ()),
        )
    except (ValueError, TypeError):
        raise AuthError("the token's claims are malformed") from None
