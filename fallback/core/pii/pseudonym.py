"""Keyed pseudonyms for the ids a bot sends (user, conversation): stable, not reversible without the key."""

from __future__ import annotations

import hashlib
import hmac
from typing import Final

PREFIX: Final = "h:"
_HEX_CHARS: Final = 32  # 128 bits: no collision in any realistic event log, fits String(128) columns


def pseudonymize(value: str, key: str | bytes) -> str:
    """HMAC-SHA256 of ``value`` under ``key``, as ``"h:" + 32 hex digits``.

    The same value and key give the same pseudonym in every process and after restarts, so
    idempotency keys and per-user counts keep working; without the key a pseudonym cannot be
    linked back to a phone number used as a user id. Any string is accepted (NUL, lone surrogates).

    Args:
        value: A user or conversation id as the bot sent it.
        key: The secret (``settings.auth.pseudonym_key``).

    Returns:
        The pseudonym.

    Examples:
        >>> pseudonymize("13812345678", "k")[:2]
        'h:'
    """
    secret = key.encode("utf-8") if isinstance(key, str) else key
    digest = hmac.new(secret, value.encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()
    return PREFIX + digest[:_HEX_CHARS]
