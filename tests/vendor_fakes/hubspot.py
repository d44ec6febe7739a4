"""A fake HubSpot CRM v3 API: the parts that connecting and pulling use.

- ``POST /crm/v3/objects/{type}/search``: filter groups (``EQ``, ``NEQ``, ``GT``, ``GTE``, ``LT``, ``LTE``,
  ``IN``, ``HAS_PROPERTY``), sorts, ``limit`` up to 200, ``after`` paging with ``paging.next.after`` and
  ``total``; like HubSpot it pages through at most 10,000 results: ``after`` of 10,000 or more is a 400;
- ``GET /crm/v3/objects/{type}/{id}?associations=deals``, ``GET /crm/v3/objects/{type}`` (with
  ``archived=true`` for deleted objects), ``POST /crm/v3/objects/{type}/batch/read``;
- ``POST /crm/v4/associations/{from}/{to}/batch/read``;
- ``GET /crm/v3/owners`` and ``GET /crm/v3/pipelines/deals``.

Bearer private app token, or an OAuth access token the fake issued and that has not expired; anything
else is a 401 with HubSpot's error body (``EXPIRED_AUTHENTICATION`` for an expired OAuth token).

OAuth (a public app's install): the consent page ``GET /oauth/authorize`` (approved at once: a redirect
back with a code; ``approve_install`` does the same without a browser), ``POST /oauth/v1/token``
(form-encoded; ``authorization_code`` and ``refresh_token`` grants; access tokens last
``oauth_expires_in`` seconds; HubSpot keeps the same refresh token across renewals) and
``GET /oauth/v1/access-tokens/{token}`` (the account a token reaches). A refused code or refresh token is a
400 with HubSpot's ``BAD_AUTH_CODE`` / ``BAD_REFRESH_TOKEN`` body.
"""

from __future__ import annotations

import itertools
import re
import time
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from tests.vendor_fakes.server import FakeResponse, FakeVendor, RecordedCall

SEARCH_RESULT_CAP = 10_000

DEAL_STAGES = [
    ("appointmentscheduled", "Appointment Scheduled", "0.2", "false"),
    ("qualifiedtobuy", "Qualified To Buy", "0.4", "false"),
    ("presentationscheduled", "Presentation Scheduled", "0.6", "false"),
    ("decisionmakerboughtin", "Decision Maker Bought-In", "0.8", "false"),
    ("contractsent", "Contract Sent", "0.9", "false"),
    ("closedwon", "Closed Won", "1.0", "true"),
    ("closedlost", "Closed Lost", "0.0", "true"),
]

# Properties HubSpot returns when a request names none.
DEFAULT_PROPERTIES = {
    "deals": [
        "amount",
        "closedate",
        "createdate",
        "dealname",
        "dealstage",
        "hs_lastmodifieddate",
        "hs_object_id",
        "pipeline",
    ],
    "notes": ["hs_createdate", "hs_lastmodifieddate", "hs_object_id"],
    "calls": ["hs_createdate", "hs_lastmodifieddate", "hs_object_id"],
    "meetings": ["hs_createdate", "hs_lastmodifieddate", "hs_object_id"],
    "emails": ["hs_createdate", "hs_lastmodifieddate", "hs_object_id"],
    "tasks": ["hs_createdate", "hs_lastmodifieddate", "hs_object_id"],
}
# Properties every answer carries whatever was asked.
ALWAYS_RETURNED = ("hs_object_id", "createdate", "hs_createdate", "hs_lastmodifieddate")
ENGAGEMENT_TYPES = ("notes", "calls", "meetings", "emails", "tasks")
DEAL_ASSOCIATION_TYPES = {
    "notes": ("note_to_deal", 214),
    "calls": ("call_to_deal", 206),
    "meetings": ("meeting_event_to_deal", 212),
    "emails": ("email_to_deal", 210),
    "tasks": ("task_to_deal", 216),
}


def hubspot_time(moment: datetime) -> str:
    """HubSpot's datetime property format: ``2025-01-15T10:23:45.123Z``."""
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _epoch_ms(value: Any) -> int | None:
    """A property or filter value as milliseconds since the epoch, if it is a date."""
    if value is None or value == "":
        return None
    text = str(value)
    if text.isdigit():
        return int(text)
    try:
        return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() * 1000)
    except ValueError:
        return None


