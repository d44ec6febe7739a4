"""Integration credentials at rest: a MultiFernet token, never the secret itself.

Keys come from ``settings.INTEGRATION_ENCRYPTION_KEYS`` (comma-separated Fernet keys, kept apart from
``SECRET_KEY``). The first key encrypts; every key decrypts, so rotating is: put a new key first, keep the
old one after it, run ``manage.py rotate_integration_keys`` (which re-encrypts every token with the first
key), then drop the old key.

In DEBUG with no key configured a fixed development key is derived, with a warning: credentials stored
that way are readable by anyone with the source code. With DEBUG off the settings refuse to start
without a key.

Nothing here puts a credential or a token into an exception message or a log line.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings

logger = logging.getLogger(__name__)

_DEVELOPMENT_KEY_SEED = b"okrsignal development-only integration encryption key"
_warned_about_development_key = False


class CredentialsUnreadable(RuntimeError):
    """A stored token cannot be decrypted with any configured key (the key that wrote it was dropped)."""


def development_key() -> str:
    """The key used in DEBUG when none is configured: derived from a fixed seed, the same everywhere."""
    return base64.urlsafe_b64encode(hashlib.sha256(_DEVELOPMENT_KEY_SEED).digest()).decode()


def configured_keys() -> list[str]:
    """The keys in force, the encrypting one first."""
    global _warned_about_development_key
    keys = [key for key in getattr(settings, "INTEGRATION_ENCRYPTION_KEYS", []) if key]
    if keys:
        return keys
    # Only reachable in DEBUG: with DEBUG off the settings refuse to start without a key.
    if not _warned_about_development_key:
        logger.warning(
            "INTEGRATION_ENCRYPTION_KEYS is not set: integration credentials are encrypted with a development"
            " key derived from a fixed seed. Set INTEGRATION_ENCRYPTION_KEYS before storing real credentials."
        )
        _warned_about_development_key = True
    return [development_key()]


@lru_cache(maxsize=4)
def _cipher_for(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(key) for key in keys])


def cipher() -> MultiFernet:
    return _cipher_for(tuple(configured_keys()))


def encrypt_credentials(credentials: Mapping[str, Any]) -> str:
    """A token holding ``credentials`` (a JSON object), encrypted with the first key."""
    plain = json.dumps(dict(credentials), sort_keys=True, separators=(",", ":")).encode()
    return cipher().encrypt(plain).decode()


def decrypt_credentials(token: str) -> dict[str, Any]:
    """The credentials a token holds; ``{}`` for an empty token."""
    if not token:
        return {}
    try:
        plain = cipher().decrypt(token.encode())
    except InvalidToken:
        raise CredentialsUnreadable(
            "Stored integration credentials cannot be decrypted with any key in INTEGRATION_ENCRYPTION_KEYS;"
            " the key that encrypted them may have been removed."
        ) from None
    value = json.loads(plain)
    if not isinstance(value, dict):
        raise CredentialsUnreadable("Stored integration credentials are not a JSON object.")
    return value


def rotate_token(token: str) -> str:
    """The same credentials, re-encrypted with the first key (``MultiFernet.rotate``)."""
    if not token:
        return token
    try:
        return cipher().rotate(token.encode()).decode()
    except InvalidToken:
        raise CredentialsUnreadable(
            "Stored integration credentials cannot be decrypted with any key in INTEGRATION_ENCRYPTION_KEYS;"
            " keep the old key in the list until rotation has finished."
        ) from None
