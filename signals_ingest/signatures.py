"""Checking that a webhook call really comes from Jira, Slack or HubSpot.

Every check works on the raw body bytes exactly as they arrived, before anything parses them: parsing and
re-serialising JSON changes whitespace and key order, and the vendors sign the bytes they sent. Each
function either returns a ``VerifiedRequest`` or raises ``SignatureInvalid`` with a reason fit for a log
line (never the secret, never the body). The webhook view answers 401 on ``SignatureInvalid`` and stores
nothing.

Comparisons are constant-time (``hmac.compare_digest``). ``now`` is a parameter so tests can pin the clock;
callers leave it out.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

# Slack and HubSpot both refuse requests whose timestamp is more than five minutes from now, so a captured
# request cannot be replayed later. The same window applies in both directions: a timestamp far in the
# future is as suspect as an old one.
SIGNATURE_MAX_AGE_SECONDS = 300

JIRA_SIGNATURE_HEADER = "X-Hub-Signature"
SLACK_SIGNATURE_HEADER = "X-Slack-Signature"
SLACK_TIMESTAMP_HEADER = "X-Slack-Request-Timestamp"
HUBSPOT_SIGNATURE_HEADER = "X-HubSpot-Signature-v3"
HUBSPOT_TIMESTAMP_HEADER = "X-HubSpot-Request-Timestamp"

# HubSpot signs the URI with these percent-escapes decoded, and only these: any other escape (a space as
# %20, for instance) stays as it is. (HubSpot, "Validating requests", v3 signature.)
_HUBSPOT_DECODED_ESCAPES = {
    "%3A": ":",
    "%2F": "/",
    "%3F": "?",
    "%40": "@",
    "%21": "!",
    "%24": "$",
    "%27": "'",
    "%28": "(",
    "%29": ")",
    "%2A": "*",
    "%2C": ",",
    "%3B": ";",
}
_HUBSPOT_ESCAPE_PATTERN = re.compile("|".join(_HUBSPOT_DECODED_ESCAPES), flags=re.IGNORECASE)


class SignatureInvalid(Exception):
    """The request is not proven to come from the vendor; ``reason`` says why, without any secret."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class VerifiedRequest:
    """What a successful check established.

    ``signed`` is False only for a Jira webhook that has no secret configured: then nothing in the request
    itself proves its origin, and the unguessable token in the webhook URL is the only authentication.
    ``sent_at`` is the vendor's signed timestamp (Slack, HubSpot), or None where the scheme has none.
    """

    provider: str
    signed: bool
    sent_at: datetime | None = None


def _header(headers: Mapping[str, str], name: str) -> str | None:
    """Look a header up without regard to case (Django's ``request.headers`` does this already; a plain
    dict from a test or a replay does not)."""
    value = headers.get(name)
    if value is None:
        lowered = name.lower()
        for key, candidate in headers.items():
            if key.lower() == lowered:
                value = candidate
                break
    if value is None:
        return None
    value = value.strip()
    return value or None


def _hmac_sha256(secret: str, message: bytes) -> bytes:
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).digest()


def _same(expected: str, received: str) -> bool:
    """Constant-time comparison that also copes with a header holding non-ASCII characters."""
    return hmac.compare_digest(expected.encode("utf-8"), received.encode("utf-8"))


def _is_unsigned_integer(value: str) -> bool:
    return value.isascii() and value.isdigit()


def _check_freshness(sent_at_seconds: float, now: float, header: str) -> None:
    age = now - sent_at_seconds
    if age > SIGNATURE_MAX_AGE_SECONDS:
        raise SignatureInvalid(
            f"{header} is {age:.0f} s old; requests older than {SIGNATURE_MAX_AGE_SECONDS} s are refused "
            "so that a captured request cannot be replayed."
        )
    if -age > SIGNATURE_MAX_AGE_SECONDS:
        raise SignatureInvalid(
            f"{header} is {-age:.0f} s in the future; more than {SIGNATURE_MAX_AGE_SECONDS} s of clock "
            "difference is refused."
        )


# --- Jira ---------------------------------------------------------------------------------------------


def jira_signature(secret: str, body: bytes) -> str:
    """The ``X-Hub-Signature`` value Jira sends for ``body`` when the webhook has ``secret``."""
    return "sha256=" + _hmac_sha256(secret, body).hex()


def verify_jira_signature(*, body: bytes, headers: Mapping[str, str], secret: str | None) -> VerifiedRequest:
    """Check a Jira Cloud admin webhook: ``X-Hub-Signature: sha256=<hex HMAC-SHA256 of the raw body>``.

    With no secret configured Jira signs nothing, and this returns ``signed=False`` without looking at the
    headers. The caller must then have authenticated the call by the unguessable token in the webhook URL
    alone (compared in constant time when the organisation is looked up), and should show the admin that
    setting a secret adds a second proof.
    """
    if not secret:
        return VerifiedRequest(provider="jira", signed=False)
    header = _header(headers, JIRA_SIGNATURE_HEADER)
    if header is None:
        raise SignatureInvalid(
            f"{JIRA_SIGNATURE_HEADER} is missing, but this webhook has a secret, so Jira signs every call."
        )
    method, _, signature = header.partition("=")
    if method.strip().lower() != "sha256" or not signature:
        raise SignatureInvalid(f"{JIRA_SIGNATURE_HEADER} is not of the form sha256=<hex>.")
    if not _same(jira_signature(secret, body), "sha256=" + signature.strip().lower()):
        raise SignatureInvalid(f"{JIRA_SIGNATURE_HEADER} does not match the body and the webhook secret.")
    return VerifiedRequest(provider="jira", signed=True)


