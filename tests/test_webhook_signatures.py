"""Webhook signatures are checked on the raw body, before anything is parsed.

Each scheme is tested with a vector computed here independently of the code under test (Slack's with the
example Slack publishes in "Verifying requests from Slack"), and with the mutations an attacker or a
careless proxy would produce: one changed byte, a timestamp 301 s old, a wrong secret, a missing header,
and the same JSON re-serialised with different whitespace. Every one of them is refused.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Callable

import pytest

from signals_ingest.signatures import (
    SignatureInvalid,
    hubspot_signature,
    hubspot_signed_uri,
    jira_signature,
    slack_signature,
    verify_hubspot_signature,
    verify_jira_signature,
    verify_slack_signature,
)

NOW = 1_750_000_000.0

JSON_BODY = (
    b'{"timestamp": 1750000000000, "webhookEvent": "jira:issue_updated",\n'
    b'  "issue": {"id": "10001", "key": "ENG-1", "fields": {"summary": "Faster checkout"}}}'
)


def _reserialised(body: bytes) -> bytes:
    """The same JSON as a framework would hand it back after parsing: same data, other bytes."""
    reserialised = json.dumps(json.loads(body)).encode()
    assert reserialised != body
    return reserialised


def _one_byte_changed(body: bytes) -> bytes:
    index = body.index(b"Faster")
    return body[:index] + b"f" + body[index + 1 :]


# --- Jira ---------------------------------------------------------------------------------------------

JIRA_SECRET = "It's a webhook secret"


def _jira_headers(body: bytes, secret: str = JIRA_SECRET) -> dict[str, str]:
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return {"X-Hub-Signature": f"sha256={digest}", "X-Atlassian-Webhook-Identifier": "1234567"}


def test_jira_signed_body_is_accepted() -> None:
    result = verify_jira_signature(body=JSON_BODY, headers=_jira_headers(JSON_BODY), secret=JIRA_SECRET)

    assert result.provider == "jira"
    assert result.signed is True


def test_jira_signature_header_name_is_case_insensitive() -> None:
    headers = {"x-hub-signature": _jira_headers(JSON_BODY)["X-Hub-Signature"]}

    assert verify_jira_signature(body=JSON_BODY, headers=headers, secret=JIRA_SECRET).signed


def test_jira_signature_helper_matches_the_independent_computation() -> None:
    assert jira_signature(JIRA_SECRET, JSON_BODY) == _jira_headers(JSON_BODY)["X-Hub-Signature"]


def test_jira_without_a_secret_is_unsigned_and_left_to_the_url_token() -> None:
    result = verify_jira_signature(body=JSON_BODY, headers={}, secret=None)

    assert result.signed is False


@pytest.mark.parametrize(
    ("body", "headers", "reason"),
    [
        pytest.param(_one_byte_changed(JSON_BODY), _jira_headers(JSON_BODY), "does not match", id="one-byte"),
        pytest.param(
            JSON_BODY, _jira_headers(JSON_BODY, "another secret"), "does not match", id="wrong-secret"
        ),
        pytest.param(JSON_BODY, {}, "X-Hub-Signature is missing", id="missing-header"),
        pytest.param(_reserialised(JSON_BODY), _jira_headers(JSON_BODY), "does not match", id="reserialised"),
        pytest.param(
            JSON_BODY,
            {
                "X-Hub-Signature": "sha1="
                + hmac.new(JIRA_SECRET.encode(), JSON_BODY, hashlib.sha1).hexdigest()
            },
            "not of the form sha256",
            id="other-algorithm",
        ),
        pytest.param(JSON_BODY, {"X-Hub-Signature": "sha256=\u00e9\u00e9"}, "does not match", id="non-ascii"),
    ],
)
def test_jira_mutations_are_refused(body: bytes, headers: dict[str, str], reason: str) -> None:
    with pytest.raises(SignatureInvalid, match=reason) as refused:
        verify_jira_signature(body=body, headers=headers, secret=JIRA_SECRET)

    assert JIRA_SECRET not in refused.value.reason


# --- Slack --------------------------------------------------------------------------------------------

# Slack's published example (api.slack.com, "Verifying requests from Slack").
SLACK_DOC_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
SLACK_DOC_TIMESTAMP = "1531420618"
SLACK_DOC_BODY = (
    b"token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V"
    b"&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text="
    b"&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J"
    b"%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN"
    b"&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c"
)
SLACK_DOC_SIGNATURE = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"

SLACK_SECRET = "slack-signing-secret-for-tests"
SLACK_EVENT = (
    b'{"token": "unused", "team_id": "T0ACME0001", "event_id": "Ev08MFMKH6",\n'
    b'  "event": {"type": "message", "channel": "C0001", "user": "U0PRIYA001", "text": "Faster checkout"}}'
)


def _slack_headers(body: bytes, timestamp: float = NOW, secret: str = SLACK_SECRET) -> dict[str, str]:
    basestring = f"v0:{int(timestamp)}:".encode() + body
    digest = hmac.new(secret.encode(), basestring, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": str(int(timestamp)), "X-Slack-Signature": f"v0={digest}"}


def test_slack_documented_example_vector_is_accepted() -> None:
    headers = {"X-Slack-Request-Timestamp": SLACK_DOC_TIMESTAMP, "X-Slack-Signature": SLACK_DOC_SIGNATURE}

    result = verify_slack_signature(
        body=SLACK_DOC_BODY,
        headers=headers,
        signing_secret=SLACK_DOC_SECRET,
        now=int(SLACK_DOC_TIMESTAMP) + 30,
    )

    assert result.signed is True
    assert result.sent_at is not None
    assert int(result.sent_at.timestamp()) == int(SLACK_DOC_TIMESTAMP)


def test_slack_signature_helper_reproduces_the_documented_example() -> None:
    assert slack_signature(SLACK_DOC_SECRET, SLACK_DOC_TIMESTAMP, SLACK_DOC_BODY) == SLACK_DOC_SIGNATURE


def test_slack_signed_event_is_accepted() -> None:
    assert verify_slack_signature(
        body=SLACK_EVENT, headers=_slack_headers(SLACK_EVENT), signing_secret=SLACK_SECRET, now=NOW
    ).signed


def test_slack_timestamp_exactly_five_minutes_old_is_still_accepted() -> None:
    headers = _slack_headers(SLACK_EVENT, timestamp=NOW - 300)

    assert verify_slack_signature(
        body=SLACK_EVENT, headers=headers, signing_secret=SLACK_SECRET, now=NOW
    ).signed


def _without(headers: dict[str, str], name: str) -> dict[str, str]:
    return {key: value for key, value in headers.items() if key != name}


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        pytest.param(
            lambda: (_one_byte_changed(SLACK_EVENT), _slack_headers(SLACK_EVENT)),
            "does not match",
            id="one-byte",
        ),
        pytest.param(
            lambda: (SLACK_EVENT, _slack_headers(SLACK_EVENT, timestamp=NOW - 301)),
            "301 s old",
            id="301-s-old",
        ),
        pytest.param(
            lambda: (SLACK_EVENT, _slack_headers(SLACK_EVENT, timestamp=NOW + 301)),
            "in the future",
            id="future",
        ),
        pytest.param(
            lambda: (SLACK_EVENT, _slack_headers(SLACK_EVENT, secret="another secret")),
            "does not match",
            id="wrong-secret",
        ),
        pytest.param(
            lambda: (SLACK_EVENT, _without(_slack_headers(SLACK_EVENT), "X-Slack-Signature")),
            "X-Slack-Signature is missing",
            id="missing-signature",
        ),
        pytest.param(
            lambda: (SLACK_EVENT, _without(_slack_headers(SLACK_EVENT), "X-Slack-Request-Timestamp")),
            "X-Slack-Request-Timestamp is missing",
            id="missing-timestamp",
        ),
        pytest.param(
            lambda: (_reserialised(SLACK_EVENT), _slack_headers(SLACK_EVENT)),
            "does not match",
            id="reserialised",
        ),
        pytest.param(
            lambda: (SLACK_EVENT, {**_slack_headers(SLACK_EVENT), "X-Slack-Request-Timestamp": "soon"}),
            "not a Unix time",
            id="timestamp-not-a-number",
        ),
    ],
)
def test_slack_mutations_are_refused(make: Callable[[], tuple[bytes, dict[str, str]]], reason: str) -> None:
    body, headers = make()

    with pytest.raises(SignatureInvalid, match=reason) as refused:
        verify_slack_signature(body=body, headers=headers, signing_secret=SLACK_SECRET, now=NOW)

    assert SLACK_SECRET not in refused.value.reason


def test_slack_without_a_signing_secret_trusts_nothing() -> None:
    with pytest.raises(SignatureInvalid, match="No Slack signing secret"):
        verify_slack_signature(
            body=SLACK_EVENT, headers=_slack_headers(SLACK_EVENT), signing_secret="", now=NOW
        )


# --- HubSpot ------------------------------------------------------------------------------------------

HUBSPOT_SECRET = "yyyyyyyy-yyyy-yyyy-yyyy-yyyyyyyyyyyy"
HUBSPOT_URI = "https://okrsignal.example.com/hooks/hubspot/Zt9k2F/?portalId=4242424"
HUBSPOT_BATCH = (
    b'[{"eventId": 100, "subscriptionId": 2001, "portalId": 4242424, "appId": 54321,\n'
    b'  "occurredAt": 1750000000000, "subscriptionType": "deal.propertyChange", "attemptNumber": 0,\n'
    b'  "objectId": 15000000001, "propertyName": "dealstage", "propertyValue": "Faster checkout"}]'
)
NOW_MS = int(NOW * 1000)


def _hubspot_headers(
    body: bytes,
    *,
    timestamp_ms: int = NOW_MS,
    secret: str = HUBSPOT_SECRET,
    method: str = "POST",
    uri: str = HUBSPOT_URI,
) -> dict[str, str]:
    message = method.encode() + uri.encode() + body + str(timestamp_ms).encode()
    digest = base64.b64encode(hmac.new(secret.encode(), message, hashlib.sha256).digest()).decode()
    return {"X-HubSpot-Signature-v3": digest, "X-HubSpot-Request-Timestamp": str(timestamp_ms)}


def _verify_hubspot(
    body: bytes, headers: dict[str, str], *, method: str = "POST", uri: str = HUBSPOT_URI
) -> object:
    return verify_hubspot_signature(
        body=body, headers=headers, client_secret=HUBSPOT_SECRET, method=method, uri=uri, now=NOW
    )


def test_hubspot_signed_batch_is_accepted() -> None:
    result = verify_hubspot_signature(
        body=HUBSPOT_BATCH,
        headers=_hubspot_headers(HUBSPOT_BATCH),
        client_secret=HUBSPOT_SECRET,
        method="POST",
        uri=HUBSPOT_URI,
        now=NOW,
    )

    assert result.signed is True
    assert result.provider == "hubspot"


def test_hubspot_signature_helper_matches_the_independent_computation() -> None:
    expected = _hubspot_headers(HUBSPOT_BATCH)["X-HubSpot-Signature-v3"]

    assert hubspot_signature(HUBSPOT_SECRET, "POST", HUBSPOT_URI, HUBSPOT_BATCH, NOW_MS) == expected


def test_hubspot_uri_is_signed_with_only_the_listed_escapes_decoded() -> None:
    encoded = (
        "https://okrsignal.example.com/hooks/hubspot/Zt9k2F/"
        "?note=a%3Ab%2Fc%40d%21%24%27%28%29%2a%2C%3B%3F&x=a%20b"
    )

    assert hubspot_signed_uri(encoded) == (
        "https://okrsignal.example.com/hooks/hubspot/Zt9k2F/?note=a:b/c@d!$'()*,;?&x=a%20b"
    )


def test_hubspot_request_with_escaped_uri_is_accepted() -> None:
    decoded = "https://okrsignal.example.com/hooks/hubspot/Zt9k2F/?source=crm:deals"
    headers = _hubspot_headers(HUBSPOT_BATCH, uri=decoded)

    assert _verify_hubspot(
        HUBSPOT_BATCH, headers, uri="https://okrsignal.example.com/hooks/hubspot/Zt9k2F/?source=crm%3Adeals"
    )


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        pytest.param(
            lambda: (_one_byte_changed(HUBSPOT_BATCH), _hubspot_headers(HUBSPOT_BATCH), {}),
            "does not match",
            id="one-byte",
        ),
        pytest.param(
            lambda: (HUBSPOT_BATCH, _hubspot_headers(HUBSPOT_BATCH, timestamp_ms=NOW_MS - 301_000), {}),
            "301 s old",
            id="301-s-old",
        ),
        pytest.param(
            lambda: (HUBSPOT_BATCH, _hubspot_headers(HUBSPOT_BATCH, secret="another secret"), {}),
            "does not match",
            id="wrong-secret",
        ),
        pytest.param(
            lambda: (HUBSPOT_BATCH, _without(_hubspot_headers(HUBSPOT_BATCH), "X-HubSpot-Signature-v3"), {}),
            "X-HubSpot-Signature-v3 is missing",
            id="missing-signature",
        ),
        pytest.param(
            lambda: (
                HUBSPOT_BATCH,
                _without(_hubspot_headers(HUBSPOT_BATCH), "X-HubSpot-Request-Timestamp"),
                {},
            ),
            "X-HubSpot-Request-Timestamp is missing",
            id="missing-timestamp",
        ),
        pytest.param(
            lambda: (_reserialised(HUBSPOT_BATCH), _hubspot_headers(HUBSPOT_BATCH), {}),
            "does not match",
            id="reserialised",
        ),
        pytest.param(
            lambda: (HUBSPOT_BATCH, _hubspot_headers(HUBSPOT_BATCH), {"method": "PUT"}),
            "does not match",
            id="other-method",
        ),
        pytest.param(
            lambda: (
                HUBSPOT_BATCH,
                _hubspot_headers(HUBSPOT_BATCH),
                {"uri": HUBSPOT_URI.replace("Zt9k2F", "other")},
            ),
            "does not match",
            id="other-uri",
        ),
        pytest.param(
            lambda: (
                HUBSPOT_BATCH,
                {**_hubspot_headers(HUBSPOT_BATCH), "X-HubSpot-Request-Timestamp": str(NOW)},
                {},
            ),
            "not a Unix time in milliseconds",
            id="timestamp-not-an-integer",
        ),
    ],
)
def test_hubspot_mutations_are_refused(
    make: Callable[[], tuple[bytes, dict[str, str], dict[str, str]]], reason: str
) -> None:
    body, headers, request = make()

    with pytest.raises(SignatureInvalid, match=reason) as refused:
        _verify_hubspot(body, headers, **request)

    assert HUBSPOT_SECRET not in refused.value.reason
