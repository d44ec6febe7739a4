"""A fake Slack Web API: ``POST /api/<method>`` with arguments in the form body (as slack_sdk sends
them), the query string or a JSON body.

Methods: ``auth.test``, ``conversations.list`` (cursor paging), ``conversations.history`` (cursor,
``oldest``/``latest``/``inclusive``, ``has_more``, newest first), ``conversations.replies``,
``users.info`` (``profile.email``), ``conversations.open``, ``chat.postMessage`` and ``oauth.v2.access``
(the OAuth v2 install: the app's client id and secret in HTTP Basic auth, a code from ``approve_install``).

Like Slack, a bad token is HTTP 200 with ``{"ok": false, "error": "invalid_auth"}`` (``not_authed`` when
there is none), and a rate limit is HTTP 429 with ``Retry-After``.
"""

from __future__ import annotations

import base64
import itertools
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from tests.vendor_fakes.server import FakeResponse, FakeVendor, RecordedCall

_TEAM_ID = "T0ACME0001"
_BOT_USER_ID = "U0BOT00001"
_BOT_ID = "B0BOT00001"


def slack_ts(moment: datetime, sequence: int = 0) -> str:
    """A Slack message timestamp: seconds since the epoch, a dot, six digits that keep it unique."""
    return f"{int(moment.timestamp())}.{sequence % 1_000_000:06d}"


def _cursor(offset: int) -> str:
    return base64.b64encode(f"offset:{offset}".encode()).decode()


def _offset(cursor: str | None) -> int | None:
    if not cursor:
        return 0
    try:
        kind, _, value = base64.b64decode(cursor.encode()).decode().partition(":")
        return int(value) if kind == "offset" else None
    except ValueError:
        return None


def _flag(value: Any) -> bool:
    return str(value).lower() in ("1", "true")


DEFAULT_BOT_TOKEN = "xoxb-1111-2222-fakebottoken"
DEFAULT_CLIENT_ID = "1111111111.2222222222"
DEFAULT_CLIENT_SECRET = "fake-slack-app-client-secret"