# --- Slack --------------------------------------------------------------------------------------------


def slack_signature(signing_secret: str, timestamp: str | int, body: bytes) -> str:
    """The ``X-Slack-Signature`` value Slack sends: v0, HMAC-SHA256 of ``v0:{timestamp}:{body}``."""
    basestring = b"v0:" + str(timestamp).encode("ascii") + b":" + body
    return "v0=" + _hmac_sha256(signing_secret, basestring).hex()


def verify_slack_signature(
    *, body: bytes, headers: Mapping[str, str], signing_secret: str, now: float | None = None
) -> VerifiedRequest:
    """Check Slack's v0 request signature and its five-minute window."""
    if not signing_secret:
        raise SignatureInvalid("No Slack signing secret is configured, so no Slack request can be trusted.")
    timestamp = _header(headers, SLACK_TIMESTAMP_HEADER)
    if timestamp is None:
        raise SignatureInvalid(f"{SLACK_TIMESTAMP_HEADER} is missing.")
    signature = _header(headers, SLACK_SIGNATURE_HEADER)
    if signature is None:
        raise SignatureInvalid(f"{SLACK_SIGNATURE_HEADER} is missing.")
    if not _is_unsigned_integer(timestamp):
        raise SignatureInvalid(f"{SLACK_TIMESTAMP_HEADER} is not a Unix time in seconds.")
    sent_at = int(timestamp)
    _check_freshness(sent_at, time.time() if now is None else now, SLACK_TIMESTAMP_HEADER)
    if not signature.startswith("v0="):
        raise SignatureInvalid(f"{SLACK_SIGNATURE_HEADER} is not a v0 signature.")
    if not _same(slack_signature(signing_secret, timestamp, body), signature):
        raise SignatureInvalid(f"{SLACK_SIGNATURE_HEADER} does not match the body and the signing secret.")
    return VerifiedRequest(provider="slack", signed=True, sent_at=datetime.fromtimestamp(sent_at, tz=UTC))


# --- HubSpot ------------------------------------------------------------------------------------------


def hubspot_signed_uri(uri: str) -> str:
    """The form of the request URI that HubSpot signs: the full URL it called (scheme, host, path and query
    string, exactly as sent), with only the escapes HubSpot lists decoded.

    Behind a proxy, build ``uri`` from the public site address and the request's full path, not from what
    the application server sees (often plain http and an internal host name).
    """
    return _HUBSPOT_ESCAPE_PATTERN.sub(lambda match: _HUBSPOT_DECODED_ESCAPES[match.group(0).upper()], uri)


def hubspot_signature(client_secret: str, method: str, uri: str, body: bytes, timestamp_ms: str | int) -> str:
    """The ``X-HubSpot-Signature-v3`` value: base64 of HMAC-SHA256 over method + URI + body + timestamp."""
    message = (
        method.upper().encode("ascii")
        + hubspot_signed_uri(uri).encode("utf-8")
        + body
        + str(timestamp_ms).encode("ascii")
    )
    return base64.b64encode(_hmac_sha256(client_secret, message)).decode("ascii")


def verify_hubspot_signature(
    *,
    body: bytes,
    headers: Mapping[str, str],
    client_secret: str,
    method: str,
    uri: str,
    now: float | None = None,
) -> VerifiedRequest:
    """Check HubSpot's v3 request signature and its five-minute window.

    ``client_secret`` is the app's client secret (for a private app, its webhook signing secret); ``uri``
    is the full URL HubSpot called (see ``hubspot_signed_uri``). The timestamp header is in milliseconds.
    """
    if not client_secret:
        raise SignatureInvalid(
            "No HubSpot client secret is configured, so no HubSpot request can be trusted."
        )
    signature = _header(headers, HUBSPOT_SIGNATURE_HEADER)
    if signature is None:
        raise SignatureInvalid(f"{HUBSPOT_SIGNATURE_HEADER} is missing.")
    timestamp = _header(headers, HUBSPOT_TIMESTAMP_HEADER)
    if timestamp is None:
        raise SignatureInvalid(f"{HUBSPOT_TIMESTAMP_HEADER} is missing.")
    if not _is_unsigned_integer(timestamp):
        raise SignatureInvalid(f"{HUBSPOT_TIMESTAMP_HEADER} is not a Unix time in milliseconds.")
    sent_at_ms = int(timestamp)
    _check_freshness(sent_at_ms / 1000, time.time() if now is None else now, HUBSPOT_TIMESTAMP_HEADER)
    expected = hubspot_signature(client_secret, method, uri, body, timestamp)
    if not _same(expected, signature):
        raise SignatureInvalid(
            f"{HUBSPOT_SIGNATURE_HEADER} does not match the method, URI, body and timestamp "
            "with the client secret."
        )
    return VerifiedRequest(
        provider="hubspot", signed=True, sent_at=datetime.fromtimestamp(sent_at_ms / 1000, tz=UTC)
    )
