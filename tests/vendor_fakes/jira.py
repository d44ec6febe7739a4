"""A fake Jira Cloud site: the parts of REST API v3 that connecting and pulling use.

- ``GET /rest/api/3/myself`` and ``GET /rest/api/3/serverInfo`` (test connection);
- ``POST`` and ``GET /rest/api/3/search/jql``, the enhanced search paged by ``nextPageToken`` (with
  ``expand=changelog``); it understands the JQL the pulls send: ``project in (...)``, ``project = X``,
  ``updated >= "yyyy-MM-dd HH:mm"`` read in the account's time zone, ``ORDER BY updated ASC, key ASC``;
- ``GET /rest/api/3/issue/{key}/changelog`` (the rest of a long changelog);
- ``GET /rest/api/3/field`` (to find the story-points field by name).

Basic auth with the account e-mail and API token; anything else is a 401 with Jira's error body.

The fake also stands in for Atlassian's OAuth 2.0 (3LO) hosts, auth.atlassian.com and api.atlassian.com:
the consent page ``GET /authorize`` (approved at once: a redirect back with a code; ``approve_install``
does the same without a browser), ``POST /oauth/token`` (a JSON body; ``authorization_code`` and
``refresh_token`` grants; access tokens last ``oauth_expires_in`` seconds; every renewal rotates the refresh
token, and a spent or revoked one is a 403 ``invalid_grant``), ``GET /oauth/token/accessible-resources``
(``sites``, by default this site alone) and the site's REST API under ``/ex/jira/<cloud id>`` with a Bearer
access token it issued (401 once that has expired).
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import re
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit
from zoneinfo import ZoneInfo

from signals_ingest.clients import jira_time
from tests.vendor_fakes.server import FakeResponse, FakeVendor, RecordedCall

STATUSES = {
    "To Do": {"id": "10000", "category": (2, "new", "blue-gray", "To Do")},
    "In Progress": {"id": "3", "category": (4, "indeterminate", "yellow", "In Progress")},
    "In Review": {"id": "10001", "category": (4, "indeterminate", "yellow", "In Progress")},
    "Done": {"id": "10002", "category": (3, "done", "green", "Done")},
}
WORKFLOW = ["To Do", "In Progress", "In Review", "Done"]


@dataclass(frozen=True)
class JiraPerson:
    account_id: str
    display_name: str
    email: str | None  # Jira hides the e-mail of people whose profile keeps it private


DEFAULT_PEOPLE = (
    JiraPerson("5b10a2844c20165700ede21g", "Priya Nair", "priya.nair@acme.test"),
    JiraPerson("5b10ac8d82e05b22cc7d4ef5", "Tomas Herrera", "tomas.herrera@acme.test"),
    JiraPerson("60e5a86a471e61006a4e5f2c", "Mei Lin", None),
)


def _avatar_urls(seed: str) -> dict[str, str]:
    return {
        size: f"https://avatar-management.example/{seed}/{size}"
        for size in ("48x48", "24x24", "16x16", "32x32")
    }


DEFAULT_API_TOKEN = "jira-api-token"
DEFAULT_CLIENT_ID = "Qf8aXj3kT0okrsignalapp"
DEFAULT_CLIENT_SECRET = "fake-atlassian-app-client-secret"
DEFAULT_CLOUD_ID = "1324a887-45db-1bf4-1e99-ef0ff456d421"


class FakeJira(FakeVendor):
    name = "jira"

    def __init__(
        self,
        *,
        email: str = "priya.nair@acme.test",
        api_token: str = DEFAULT_API_TOKEN,
        display_name: str = "Priya Nair",
        account_id: str = "5b10a2844c20165700ede21g",
        time_zone: str = "Europe/London",
        story_points_field: str = "customfield_10016",
        changelog_limit_in_search: int = 40,
    ) -> None:
        super().__init__()
        self.email = email
        self.api_token = api_token
        self.display_name = display_name
        self.account_id = account_id
        self.time_zone = time_zone
        self.story_points_field = story_points_field
        self.changelog_limit_in_search = changelog_limit_in_search
        self.people = list(DEFAULT_PEOPLE)
        self.issues: dict[str, dict[str, Any]] = {}
        self._ids = itertools.count(10001)
        self._history_ids = itertools.count(20001)
        # OAuth 2.0 (3LO): OKRSignal's Atlassian app, the codes handed out (each good once), the refresh
        # tokens still good, and the access tokens issued with the moment each expires.
        self.client_id = DEFAULT_CLIENT_ID
        self.client_secret = DEFAULT_CLIENT_SECRET
        self.cloud_id = DEFAULT_CLOUD_ID
        self.oauth_expires_in = 3600
        self.extra_sites: list[dict[str, Any]] = []
        self.install_codes: dict[str, dict[str, str]] = {}
        self.refresh_tokens: set[str] = set()
        self.oauth_access_tokens: dict[str, float] = {}
        self._token_numbers = itertools.count(1)

    # --- the dataset ---

    def _person(self, person: JiraPerson | None) -> dict[str, Any] | None:
        if person is None:
            return None
        user: dict[str, Any] = {
            "self": f"{self.base_url}/rest/api/3/user?accountId={person.account_id}",
            "accountId": person.account_id,
            "avatarUrls": _avatar_urls(person.account_id),
            "displayName": person.display_name,
            "active": True,
            "timeZone": self.time_zone,
            "accountType": "atlassian",
        }
        if person.email:
            user["emailAddress"] = person.email
        return user

    def _status(self, name: str) -> dict[str, Any]:
        status = STATUSES[name]
        category_id, key, colour, category_name = status["category"]  # type: ignore[misc]
        return {
            "self": f"{self.base_url}/rest/api/3/status/{status['id']}",
            "description": "",
            "iconUrl": f"{self.base_url}/images/icons/statuses/generic.png",
            "name": name,
            "id": status["id"],
            "statusCategory": {
                "self": f"{self.base_url}/rest/api/3/statuscategory/{category_id}",
                "id": category_id,
                "key": key,
                "colorName": colour,
                "name": category_name,
            },
        }

    def _project(self, key: str) -> dict[str, Any]:
        project_id = str(10000 + sum(ord(char) for char in key))
        return {
            "self": f"{self.base_url}/rest/api/3/project/{project_id}",
            "id": project_id,
            "key": key,
            "name": {"ENG": "Engineering", "OPS": "Operations"}.get(key, key.title()),
            "projectTypeKey": "software",
            "simplified": False,
            "avatarUrls": _avatar_urls(key),
        }

    def _issue_type(self, name: str) -> dict[str, Any]:
        type_id, level = {
            "Epic": ("10000", 1),
            "Story": ("10001", 0),
            "Task": ("10002", 0),
            "Bug": ("10004", 0),
        }[name]
        return {
            "self": f"{self.base_url}/rest/api/3/issuetype/{type_id}",
            "id": type_id,
            "description": "",
            "iconUrl": f"{self.base_url}/images/icons/issuetypes/{name.lower()}.svg",
            "name": name,
            "subtask": False,
            "hierarchyLevel": level,
        }

    def _summary_of(self, key: str) -> dict[str, Any]:
        """How Jira shows another issue inside a field (parent, issue links)."""
        issue = self.issues[key]
        return {
            "id": issue["id"],
            "key": key,
            "self": issue["self"],
            "fields": {
                "summary": issue["fields"]["summary"],
                "status": issue["fields"]["status"],
                "priority": issue["fields"]["priority"],
                "issuetype": issue["fields"]["issuetype"],
            },
        }

    def add_issue(
        self,
        *,
        key: str,
        summary: str,
        updated: datetime,
        created: datetime | None = None,
        status: str = "To Do",
        issue_type: str = "Story",
        labels: Sequence[str] = (),
        components: Sequence[str] = (),
        parent_key: str | None = None,
        assignee: JiraPerson | None = None,
        story_points: float | None = None,
        transitions: Sequence[tuple[datetime, str, str, JiraPerson]] = (),
        blocked_by: Sequence[str] = (),
    ) -> dict[str, Any]:
        """Add (or replace) an issue. ``transitions`` are (when, from status, to status, who), each one a
        changelog history; ``blocked_by`` keys must exist already."""
        issue_id = self.issues[key]["id"] if key in self.issues else str(next(self._ids))
        project_key = key.split("-")[0]
        fields: dict[str, Any] = {
            "summary": summary,
            "status": self._status(status),
            "project": self._project(project_key),
            "issuetype": self._issue_type(issue_type),
            "labels": list(labels),
            "components": [
                {
                    "self": f"{self.base_url}/rest/api/3/component/{10100 + index}",
                    "id": str(10100 + index),
                    "name": name,
                }
                for index, name in enumerate(components)
            ],
            "issuelinks": [
                {
                    "id": str(next(self._ids)),
                    "self": f"{self.base_url}/rest/api/3/issueLink/{issue_id}",
                    "type": {
                        "id": "10000",
                        "name": "Blocks",
                        "inward": "is blocked by",
                        "outward": "blocks",
                        "self": f"{self.base_url}/rest/api/3/issueLinkType/10000",
                    },
                    "inwardIssue": self._summary_of(blocker),
                }
                for blocker in blocked_by
            ],
            "assignee": self._person(assignee),
            "reporter": self._person(self.people[0]),
            "priority": {
                "self": f"{self.base_url}/rest/api/3/priority/3",
                "iconUrl": "",
                "name": "Medium",
                "id": "3",
            },
            "resolution": None,
            "resolutiondate": None,
            "created": jira_time(created or updated - timedelta(days=3)),
            "updated": jira_time(updated),
            self.story_points_field: story_points,
        }
        if status == "Done":
            fields["resolution"] = {
                "self": f"{self.base_url}/rest/api/3/resolution/10000",
                "id": "10000",
                "name": "Done",
            }
            fields["resolutiondate"] = jira_time(updated)
        if parent_key is not None:
            fields["parent"] = self._summary_of(parent_key)
        histories = [
            {
                "id": str(next(self._history_ids)),
                "author": self._person(who),
                "created": jira_time(when),
                "items": [
                    {
                        "field": "status",
                        "fieldtype": "jira",
                        "fieldId": "status",
                        "from": STATUSES[before]["id"],
                        "fromString": before,
                        "to": STATUSES[after]["id"],
                        "toString": after,
                    }
                ],
            }
            for when, before, after, who in transitions
        ]
        issue = {
            "expand": "renderedFields,names,schema,operations,editmeta,changelog,versionedRepresentations",
            "id": issue_id,
            "self": f"{self.base_url}/rest/api/3/issue/{issue_id}",
            "key": key,
            "fields": fields,
            "histories": histories,
        }
        self.issues[key] = issue
        return issue

    def generate_issues(
        self,
        count: int,
        *,
        start: datetime,
        step: timedelta = timedelta(minutes=7),
        project_key: str = "ENG",
        first_number: int = 1,
        labels: Sequence[str] = ("okr-growth",),
        components: Sequence[str] = ("Checkout",),
        parent_key: str | None = None,
        story_points: Sequence[float | None] = (1, 2, 3, 5, 8, None),
    ) -> list[dict[str, Any]]:
        """``count`` stories updated ``step`` apart from ``start``, each moved along the workflow by a
        person in turn (one transition per workflow step it has reached)."""
        created = []
        for number in range(first_number, first_number + count):
            index = number - first_number
            updated = start + step * index
            reached = index % len(WORKFLOW)
            who = self.people[index % len(self.people)]
            transitions = [
                (
                    updated - timedelta(minutes=reached - position),
                    WORKFLOW[position - 1],
                    WORKFLOW[position],
                    who,
                )
                for position in range(1, reached + 1)
            ]
            created.append(
                self.add_issue(
                    key=f"{project_key}-{number}",
                    summary=f"Story {number}: improve the checkout step {number % 5 + 1}",
                    updated=updated,
                    status=WORKFLOW[reached],
                    labels=labels,
                    components=components,
                    parent_key=parent_key,
                    assignee=who,
                    story_points=story_points[index % len(story_points)],
                    transitions=transitions,
                )
            )
        return created

    # --- OAuth 2.0 (3LO) ---

    @property
    def sites(self) -> list[dict[str, Any]]:
        """What ``accessible-resources`` lists: this site, then any added with ``add_site``."""
        scopes = ["read:jira-work", "read:jira-user"]
        this_site = {
            "id": self.cloud_id,
            "url": self.base_url,
            "name": "acme",
            "scopes": scopes,
            "avatarUrl": "https://site-admin-avatar-cdn.prod.public.atl-paas.net/avatars/240/rocket.png",
        }
        return [this_site, *self.extra_sites]

    def add_site(self, name: str, *, cloud_id: str | None = None) -> dict[str, Any]:
        """Another Jira site the approving account may read (its API is not served by this fake)."""
        site = {
            "id": cloud_id or str(uuid.uuid4()),
            "url": f"https://{name}.atlassian.net",
            "name": name,
            "scopes": ["read:jira-work", "read:jira-user"],
            "avatarUrl": "https://site-admin-avatar-cdn.prod.public.atl-paas.net/avatars/240/star.png",
        }
        self.extra_sites.append(site)
        return site

    def approve_install(self, authorize_url: str) -> str:
        """What auth.atlassian.com does when a person consents: the redirect back, with a code and the
        ``state`` it was given."""
        return self._grant_install(
            {key: values[-1] for key, values in parse_qs(urlsplit(authorize_url).query).items()}
        )

    def _grant_install(self, query: dict[str, str]) -> str:
        assert query.get("client_id") == self.client_id, "The consent names another app's client id."
        assert query.get("audience") == "api.atlassian.com", (
            "Atlassian asks for the api.atlassian.com audience."
        )
        assert query.get("response_type") == "code"
        code = f"atl-code-{next(self._token_numbers):04d}"
        self.install_codes[code] = {
            "redirect_uri": query.get("redirect_uri", ""),
            "scope": query.get("scope", ""),
        }
        return f"{query.get('redirect_uri', '')}?{urlencode({'state': query.get('state', ''), 'code': code})}"

    def expire_access_tokens(self) -> None:
        """Every OAuth access token issued so far has expired (as an hour later)."""
        for token in self.oauth_access_tokens:
            self.oauth_access_tokens[token] = time.time() - 60

    def revoke_refresh_tokens(self) -> None:
        """The person revoked the app's access: no refresh token issued so far renews anything."""
        self.refresh_tokens.clear()

    def _oauth_token(self, call: RecordedCall) -> FakeResponse:
        body = call.json if isinstance(call.json, dict) else {}
        if body.get("client_id") != self.client_id or body.get("client_secret") != self.client_secret:
            return FakeResponse(401, {"error": "access_denied", "error_description": "Unauthorized"})
        grant_type = body.get("grant_type")
        scope = "read:jira-work read:jira-user offline_access"
        if grant_type == "authorization_code":
            grant = self.install_codes.pop(str(body.get("code") or ""), None)
            if grant is None or body.get("redirect_uri") != grant["redirect_uri"]:
                return FakeResponse(
                    403, {"error": "invalid_grant", "error_description": "Invalid authorization code"}
                )
            scope = grant["scope"]
        elif grant_type == "refresh_token":
            refresh_token = str(body.get("refresh_token") or "")
            if refresh_token not in self.refresh_tokens:
                return FakeResponse(
                    403, {"error": "invalid_grant", "error_description": "Unknown or invalid refresh token."}
                )
            # Rotating refresh tokens: the one just used is spent.
            self.refresh_tokens.discard(refresh_token)
        else:
            return FakeResponse(
                400, {"error": "unsupported_grant_type", "error_description": str(grant_type)}
            )
        number = next(self._token_numbers)
        access_token = f"eyJraWQiOiJmYWtlIn0.atl-access-{number:04d}.{uuid.uuid4().hex}"
        new_refresh_token = f"eyJraWQiOiJmYWtlIn0.atl-refresh-{number:04d}.{uuid.uuid4().hex}"
        self.refresh_tokens.add(new_refresh_token)
        self.oauth_access_tokens[access_token] = time.time() + self.oauth_expires_in
        return FakeResponse(
            200,
            {
                "access_token": access_token,
                "expires_in": self.oauth_expires_in,
                "token_type": "Bearer",
                "refresh_token": new_refresh_token,
                "scope": scope,
            },
        )

    def _bearer_is_current(self, call: RecordedCall) -> bool:
        header = call.header("Authorization") or ""
        if not header.lower().startswith("bearer "):
            return False
        expires_at = self.oauth_access_tokens.get(header[len("bearer ") :])
        return expires_at is not None and expires_at >= time.time()

    def _oauth_unauthorized(self) -> FakeResponse:
        return FakeResponse(
            401,
            {"code": 401, "message": "Unauthorized; scope does not match"},
            {"WWW-Authenticate": 'Bearer realm="api.atlassian.com", error="invalid_token"'},
        )

    # --- the API ---

    def error_response(self, status: int, call: RecordedCall) -> FakeResponse:
        if status == 401:
            return FakeResponse(
                401,
                {"errorMessages": ["Client must be authenticated to access this resource."], "errors": {}},
                {"WWW-Authenticate": 'Basic realm="protected-area"'},
            )
        if status == 429:
            return FakeResponse(429, {"errorMessages": ["Rate limit exceeded."], "errors": {}})
        if status in (502, 503):
            return FakeResponse(status, b"<html><body><h1>Service unavailable</h1></body></html>")
        return FakeResponse(status, {"errorMessages": ["Internal server error"], "errors": {}})

    def _authenticated(self, call: RecordedCall) -> bool:
        header = call.header("Authorization") or ""
        expected = base64.b64encode(f"{self.email}:{self.api_token}".encode()).decode()
        return header == f"Basic {expected}"

    def handle(self, call: RecordedCall) -> FakeResponse:
        path = call.path
        if path == "/authorize" and call.method == "GET":
            # The consent page, approved at once: the browser goes straight back to the product.
            callback = self._grant_install({key: values[-1] for key, values in call.query.items()})
            return FakeResponse(302, b"", {"Location": callback})
        if path == "/oauth/token" and call.method == "POST":
            return self._oauth_token(call)
        if path == "/oauth/token/accessible-resources":
            return (
                FakeResponse(200, self.sites) if self._bearer_is_current(call) else self._oauth_unauthorized()
            )
        gateway_prefix = f"/ex/jira/{self.cloud_id}"
        if path.startswith(gateway_prefix + "/"):
            if not self._bearer_is_current(call):
                return self._oauth_unauthorized()
            path = path[len(gateway_prefix) :]
        elif not self._authenticated(call):
            return self.error_response(401, call)
        return self._route(call, path)

    def _route(self, call: RecordedCall, path: str) -> FakeResponse:
        if path == "/rest/api/3/myself" and call.method == "GET":
            return FakeResponse(200, self._myself())
        if path in ("/rest/api/3/serverInfo", "/rest/api/2/serverInfo"):
            return FakeResponse(200, self._server_info())
        if path == "/rest/api/3/field":
            return FakeResponse(200, self._fields())
        if path == "/rest/api/3/search/jql":
            if call.method == "POST":
                request = call.json or {}
            else:
                request = {key: values[-1] for key, values in call.query.items()}
                for name in ("fields", "expand"):
                    if name in request:
                        request[name] = request[name].split(",")
            return self._search(request)
        match = re.fullmatch(r"/rest/api/3/issue/([^/]+)/changelog", path)
        if match:
            return self._changelog(match.group(1), call)
        return FakeResponse(404, {"errorMessages": [f"No resource at {path}."], "errors": {}})

    def _myself(self) -> dict[str, Any]:
        return {
            "self": f"{self.base_url}/rest/api/3/user?accountId={self.account_id}",
            "accountId": self.account_id,
            "accountType": "atlassian",
            "emailAddress": self.email,
            "avatarUrls": _avatar_urls(self.account_id),
            "displayName": self.display_name,
            "active": True,
            "timeZone": self.time_zone,
            "locale": "en_GB",
            "groups": {"size": 3, "items": []},
            "applicationRoles": {"size": 1, "items": []},
            "expand": "groups,applicationRoles",
        }

    def _server_info(self) -> dict[str, Any]:
        return {
            "baseUrl": self.base_url,
            "displayUrl": self.base_url,
            "version": "1001.0.0-SNAPSHOT",
            "versionNumbers": [1001, 0, 0],
            "deploymentType": "Cloud",
            "buildNumber": 100283,
            "buildDate": "2025-01-14T06:12:47.000+0000",
            "serverTime": jira_time(datetime.now(UTC)),
            "scmInfo": "0b8c1a7cf1b4b0e0f3e1d1c1b1a19181716151413",
            "serverTitle": "Jira",
        }

    def _fields(self) -> list[dict[str, Any]]:
        def system(field_id: str, name: str) -> dict[str, Any]:
            return {
                "id": field_id,
                "key": field_id,
                "name": name,
                "custom": False,
                "orderable": True,
                "navigable": True,
                "searchable": True,
                "clauseNames": [field_id],
            }

        return [
            system("summary", "Summary"),
            system("status", "Status"),
            system("labels", "Labels"),
            system("updated", "Updated"),
            {
                "id": self.story_points_field,
                "key": self.story_points_field,
                "name": "Story point estimate",
                "untranslatedName": "Story point estimate",
                "custom": True,
                "orderable": True,
                "navigable": True,
                "searchable": True,
                "clauseNames": [f"cf[{self.story_points_field.split('_')[-1]}]", "Story point estimate"],
                "schema": {
                    "type": "number",
                    "custom": "com.pyxis.greenhopper.jira:jsw-story-points",
                    "customId": int(self.story_points_field.split("_")[-1]),
                },
            },
        ]

    def _jql_error(self, message: str) -> FakeResponse:
        return FakeResponse(400, {"errorMessages": [message], "errors": {}})

    def _matching_keys(self, jql: str) -> list[str] | FakeResponse:
        remaining = jql
        projects: set[str] | None = None
        since: datetime | None = None
        order = re.search(r"\s*ORDER BY\s+(.+)$", remaining, flags=re.IGNORECASE)
        if order:
            if order.group(1).strip().lower() not in ("updated asc, key asc", "updated asc", "updated"):
                return self._jql_error(f"The fake understands no ORDER BY {order.group(1)!r}.")
            remaining = remaining[: order.start()]
        for clause in [
            part.strip() for part in re.split(r"\s+AND\s+", remaining, flags=re.IGNORECASE) if part.strip()
        ]:
            in_list = re.fullmatch(r"project\s+in\s*\(([^)]*)\)", clause, flags=re.IGNORECASE)
            equals = re.fullmatch(r'project\s*=\s*"?([A-Z][A-Z0-9_]*)"?', clause, flags=re.IGNORECASE)
            updated = re.fullmatch(
                r'updated\s*>=\s*"(\d{4}-\d{2}-\d{2} \d{2}:\d{2})"', clause, flags=re.IGNORECASE
            )
            if in_list:
                projects = {key.strip().strip('"') for key in in_list.group(1).split(",")}
            elif equals:
                projects = {equals.group(1)}
            elif updated:
                local = datetime.strptime(updated.group(1), "%Y-%m-%d %H:%M").replace(
                    tzinfo=ZoneInfo(self.time_zone)
                )
                since = local.astimezone(UTC)
            else:
                return self._jql_error(f"Error in the JQL Query: the clause {clause!r} is not understood.")
        keys = []
        for key, issue in self.issues.items():
            if projects is not None and issue["fields"]["project"]["key"] not in projects:
                continue
            updated_at = datetime.strptime(issue["fields"]["updated"], "%Y-%m-%dT%H:%M:%S.%f%z")
            if since is not None and updated_at < since:
                continue
            keys.append(key)
        keys.sort(key=lambda key: (self.issues[key]["fields"]["updated"], key))
        return keys

    def _render(self, issue: dict[str, Any], fields: Sequence[str], expand: Sequence[str]) -> dict[str, Any]:
        wanted = set(fields)
        if "*all" in wanted or "*navigable" in wanted:
            chosen = dict(issue["fields"])
        else:
            chosen = {name: value for name, value in issue["fields"].items() if name in wanted}
        rendered: dict[str, Any] = {
            "expand": issue["expand"],
            "id": issue["id"],
            "self": issue["self"],
            "key": issue["key"],
        }
        if fields:
            rendered["fields"] = chosen
        if "changelog" in expand:
            histories = issue["histories"][: self.changelog_limit_in_search]
            rendered["changelog"] = {
                "startAt": 0,
                "maxResults": len(histories),
                "total": len(issue["histories"]),
                "histories": histories,
            }
        return rendered

    def _search(self, request: dict[str, Any]) -> FakeResponse:
        jql = str(request.get("jql", ""))
        keys = self._matching_keys(jql)
        if isinstance(keys, FakeResponse):
            return keys
        page_size = min(int(request.get("maxResults") or 50), 100)
        fingerprint = hashlib.sha256(jql.encode()).hexdigest()[:16]
        offset = 0
        token = request.get("nextPageToken")
        if token:
            try:
                position = json.loads(base64.urlsafe_b64decode(token.encode()))
            except ValueError:
                return self._jql_error("The nextPageToken is not valid.")
            if position.get("q") != fingerprint:
                return self._jql_error("The nextPageToken belongs to another query.")
            offset = int(position["o"])
        fields = request.get("fields") or ["id"]
        expand = request.get("expand") or []
        if isinstance(expand, str):
            expand = expand.split(",")
        chunk = keys[offset : offset + page_size]
        body: dict[str, Any] = {"issues": [self._render(self.issues[key], fields, expand) for key in chunk]}
        if offset + page_size < len(keys):
            next_position = json.dumps({"q": fingerprint, "o": offset + page_size}).encode()
            body["nextPageToken"] = base64.urlsafe_b64encode(next_position).decode()
            body["isLast"] = False
        else:
            body["isLast"] = True
        return FakeResponse(200, body)

    def _changelog(self, key: str, call: RecordedCall) -> FakeResponse:
        issue = self.issues.get(key) or next((i for i in self.issues.values() if i["id"] == key), None)
        if issue is None:
            return FakeResponse(
                404,
                {
                    "errorMessages": ["Issue does not exist or you do not have permission to see it."],
                    "errors": {},
                },
            )
        start_at = int(call.query.get("startAt", ["0"])[-1])
        max_results = min(int(call.query.get("maxResults", ["100"])[-1]), 100)
        values = issue["histories"][start_at : start_at + max_results]
        return FakeResponse(
            200,
            {
                "self": f"{self.base_url}/rest/api/3/issue/{issue['key']}/changelog?startAt={start_at}",
                "maxResults": max_results,
                "startAt": start_at,
                "total": len(issue["histories"]),
                "isLast": start_at + max_results >= len(issue["histories"]),
                "values": values,
            },
        )