class FakeSlack(FakeVendor):
    name = "slack"

    def __init__(
        self, *, bot_token: str = DEFAULT_BOT_TOKEN, team: str = "Acme", domain: str = "acme"
    ) -> None:
        super().__init__()
        self.bot_token = bot_token
        self.team = team
        self.domain = domain
        self.channels: dict[str, dict[str, Any]] = {}
        self.messages: dict[str, list[dict[str, Any]]] = {}
        self.replies: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self.users: dict[str, dict[str, Any]] = {}
        self.bot_member_of: set[str] = set()
        self.direct_channels: dict[str, str] = {}
        self.posted: list[dict[str, Any]] = []
        self.client_id = DEFAULT_CLIENT_ID
        self.client_secret = DEFAULT_CLIENT_SECRET
        # Install codes handed out by ``approve_install``, each good for one exchange.
        self.install_codes: dict[str, dict[str, str]] = {}
        self._sequence = itertools.count(100)
        self._channel_numbers = itertools.count(1)

    # --- the dataset ---

    def add_user(
        self, user_id: str, real_name: str, *, email: str | None = None, is_bot: bool = False
    ) -> dict[str, Any]:
        handle = real_name.lower().replace(" ", ".")
        profile: dict[str, Any] = {
            "title": "",
            "phone": "",
            "real_name": real_name,
            "real_name_normalized": real_name,
            "display_name": handle,
            "display_name_normalized": handle,
            "status_text": "",
            "status_emoji": "",
            "avatar_hash": "g1a2b3c4d5e6",
            "image_48": f"https://secure.gravatar.example/avatar/{user_id}.jpg?s=48",
            "team": _TEAM_ID,
        }
        if email:
            profile["email"] = email
        user = {
            "id": user_id,
            "team_id": _TEAM_ID,
            "name": handle,
            "deleted": False,
            "color": "9f69e7",
            "real_name": real_name,
            "tz": "Europe/London",
            "tz_label": "Greenwich Mean Time",
            "tz_offset": 0,
            "profile": profile,
            "is_admin": False,
            "is_owner": False,
            "is_bot": is_bot,
            "is_app_user": False,
            "updated": 1_700_000_000,
        }
        self.users[user_id] = user
        return user

    def add_channel(
        self,
        name: str,
        *,
        channel_id: str | None = None,
        is_private: bool = False,
        bot_is_member: bool = True,
    ) -> dict[str, Any]:
        channel_id = channel_id or f"C0{next(self._channel_numbers):08d}"
        channel = {
            "id": channel_id,
            "name": name,
            "is_channel": not is_private,
            "is_group": is_private,
            "is_im": False,
            "is_mpim": False,
            "is_private": is_private,
            "created": 1_690_000_000,
            "is_archived": False,
            "is_general": name == "general",
            "unlinked": 0,
            "name_normalized": name,
            "is_shared": False,
            "is_org_shared": False,
            "is_pending_ext_shared": False,
            "pending_shared": [],
            "context_team_id": _TEAM_ID,
            "updated": 1_690_000_000_000,
            "parent_conversation": None,
            "creator": "U0PRIYA001",
            "is_ext_shared": False,
            "shared_team_ids": [_TEAM_ID],
            "pending_connected_team_ids": [],
            "is_member": bot_is_member,
            "topic": {"value": "", "creator": "", "last_set": 0},
            "purpose": {"value": f"Work on {name}", "creator": "U0PRIYA001", "last_set": 1_690_000_000},
            "previous_names": [],
            "num_members": 12,
        }
        self.channels[channel_id] = channel
        self.messages.setdefault(channel_id, [])
        if bot_is_member:
            self.bot_member_of.add(channel_id)
        return channel

    def add_message(
        self, channel_id: str, *, user: str, text: str, when: datetime, thread_ts: str | None = None
    ) -> dict[str, Any]:
        """A message (or, with ``thread_ts``, a reply in that thread)."""
        ts = slack_ts(when, next(self._sequence))
        message: dict[str, Any] = {
            "user": user,
            "type": "message",
            "ts": ts,
            "client_msg_id": f"{ts.replace('.', '')}-0000-4000-8000-000000000000",
            "text": text,
            "team": _TEAM_ID,
            "blocks": [
                {
                    "type": "rich_text",
                    "block_id": ts[-5:],
                    "elements": [{"type": "rich_text_section", "elements": [{"type": "text", "text": text}]}],
                }
            ],
        }
        if thread_ts is None:
            self.messages.setdefault(channel_id, []).append(message)
            self.messages[channel_id].sort(key=lambda item: item["ts"])
            return message
        message["thread_ts"] = thread_ts
        message["parent_user_id"] = next(m["user"] for m in self.messages[channel_id] if m["ts"] == thread_ts)
        thread = self.replies.setdefault((channel_id, thread_ts), [])
        thread.append(message)
        parent = next(m for m in self.messages[channel_id] if m["ts"] == thread_ts)
        parent.update(
            {
                "thread_ts": thread_ts,
                "reply_count": len(thread),
                "reply_users_count": len({reply["user"] for reply in thread}),
                "latest_reply": thread[-1]["ts"],
                "reply_users": sorted({reply["user"] for reply in thread}),
                "is_locked": False,
                "subscribed": False,
            }
        )
        return message

    def generate_messages(
        self,
        channel_id: str,
        count: int,
        *,
        start: datetime,
        step: timedelta = timedelta(minutes=3),
        users: Sequence[str] = ("U0PRIYA001", "U0TOMAS001"),
    ) -> list[dict[str, Any]]:
        for user_id in users:
            if user_id not in self.users:
                self.add_user(
                    user_id, user_id[2:-3].title() or user_id, email=f"{user_id[2:-3].lower()}@acme.test"
                )
        return [
            self.add_message(
                channel_id,
                user=users[index % len(users)],
                text=f"Update {index + 1}: shipped the next checkout change",
                when=start + step * index,
            )
            for index in range(count)
        ]

    def approve_install(self, authorize_url: str) -> str:
        """What slack.com does when a person approves "Add to Slack": the redirect back, with a code.

        ``authorize_url`` is the address the product sent the person to; the answer is the callback URL
        (its ``redirect_uri``) with ``code`` and the ``state`` it was given. A browser sent to the fake's
        own ``/oauth/v2/authorize`` is redirected there at once.
        """
        return self._grant_install(
            {key: values[-1] for key, values in parse_qs(urlsplit(authorize_url).query).items()}
        )

    def _grant_install(self, query: dict[str, str]) -> str:
        assert query.get("client_id") == self.client_id, "The install names another app's client id."
        code = f"{next(self._sequence)}.install-code"
        self.install_codes[code] = {
            "redirect_uri": query.get("redirect_uri", ""),
            "scope": query.get("scope", ""),
        }
        return f"{query.get('redirect_uri', '')}?{urlencode({'code': code, 'state': query.get('state', '')})}"

    def _oauth_v2_access(self, call: RecordedCall) -> dict[str, Any]:
        params = call.params
        client_id, client_secret = params.get("client_id"), params.get("client_secret")
        authorization = call.header("Authorization") or ""
        if authorization.startswith("Basic "):
            client_id, _, client_secret = base64.b64decode(authorization[6:]).decode().partition(":")
        if client_id != self.client_id:
            return self._error("invalid_client_id")
        if client_secret != self.client_secret:
            return self._error("bad_client_secret")
        grant = self.install_codes.pop(str(params.get("code") or ""), None)
        if grant is None:
            return self._error("invalid_code")
        if params.get("redirect_uri") != grant["redirect_uri"]:
            return self._error("bad_redirect_uri")
        return {
            "ok": True,
            "access_token": self.bot_token,
            "token_type": "bot",
            "scope": grant["scope"],
            "bot_user_id": _BOT_USER_ID,
            "app_id": "A0OKRSIGNAL",
            "team": {"name": self.team, "id": _TEAM_ID},
            "enterprise": None,
            "is_enterprise_install": False,
            "authed_user": {"id": "U0PRIYA001"},
        }

    # --- the API ---

    def error_response(self, status: int, call: RecordedCall) -> FakeResponse:
        if status == 401:
            # Slack answers a refused token with HTTP 200.
            return FakeResponse(200, {"ok": False, "error": "invalid_auth"})
        if status == 429:
            return FakeResponse(429, {"ok": False, "error": "ratelimited"})
        if status >= 500:
            return FakeResponse(
                status, b"<html><body>Slack is having trouble. Please try again.</body></html>"
            )
        return FakeResponse(status, {"ok": False, "error": "invalid_request"})

    def handle(self, call: RecordedCall) -> FakeResponse:
        if call.path == "/oauth/v2/authorize" and call.method == "GET":
            # The approval page, approved at once: the browser goes straight back to the product.
            callback = self._grant_install({key: values[-1] for key, values in call.query.items()})
            return FakeResponse(302, b"", {"Location": callback})
        if not call.path.startswith("/api/"):
            return FakeResponse(404, b"Not found")
        method = call.path[len("/api/") :]
        if method == "oauth.v2.access":
            # Authenticated by the app's client id and secret, not by a token.
            return FakeResponse(200, self._oauth_v2_access(call))
        params = call.params
        authorization = call.header("Authorization") or ""
        token = (
            authorization.removeprefix("Bearer ").strip()
            if authorization.startswith("Bearer ")
            else params.get("token")
        )
        if not token:
            return FakeResponse(200, {"ok": False, "error": "not_authed"})
        if token != self.bot_token:
            return FakeResponse(200, {"ok": False, "error": "invalid_auth"})
        handler = {
            "auth.test": self._auth_test,
            "conversations.list": self._conversations_list,
            "conversations.history": self._conversations_history,
            "conversations.replies": self._conversations_replies,
            "users.info": self._users_info,
            "conversations.open": self._conversations_open,
            "chat.postMessage": self._chat_post_message,
        }.get(method)
        if handler is None:
            return FakeResponse(404, {"ok": False, "error": "unknown_method", "req_method": method})
        return FakeResponse(200, handler(params))

    @staticmethod
    def _error(code: str, **extra: Any) -> dict[str, Any]:
        return {"ok": False, "error": code, **extra}

    def _auth_test(self, params: dict[str, Any]) -> dict[str, Any]:
        return {
            "ok": True,
            "url": f"https://{self.domain}.slack.com/",
            "team": self.team,
            "user": "okrsignal",
            "team_id": _TEAM_ID,
            "user_id": _BOT_USER_ID,
            "bot_id": _BOT_ID,
            "is_enterprise_install": False,
        }

    def _conversations_list(self, params: dict[str, Any]) -> dict[str, Any]:
        types = set(str(params.get("types") or "public_channel").split(","))
        exclude_archived = _flag(params.get("exclude_archived", False))
        limit = min(int(params.get("limit") or 100), 1000)
        offset = _offset(params.get("cursor"))
        if offset is None:
            return self._error("invalid_cursor")
        visible = [
            channel
            for channel in self.channels.values()
            if (
                ("public_channel" in types and not channel["is_private"])
                # Private channels are listed only where the bot is a member.
                or (
                    "private_channel" in types
                    and channel["is_private"]
                    and channel["id"] in self.bot_member_of
                )
            )
            and not (exclude_archived and channel["is_archived"])
        ]
        chunk = visible[offset : offset + limit]
        more = offset + limit < len(visible)
        return {
            "ok": True,
            "channels": chunk,
            "response_metadata": {"next_cursor": _cursor(offset + limit) if more else ""},
        }

    def _readable_channel(self, channel_id: Any) -> dict[str, Any] | None:
        channel = self.channels.get(str(channel_id))
        if channel is None or (channel["is_private"] and channel["id"] not in self.bot_member_of):
            return self._error("channel_not_found")
        if channel["id"] not in self.bot_member_of:
            return self._error("not_in_channel")
        return None

    def _conversations_history(self, params: dict[str, Any]) -> dict[str, Any]:
        refusal = self._readable_channel(params.get("channel"))
        if refusal is not None:
            return refusal
        channel_id = str(params["channel"])
        inclusive = _flag(params.get("inclusive", False))
        oldest = float(params.get("oldest") or 0)
        latest = float(params["latest"]) if params.get("latest") else None
        limit = min(int(params.get("limit") or 100), 999)
        offset = _offset(params.get("cursor"))
        if offset is None:
            return self._error("invalid_cursor")

        def in_range(ts: float) -> bool:
            after_oldest = ts >= oldest if inclusive else ts > oldest
            before_latest = latest is None or (ts <= latest if inclusive else ts < latest)
            return after_oldest and before_latest

        newest_first = [
            message for message in reversed(self.messages[channel_id]) if in_range(float(message["ts"]))
        ]
        chunk = newest_first[offset : offset + limit]
        has_more = offset + limit < len(newest_first)
        body: dict[str, Any] = {
            "ok": True,
            "messages": chunk,
            "has_more": has_more,
            "pin_count": 0,
            "channel_actions_ts": None,
            "channel_actions_count": 0,
        }
        if has_more:
            body["response_metadata"] = {"next_cursor": _cursor(offset + limit)}
        return body

    def _conversations_replies(self, params: dict[str, Any]) -> dict[str, Any]:
        refusal = self._readable_channel(params.get("channel"))
        if refusal is not None:
            return refusal
        channel_id = str(params["channel"])
        thread_ts = str(params.get("ts") or "")
        parent = next((message for message in self.messages[channel_id] if message["ts"] == thread_ts), None)
        if parent is None:
            return self._error("thread_not_found")
        oldest = float(params.get("oldest") or 0)
        limit = min(int(params.get("limit") or 1000), 1000)
        offset = _offset(params.get("cursor"))
        if offset is None:
            return self._error("invalid_cursor")
        replies = [
            reply for reply in self.replies.get((channel_id, thread_ts), []) if float(reply["ts"]) > oldest
        ]
        thread = [parent, *replies]
        chunk = thread[offset : offset + limit]
        has_more = offset + limit < len(thread)
        body: dict[str, Any] = {"ok": True, "messages": chunk, "has_more": has_more}
        if has_more:
            body["response_metadata"] = {"next_cursor": _cursor(offset + limit)}
        return body

    def _users_info(self, params: dict[str, Any]) -> dict[str, Any]:
        user = self.users.get(str(params.get("user")))
        if user is None:
            return self._error("user_not_found")
        return {"ok": True, "user": user}

    def _conversations_open(self, params: dict[str, Any]) -> dict[str, Any]:
        user_id = str(params.get("users") or "")
        user = self.users.get(user_id)
        if user is None:
            return self._error("user_not_found")
        if user["is_bot"]:
            return self._error("cannot_dm_bot")
        already_open = user_id in self.direct_channels
        channel_id = self.direct_channels.setdefault(user_id, f"D0{len(self.direct_channels) + 1:08d}")
        return {
            "ok": True,
            "no_op": already_open,
            "already_open": already_open,
            "channel": {"id": channel_id},
        }

    def _chat_post_message(self, params: dict[str, Any]) -> dict[str, Any]:
        channel_id = str(params.get("channel") or "")
        if channel_id not in self.direct_channels.values() and channel_id not in self.channels:
            return self._error("channel_not_found")
        text = str(params.get("text") or "")
        if not text and not params.get("blocks"):
            return self._error("no_text")
        ts = slack_ts(datetime.now().astimezone(), next(self._sequence))
        message = {
            "bot_id": _BOT_ID,
            "type": "message",
            "text": text,
            "user": _BOT_USER_ID,
            "ts": ts,
            "app_id": "A0OKRSIGNAL",
            "team": _TEAM_ID,
        }
        self.posted.append({"channel": channel_id, **message})
        return {"ok": True, "channel": channel_id, "ts": ts, "message": message}
