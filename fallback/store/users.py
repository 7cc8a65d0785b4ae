"""Reviewer accounts: scrypt password hashes and hashed API tokens."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from fallback.store import audit
from fallback.store.schema import User

ROLES = ("reviewer", "admin")
_N, _R, _P = 2**14, 8, 1


def hash_password(password: str) -> str:
    """``scrypt$N$r$p$salt$hash`` (stdlib scrypt; no plaintext anywhere)."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=_N, r=_R, p=_P, dklen=32)
    return f"scrypt${_N}${_R}${_P}${salt.hex()}${digest.hex()}"


def verify_password(password: str, stored: str) -> bool:
    try:
        _alg, n, r, p, salt, digest = stored.split("$")
        got = hashlib.scrypt(
            password.encode(), salt=bytes.fromhex(salt), n=int(n), r=int(r), p=int(p), dklen=32
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got.hex(), digest)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create(s: Session, username: str, password: str, role: str = "reviewer", *, actor: str = "cli") -> User:
    """Create an account; raise ValueError on a bad role, short password or taken name."""
    if role not in ROLES:
        raise ValueError(f"role must be one of {ROLES}")
    if len(password) < 8:
        raise ValueError("password must have at least 8 characters")
    if not username or len(username) > 64:
        raise ValueError("username must have 1-64 characters")
    if s.scalars(select(User).where(User.username == username)).first():
        raise ValueError(f"user {username!r} exists")
    u = User(username=username, password_hash=hash_password(password), role=role, active=True)
    s.add(u)
    s.flush()
    audit.record(s, actor, "create", "user", u.id, None, {"username": username, "role": role})
    return u


def issue_token(s: Session, username: str, *, actor: str = "cli") -> str:
    """Create (or replace) a user's API token; only its hash is stored."""
    u = s.scalars(select(User).where(User.username == username)).first()
    if u is None:
        raise ValueError(f"no user {username!r}")
    token = "bst_" + secrets.token_urlsafe(32)
    u.token_hash = token_hash(token)
    audit.record(s, actor, "issue_token", "user", u.id)
    return token


def authenticate(s: Session, username: str, password: str) -> User | None:
    u = s.scalars(select(User).where(User.username == username, User.active.is_(True))).first()
    if u is None:
        verify_password(password, hash_password("timing-equaliser"))
        return None
    return u if verify_password(password, u.password_hash) else None


def by_token(s: Session, token: str) -> User | None:
    if not token:
        return None
    return s.scalars(select(User).where(User.token_hash == token_hash(token), User.active.is_(True))).first()


def by_id(s: Session, user_id: int) -> User | None:
    u = s.get(User, user_id)
    return u if u is not None and u.active else None