DEFAULT_ACCESS_TOKEN = "pat-na1-11111111-2222-3333-4444-555555555555"
DEFAULT_CLIENT_ID = "7fff1e29-0b48-4b7c-8c8a-1f2e3d4c5b6a"
DEFAULT_CLIENT_SECRET = "fake-hubspot-app-client-secret"


class FakeHubSpot(FakeVendor):
    name = "hubspot"

    def __init__(self, *, access_token: str = DEFAULT_ACCESS_TOKEN, portal_id: int = 4242424) -> None:
        super().__init__()
        self.access_token = access_token
        self.portal_id = portal_id
        self.objects: dict[str, dict[str, dict[str, Any]]] = {}
        self.deal_links: dict[tuple[str, str], list[str]] = {}
        self.owners: list[dict[str, Any]] = []
        self._ids = itertools.count(15_000_000_001)
        self._owner_ids = itertools.count(41_629_779)
        self.add_owner("Priya", "Nair", "priya.nair@acme.test")
        self.add_owner("Tomas", "Herrera", "tomas.herrera@acme.test")
        # OAuth: OKRSignal's public app, the codes handed out (each good once), the refresh tokens issued
        # (until revoked) and the access tokens issued, with the moment each expires.
        self.client_id = DEFAULT_CLIENT_ID
        self.client_secret = DEFAULT_CLIENT_SECRET
        self.oauth_expires_in = 1800
        self.install_codes: dict[str, dict[str, str]] = {}
        self.refresh_tokens: set[str] = set()
        self.oauth_access_tokens: dict[str, float] = {}
        self._token_numbers = itertools.count(1)

    # --- the dataset ---

    def add_owner(self, first_name: str, last_name: str, email: str) -> dict[str, Any]:
        owner_id = next(self._owner_ids)
        owner = {
            "id": str(owner_id),
            "email": email,
            "type": "PERSON",
            "firstName": first_name,
            "lastName": last_name,
            "userId": owner_id - 32_000_000,
            "userIdIncludingInactive": owner_id - 32_000_000,
            "createdAt": "2023-02-01T09:00:00.000Z",
            "updatedAt": "2024-11-20T16:30:00.000Z",
            "archived": False,
            "teams": [{"id": "6190418", "name": "Sales", "primary": True}],
        }
        self.owners.append(owner)
        return owner

    def add_object(
        self,
        object_type: str,
        properties: dict[str, Any],
        *,
        modified: datetime,
        created: datetime | None = None,
        object_id: str | None = None,
        deal_ids: Sequence[str] = (),
    ) -> dict[str, Any]:
        object_id = object_id or str(next(self._ids))
        created = created or modified - timedelta(days=2)
        record = {
            "id": object_id,
            "properties": {
                **{name: None if value is None else str(value) for name, value in properties.items()},
                "hs_object_id": object_id,
                "createdate": hubspot_time(created),
                "hs_createdate": hubspot_time(created),
                "hs_lastmodifieddate": hubspot_time(modified),
            },
            "createdAt": hubspot_time(created),
            "updatedAt": hubspot_time(modified),
            "archived": False,
        }
        self.objects.setdefault(object_type, {})[object_id] = record
        if deal_ids:
            self.deal_links[(object_type, object_id)] = [str(deal_id) for deal_id in deal_ids]
        return record

    def add_deal(
        self,
        name: str,
        *,
        modified: datetime,
        stage: str = "appointmentscheduled",
        amount: float = 12000,
        owner_id: str | None = None,
        pipeline: str = "default",
        object_id: str | None = None,
    ) -> dict[str, Any]:
        return self.add_object(
            "deals",
            {
                "dealname": name,
                "dealstage": stage,
                "pipeline": pipeline,
                "amount": f"{amount:g}",
                "closedate": hubspot_time(modified + timedelta(days=30)),
                "hubspot_owner_id": owner_id or self.owners[0]["id"],
                "hs_is_closed": "true" if stage.startswith("closed") else "false",
            },
            modified=modified,
            object_id=object_id,
        )

    def add_engagement(
        self,
        object_type: str,
        *,
        modified: datetime,
        deal_ids: Sequence[str] = (),
        owner_id: str | None = None,
        text: str = "Spoke about the renewal",
    ) -> dict[str, Any]:
        owner = owner_id or self.owners[0]["id"]
        when = hubspot_time(modified)
        properties: dict[str, Any] = {
            "notes": {"hs_note_body": f"<p>{text}</p>", "hs_timestamp": when},
            "calls": {
                "hs_call_title": text,
                "hs_call_body": f"<p>{text}</p>",
                "hs_call_duration": "900000",
                "hs_call_status": "COMPLETED",
                "hs_call_direction": "OUTBOUND",
                "hs_timestamp": when,
            },
            "meetings": {
                "hs_meeting_title": text,
                "hs_meeting_body": f"<p>{text}</p>",
                "hs_meeting_start_time": when,
                "hs_meeting_end_time": hubspot_time(modified + timedelta(minutes=30)),
                "hs_meeting_outcome": "COMPLETED",
                "hs_timestamp": when,
            },
            "emails": {
                "hs_email_subject": text,
                "hs_email_text": text,
                "hs_email_direction": "EMAIL",
                "hs_email_status": "SENT",
                "hs_timestamp": when,
            },
            "tasks": {
                "hs_task_subject": text,
                "hs_task_body": f"<p>{text}</p>",
                "hs_task_status": "COMPLETED",
                "hs_task_priority": "MEDIUM",
                "hs_timestamp": when,
            },
        }[object_type]
        return self.add_object(
            object_type, {**properties, "hubspot_owner_id": owner}, modified=modified, deal_ids=deal_ids
        )

    def generate_deals(
        self, count: int, *, start: datetime, step: timedelta = timedelta(minutes=10)
    ) -> list[dict[str, Any]]:
        """``count`` deals modified ``step`` apart from ``start``, through the stages and owners in turn."""
        return [
            self.add_deal(
                f"Acme renewal {index + 1}",
                modified=start + step * index,
                stage=DEAL_STAGES[index % len(DEAL_STAGES)][0],
                amount=5000 + 250 * index,
                owner_id=self.owners[index % len(self.owners)]["id"],
            )
            for index in range(count)
        ]

    def generate_engagements(
        self,
        object_type: str,
        count: int,
        *,
        start: datetime,
        step: timedelta = timedelta(minutes=10),
        deal_ids: Sequence[str] = (),
    ) -> list[dict[str, Any]]:
        """``count`` engagements, each associated with one of ``deal_ids`` in turn (or none)."""
        return [
            self.add_engagement(
                object_type,
                modified=start + step * index,
                deal_ids=[deal_ids[index % len(deal_ids)]] if deal_ids else [],
                owner_id=self.owners[index % len(self.owners)]["id"],
                text=f"{object_type[:-1].title()} {index + 1} about the renewal",
            )
            for index in range(count)
        ]

    def archive(self, object_type: str, object_id: str, *, when: datetime) -> None:
        record = self.objects[object_type][object_id]
        record["archived"] = True
        record["archivedAt"] = hubspot_time(when)

    # --- OAuth ---

    def approve_install(self, authorize_url: str) -> str:
        """What app.hubspot.com does when a person approves the app: the redirect back, with a code.

        ``authorize_url`` is the address the product sent the person to; the answer is its
        ``redirect_uri`` with ``code`` and the ``state`` it was given."""
        return self._grant_install(
            {key: values[-1] for key, values in parse_qs(urlsplit(authorize_url).query).items()}
        )

    def _grant_install(self, query: dict[str, str]) -> str:
        assert query.get("client_id") == self.client_id, "The install names another app's client id."
        code = f"na1-{next(self._token_numbers):04d}-install-code"
        self.install_codes[code] = {
            "redirect_uri": query.get("redirect_uri", ""),
            "scope": query.get("scope", ""),
        }
        return f"{query.get('redirect_uri', '')}?{urlencode({'code': code, 'state': query.get('state', '')})}"

    def expire_access_tokens(self) -> None:
        """Every OAuth access token issued so far has expired (as 30 minutes later)."""
        for token in self.oauth_access_tokens:
            self.oauth_access_tokens[token] = time.time() - 60

    def revoke_refresh_tokens(self) -> None:
        """The app was uninstalled from the account: no refresh token issued so far renews anything."""
        self.refresh_tokens.clear()

    def _oauth_error(self, status: str, message: str) -> FakeResponse:
        return FakeResponse(400, {"status": status, "message": message, "correlationId": str(uuid.uuid4())})

    def _oauth_token(self, call: RecordedCall) -> FakeResponse:
        form = call.form
        if form.get("client_id") != self.client_id:
            return self._oauth_error("BAD_CLIENT_ID", "missing or invalid client id")
        if form.get("client_secret") != self.client_secret:
            return self._oauth_error("BAD_CLIENT_SECRET", "missing or invalid client secret")
        grant_type = form.get("grant_type")
        if grant_type == "authorization_code":
            grant = self.install_codes.pop(form.get("code", ""), None)
            if grant is None:
                return self._oauth_error("BAD_AUTH_CODE", "missing or unknown auth code")
            if form.get("redirect_uri") != grant["redirect_uri"]:
                return self._oauth_error(
                    "BAD_REDIRECT_URI", "redirect_uri does not match initial auth request"
                )
            refresh_token = f"na1-refresh-{next(self._token_numbers):04d}-{uuid.uuid4()}"
            self.refresh_tokens.add(refresh_token)
        elif grant_type == "refresh_token":
            refresh_token = form.get("refresh_token", "")
            if refresh_token not in self.refresh_tokens:
                return self._oauth_error("BAD_REFRESH_TOKEN", "missing or unknown refresh token")
        else:
            return self._oauth_error("BAD_GRANT_TYPE", f"unsupported grant_type {grant_type}")
        access_token = f"CJ-oauth-{next(self._token_numbers):04d}-{uuid.uuid4().hex}"
        self.oauth_access_tokens[access_token] = time.time() + self.oauth_expires_in
        return FakeResponse(
            200,
            {
                "token_type": "bearer",
                "refresh_token": refresh_token,
                "access_token": access_token,
                "expires_in": self.oauth_expires_in,
            },
        )

    def _access_token_info(self, token: str) -> FakeResponse:
        expires_at = self.oauth_access_tokens.get(token)
        if expires_at is None or expires_at < time.time():
            return FakeResponse(
                404, {"status": "error", "message": "Token not found", "category": "OBJECT_NOT_FOUND"}
            )
        return FakeResponse(
            200,
            {
                "token": token,
                "user": self.owners[0]["email"],
                "hub_domain": f"acme-{self.portal_id}.hubspot.com",
                "scopes": ["oauth", "crm.objects.deals.read", "crm.objects.owners.read"],
                "scope_to_scope_group_pks": [25, 31],
                "trial_scopes": [],
                "trial_scope_to_scope_group_pks": [],
                "hub_id": self.portal_id,
                "app_id": 2_345_678,
                "expires_in": int(expires_at - time.time()),
                "user_id": 51_234_567,
                "token_type": "access",
            },
        )

    def _authorization_problem(self, call: RecordedCall) -> FakeResponse | None:
        header = call.header("Authorization") or ""
        if header == f"Bearer {self.access_token}":
            return None
        token = header.removeprefix("Bearer ")
        expires_at = self.oauth_access_tokens.get(token) if header.startswith("Bearer ") else None
        if expires_at is None:
            return self.error_response(401, call)
        if expires_at < time.time():
            minutes = max(1, int((time.time() - expires_at) // 60))
            return self._problem(
                401,
                f"The OAuth token used to make this call expired {minutes} minute(s) ago.",
                "EXPIRED_AUTHENTICATION",
                context={"expire time": [hubspot_time(datetime.fromtimestamp(expires_at, UTC))]},
            )
        return None

    # --- the API ---

    def _problem(self, status: int, message: str, category: str, **extra: Any) -> FakeResponse:
        return FakeResponse(
            status,
            {
                "status": "error",
                "message": message,
                "correlationId": str(uuid.uuid4()),
                "category": category,
                **extra,
            },
        )

    def error_response(self, status: int, call: RecordedCall) -> FakeResponse:
        if status == 401:
            return self._problem(
                401,
                "Authentication credentials not found. This API supports OAuth 2.0 authentication and you can"
                " find more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview",
                "INVALID_AUTHENTICATION",
            )
        if status == 429:
            return FakeResponse(
                429,
                {
                    "status": "error",
                    "message": "You have reached your secondly limit.",
                    "errorType": "RATE_LIMIT",
                    "correlationId": str(uuid.uuid4()),
                    "policyName": "SECONDLY",
                    "groupName": f"publicapi:private-app:search:{self.portal_id}",
                },
            )
        if status >= 500:
            return self._problem(status, "internal error", "INTERNAL_ERROR")
        return self._problem(status, "There was a problem with the request.", "VALIDATION_ERROR")

    def handle(self, call: RecordedCall) -> FakeResponse:
        path, method = call.path.rstrip("/"), call.method
        if path == "/oauth/authorize" and method == "GET":
            # The consent page, approved at once: the browser goes straight back to the product.
            callback = self._grant_install({key: values[-1] for key, values in call.query.items()})
            return FakeResponse(302, b"", {"Location": callback})
        if path == "/oauth/v1/token" and method == "POST":
            return self._oauth_token(call)
        if match := re.fullmatch(r"/oauth/v1/access-tokens/([^/]+)", path):
            return self._access_token_info(match.group(1))
        if (refusal := self._authorization_problem(call)) is not None:
            return refusal
        if match := re.fullmatch(r"/crm/v3/objects/([a-z_0-9-]+)/search", path):
            return (
                self._search(match.group(1), call.json or {}) if method == "POST" else self._not_found(path)
            )
        if match := re.fullmatch(r"/crm/v3/objects/([a-z_0-9-]+)/batch/read", path):
            return self._batch_read(match.group(1), call.json or {})
        if match := re.fullmatch(r"/crm/v4/associations/([a-z_0-9-]+)/([a-z_0-9-]+)/batch/read", path):
            return self._associations_batch_read(match.group(1), match.group(2), call.json or {})
        if match := re.fullmatch(r"/crm/v3/objects/([a-z_0-9-]+)/(\d+)", path):
            return self._get_object(match.group(1), match.group(2), call)
        if match := re.fullmatch(r"/crm/v3/objects/([a-z_0-9-]+)", path):
            return self._list_objects(match.group(1), call)
        if path == "/crm/v3/owners":
            return self._owners(call)
        if path == "/crm/v3/pipelines/deals":
            return FakeResponse(200, {"results": [self._pipeline()]})
        return self._not_found(path)

    def _not_found(self, path: str) -> FakeResponse:
        return FakeResponse(
            404, {"status": "error", "message": f"Unable to route {path}", "category": "OBJECT_NOT_FOUND"}
        )

    def _shape(
        self, object_type: str, record: dict[str, Any], properties: Sequence[str] | None
    ) -> dict[str, Any]:
        wanted = list(properties) if properties else DEFAULT_PROPERTIES.get(object_type, [])
        names = [*wanted, *(name for name in ALWAYS_RETURNED if name in record["properties"])]
        shaped = {
            "id": record["id"],
            "properties": {name: record["properties"].get(name) for name in dict.fromkeys(names)},
            "createdAt": record["createdAt"],
            "updatedAt": record["updatedAt"],
            "archived": record["archived"],
        }
        if record.get("archivedAt"):
            shaped["archivedAt"] = record["archivedAt"]
        return shaped

    @staticmethod
    def _matches(record: dict[str, Any], condition: dict[str, Any]) -> bool:
        value = record["properties"].get(condition.get("propertyName"))
        operator = condition.get("operator", "EQ")
        if operator == "HAS_PROPERTY":
            return value not in (None, "")
        if operator == "NOT_HAS_PROPERTY":
            return value in (None, "")
        if operator == "IN":
            return str(value) in {str(item) for item in condition.get("values", [])}
        wanted = condition.get("value")
        as_time, wanted_time = _epoch_ms(value), _epoch_ms(wanted)
        left: Any
        right: Any
        if as_time is not None and wanted_time is not None and not str(value).isdigit():
            left, right = as_time, wanted_time
        else:
            try:
                left, right = float(value), float(wanted)  # type: ignore[arg-type]
            except (TypeError, ValueError):
                left, right = str(value), str(wanted)
        return {
            "EQ": left == right,
            "NEQ": left != right,
            "GT": left > right,
            "GTE": left >= right,
            "LT": left < right,
            "LTE": left <= right,
        }.get(operator, False)

    def _search(self, object_type: str, request: dict[str, Any]) -> FakeResponse:
        limit = int(request.get("limit") or 10)
        if limit > 200:
            return self._problem(400, f"limit must be at most 200, was {limit}.", "VALIDATION_ERROR")
        after = int(request.get("after") or 0)
        if after >= SEARCH_RESULT_CAP:
            return self._problem(400, "There was a problem with the request.", "VALIDATION_ERROR")
        groups = request.get("filterGroups") or []
        records = [
            record
            for record in self.objects.get(object_type, {}).values()
            if not record["archived"]
            and (
                not groups
                or any(all(self._matches(record, f) for f in group.get("filters", [])) for group in groups)
            )
        ]
        records.sort(key=lambda record: int(record["id"]))
        for sort in reversed(request.get("sorts") or []):
            name = sort if isinstance(sort, str) else sort.get("propertyName")
            descending = not isinstance(sort, str) and sort.get("direction") == "DESCENDING"
            records.sort(
                key=lambda record, name=name: _epoch_ms(record["properties"].get(name)) or 0,
                reverse=descending,
            )
        chunk = records[after : after + limit]
        body: dict[str, Any] = {
            "total": len(records),
            "results": [self._shape(object_type, record, request.get("properties")) for record in chunk],
        }
        if after + limit < len(records):
            body["paging"] = {"next": {"after": str(after + limit), "link": f"?after={after + limit}"}}
        return FakeResponse(200, body)

    def _deal_associations(self, object_type: str, object_id: str) -> list[dict[str, Any]]:
        label = DEAL_ASSOCIATION_TYPES.get(object_type, (f"{object_type[:-1]}_to_deal", 0))[0]
        return [
            {"id": deal_id, "type": label} for deal_id in self.deal_links.get((object_type, object_id), [])
        ]

    def _get_object(self, object_type: str, object_id: str, call: RecordedCall) -> FakeResponse:
        archived = (call.query.get("archived", ["false"])[-1]).lower() == "true"
        record = self.objects.get(object_type, {}).get(object_id)
        if record is None or record["archived"] != archived:
            return self._problem(
                404,
                "Object not found.  objectId are usually numeric.",
                "OBJECT_NOT_FOUND",
                context={"id": [object_id]},
            )
        properties = [name for value in call.query.get("properties", []) for name in value.split(",") if name]
        shaped = self._shape(object_type, record, properties)
        associations = [name for value in call.query.get("associations", []) for name in value.split(",")]
        if "deals" in associations and self.deal_links.get((object_type, object_id)):
            shaped["associations"] = {"deals": {"results": self._deal_associations(object_type, object_id)}}
        return FakeResponse(200, shaped)

    def _list_objects(self, object_type: str, call: RecordedCall) -> FakeResponse:
        archived = (call.query.get("archived", ["false"])[-1]).lower() == "true"
        limit = min(int(call.query.get("limit", ["10"])[-1]), 100)
        after = int(call.query.get("after", ["0"])[-1] or 0)
        properties = [name for value in call.query.get("properties", []) for name in value.split(",") if name]
        records = sorted(
            (
                record
                for record in self.objects.get(object_type, {}).values()
                if record["archived"] == archived
            ),
            key=lambda record: int(record["id"]),
        )
        chunk = records[after : after + limit]
        body: dict[str, Any] = {"results": [self._shape(object_type, record, properties) for record in chunk]}
        if after + limit < len(records):
            body["paging"] = {
                "next": {
                    "after": str(after + limit),
                    "link": f"{self.base_url}/crm/v3/objects/{object_type}?after={after + limit}",
                }
            }
        return FakeResponse(200, body)

    def _batch_read(self, object_type: str, request: dict[str, Any]) -> FakeResponse:
        inputs = [str(item.get("id")) for item in request.get("inputs", [])]
        if len(inputs) > 100:
            return self._problem(400, "Batch input must contain at most 100 inputs.", "VALIDATION_ERROR")
        known = self.objects.get(object_type, {})
        found = [
            known[object_id]
            for object_id in inputs
            if object_id in known and not known[object_id]["archived"]
        ]
        missing = [
            object_id for object_id in inputs if object_id not in known or known[object_id]["archived"]
        ]
        now = hubspot_time(datetime.now(UTC))
        body: dict[str, Any] = {
            "status": "COMPLETE",
            "results": [self._shape(object_type, record, request.get("properties")) for record in found],
            "startedAt": now,
            "completedAt": now,
        }
        if missing:
            body["numErrors"] = 1
            body["errors"] = [
                {
                    "status": "error",
                    "category": "OBJECT_NOT_FOUND",
                    "message": (
                        f"Could not get some {object_type.upper()} objects, they may be deleted or not exist."
                    ),
                    "context": {"ids": missing},
                }
            ]
            return FakeResponse(207, body)
        return FakeResponse(200, body)

    def _associations_batch_read(self, from_type: str, to_type: str, request: dict[str, Any]) -> FakeResponse:
        if to_type != "deals":
            return self._problem(
                400, f"The fake associates only with deals, not {to_type}.", "VALIDATION_ERROR"
            )
        type_id = DEAL_ASSOCIATION_TYPES.get(from_type, ("", 0))[1]
        results = []
        unlinked = []
        for item in request.get("inputs", []):
            object_id = str(item.get("id"))
            deal_ids = self.deal_links.get((from_type, object_id), [])
            if not deal_ids:
                unlinked.append(object_id)
                continue
            results.append(
                {
                    "from": {"id": object_id},
                    "to": [
                        {
                            "toObjectId": int(deal_id),
                            "associationTypes": [
                                {"category": "HUBSPOT_DEFINED", "typeId": type_id, "label": None}
                            ],
                        }
                        for deal_id in deal_ids
                    ],
                }
            )
        now = hubspot_time(datetime.now(UTC))
        body: dict[str, Any] = {
            "status": "COMPLETE",
            "results": results,
            "startedAt": now,
            "completedAt": now,
        }
        if unlinked:
            body["numErrors"] = len(unlinked)
            body["errors"] = [
                {
                    "status": "error",
                    "category": "OBJECT_NOT_FOUND",
                    "subCategory": "crm.associations.NO_ASSOCIATIONS_FOUND",
                    "message": f"No {to_type} is associated with {from_type} {object_id}.",
                    "context": {"fromObjectId": [object_id], "toObjectType": [to_type]},
                }
                for object_id in unlinked
            ]
            return FakeResponse(207, body)
        return FakeResponse(200, body)

    def _owners(self, call: RecordedCall) -> FakeResponse:
        email = call.query.get("email", [None])[-1]
        limit = min(int(call.query.get("limit", ["100"])[-1]), 500)
        after = int(call.query.get("after", ["0"])[-1] or 0)
        owners = [owner for owner in self.owners if email is None or owner["email"] == email]
        chunk = owners[after : after + limit]
        body: dict[str, Any] = {"results": chunk}
        if after + limit < len(owners):
            body["paging"] = {
                "next": {
                    "after": str(after + limit),
                    "link": f"{self.base_url}/crm/v3/owners?after={after + limit}",
                }
            }
        return FakeResponse(200, body)

    def _pipeline(self) -> dict[str, Any]:
        stamp = "2023-01-10T08:00:00.000Z"
        return {
            "label": "Sales Pipeline",
            "displayOrder": 0,
            "id": "default",
            "stages": [
                {
                    "label": label,
                    "displayOrder": order,
                    "metadata": {"isClosed": closed, "probability": probability},
                    "id": stage_id,
                    "createdAt": stamp,
                    "updatedAt": stamp,
                    "archived": False,
                    "writePermissions": "CRM_PERMISSIONS_ENFORCEMENT",
                }
                for order, (stage_id, label, probability, closed) in enumerate(DEAL_STAGES)
            ],
            "createdAt": stamp,
            "updatedAt": stamp,
            "archived": False,
        }
