"""The vendor clients against local fakes of Jira Cloud, Slack and HubSpot, and the rate limiter on Redis.

The official SDKs make real HTTP requests to the fakes; only the sleeping between retries is recorded
instead of waited for.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import redis
import requests
from django.conf import settings

from okrsignal.tenancy import tenant_cache_key, tenant_context
from signals_ingest.clients import (
    HUBSPOT_SEARCH_RESULT_CAP,
    CredentialsRefused,
    HubSpotClient,
    JiraClient,
    RetryPolicy,
    SlackClient,
    VendorRequestRejected,
    VendorUnavailable,
    jql_updated_since,
    parse_jira_time,
    parse_retry_after,
)
from signals_ingest.rate_limit import ProviderRateLimiter, RateLimitWaitTooLong, rate_limit_key
from tests.factories import OrgWorld
from tests.vendor_fakes import FakeHubSpot, FakeJira, FakeSlack

pytest_plugins = ["tests.vendor_fakes.fixtures"]

START = datetime(2025, 6, 2, 9, 0, tzinfo=UTC)


class SleepRecorder:
    """Stands in for time.sleep: records what the client asked to wait."""

    def __init__(self) -> None:
        self.seconds: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.seconds.append(seconds)


class CountingLimiter:
    """A limiter that always grants, counting the grants."""

    def __init__(self) -> None:
        self.acquired = 0

    def acquire(self) -> None:
        self.acquired += 1


@pytest.fixture
def sleeps() -> SleepRecorder:
    return SleepRecorder()


def _policy(sleeps: SleepRecorder, **overrides: Any) -> RetryPolicy:
    return RetryPolicy(**{"max_attempts": 4, "sleep": sleeps, **overrides})


def _jira(fake: FakeJira, sleeps: SleepRecorder, **overrides: Any) -> JiraClient:
    options: dict[str, Any] = {"email": fake.email, "api_token": fake.api_token, "retry": _policy(sleeps)}
    options.update(overrides)
    return JiraClient(site_url=fake.base_url, **options)


def _slack(fake: FakeSlack, sleeps: SleepRecorder, **overrides: Any) -> SlackClient:
    options: dict[str, Any] = {"bot_token": fake.bot_token, "retry": _policy(sleeps)}
    options.update(overrides)
    return SlackClient(base_url=f"{fake.base_url}/api/", **options)


def _hubspot(fake: FakeHubSpot, sleeps: SleepRecorder, **overrides: Any) -> HubSpotClient:
    options: dict[str, Any] = {"access_token": fake.access_token, "retry": _policy(sleeps)}
    options.update(overrides)
    return HubSpotClient(base_url=fake.base_url, **options)


def _unused_port_url() -> str:
    # Port 9 (discard) is closed on the test machines: connecting is refused at once.
    return "http://127.0.0.1:9"


# --- Retry-After --------------------------------------------------------------------------------------


def test_retry_after_is_read_as_seconds_or_as_an_http_date() -> None:
    assert parse_retry_after("7") == 7
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:30 GMT", now=1445412500) == 10
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None


# --- Jira ---------------------------------------------------------------------------------------------


def test_jira_connection_check_names_the_site_and_the_account(
    jira_fake: FakeJira, sleeps: SleepRecorder
) -> None:
    check = _jira(jira_fake, sleeps).test_connection()

    assert check.ok
    assert check.message == f"Connected to {jira_fake.base_url.removeprefix('http://')} as Priya Nair."


def test_jira_connection_check_with_a_wrong_token_says_it_was_refused_and_asks_once(
    jira_fake: FakeJira, sleeps: SleepRecorder
) -> None:
    check = _jira(jira_fake, sleeps, api_token="wrong").test_connection()

    assert not check.ok
    assert check.message == "The API token was refused (401). Check the account e-mail and the API token."
    assert len(jira_fake.calls) == 1
    assert sleeps.seconds == []


def test_jira_connection_check_says_when_the_site_cannot_be_reached(sleeps: SleepRecorder) -> None:
    client = JiraClient(
        site_url=_unused_port_url(), email="a@acme.test", api_token="t", retry=_policy(sleeps)
    )

    check = client.test_connection()

    assert not check.ok
    assert check.message == "Could not reach 127.0.0.1:9 (Connection refused)."
    assert sleeps.seconds == []


def test_jira_search_pages_through_every_updated_issue_once_in_order(
    jira_fake: FakeJira, sleeps: SleepRecorder
) -> None:
    jira_fake.generate_issues(250, start=START)
    client = _jira(jira_fake, sleeps)

    pages = list(
        client.search_updated_since(
            cursor=START, overlap=timedelta(minutes=10), story_points_field="Story point estimate"
        )
    )

    assert [len(page.issues) for page in pages] == [100, 100, 50]
    assert [page.is_last for page in pages] == [False, False, True]
    keys = [issue["key"] for page in pages for issue in page.issues]
    assert keys == [f"ENG-{number}" for number in range(1, 251)]
    assert pages[0].story_points_field == "customfield_10016"
    searches = jira_fake.calls_to("/rest/api/3/search/jql")
    assert [call.method for call in searches] == ["POST", "POST", "POST"]
    first, second = searches[0].json, searches[1].json
    assert first["expand"] == "changelog"
    assert "customfield_10016" in first["fields"]
    assert "nextPageToken" not in first
    assert second["nextPageToken"] == pages[0].next_page_token
    assert second["jql"] == first["jql"]


def test_jira_search_fetches_a_page_only_when_the_previous_one_was_taken(
    jira_fake: FakeJira, sleeps: SleepRecorder
) -> None:
    jira_fake.generate_issues(250, start=START)
    pages = _jira(jira_fake, sleeps).search_updated_since(cursor=START, overlap=timedelta(0))

    first = next(pages)

    assert len(jira_fake.calls_to("/search/jql")) == 1
    assert first.latest_updated == START + timedelta(minutes=7 * 99)


def test_jira_search_resumes_from_a_stored_page_token(jira_fake: FakeJira, sleeps: SleepRecorder) -> None:
    jira_fake.generate_issues(250, start=START)
    client = _jira(jira_fake, sleeps)
    stored_token = next(client.search_updated_since(cursor=START, overlap=timedelta(0))).next_page_token

    resumed = list(
        client.search_updated_since(cursor=START, overlap=timedelta(0), next_page_token=stored_token)
    )

    assert [issue["key"] for page in resumed for issue in page.issues] == [
        f"ENG-{n}" for n in range(101, 251)
    ]


def test_jira_search_reads_the_cursor_in_the_accounts_time_zone(
    jira_fake: FakeJira, sleeps: SleepRecorder
) -> None:
    jira_fake.generate_issues(20, start=START, step=timedelta(minutes=10))
    cursor = START + timedelta(minutes=100, seconds=30)

    pages = list(_jira(jira_fake, sleeps).search_updated_since(cursor=cursor, overlap=timedelta(minutes=15)))

    # 10:40:30 UTC less 15 minutes is 10:25:30, 11:25 in London (BST): rounded down, 10:25 UTC onwards.
    assert pages[0].jql == 'updated >= "2025-06-02 11:25" ORDER BY updated ASC, key ASC'
    updated = [parse_jira_time(issue["fields"]["updated"]) for page in pages for issue in page.issues]
    assert min(updated) == START + timedelta(minutes=90)
    assert len(updated) == 11


def test_jql_names_the_projects_and_refuses_anything_else() -> None:
    jql = jql_updated_since(START, time_zone="UTC", project_keys=["ENG", "OPS"])

    assert jql == 'project in ("ENG", "OPS") AND updated >= "2025-06-02 09:00" ORDER BY updated ASC, key ASC'
    with pytest.raises(ValueError, match="not a Jira project key"):
        jql_updated_since(START, time_zone="UTC", project_keys=['ENG") OR ("1"="1'])


def test_jira_issues_carry_status_transitions_links_and_story_points(
    jira_fake: FakeJira, sleeps: SleepRecorder
) -> None:
    jira_fake.add_issue(key="ENG-1", summary="Payment provider outage", updated=START, status="In Progress")
    jira_fake.add_issue(
        key="ENG-2",
        summary="Faster checkout",
        updated=START + timedelta(minutes=5),
        status="In Review",
        labels=["okr-growth"],
        story_points=5,
        blocked_by=["ENG-1"],
        transitions=[
            (START, "To Do", "In Progress", jira_fake.people[1]),
            (START + timedelta(minutes=4), "In Progress", "In Review", jira_fake.people[1]),
        ],
    )

    page = next(
        _jira(jira_fake, sleeps).search_updated_since(
            cursor=START, overlap=timedelta(0), story_points_field="customfield_10016"
        )
    )

    issue = page.issues[1]
    assert issue["fields"]["customfield_10016"] == 5
    assert issue["fields"]["issuelinks"][0]["type"]["inward"] == "is blocked by"
    assert issue["fields"]["issuelinks"][0]["inwardIssue"]["key"] == "ENG-1"
    items = [history["items"][0] for history in issue["changelog"]["histories"]]
    assert [(item["fromString"], item["toString"]) for item in items] == [
        ("To Do", "In Progress"),
        ("In Progress", "In Review"),
    ]
    assert issue["changelog"]["histories"][0]["author"]["displayName"] == "Tomas Herrera"


def test_jira_long_changelog_is_read_on_from_where_the_search_stopped(
    jira_fake: FakeJira, sleeps: SleepRecorder
) -> None:
    person = jira_fake.people[0]
    transitions = [
        (
            START + timedelta(minutes=index),
            "To Do" if index % 2 == 0 else "In Progress",
            "In Progress" if index % 2 == 0 else "To Do",
            person,
        )
        for index in range(45)
    ]
    jira_fake.add_issue(
        key="ENG-7", summary="Flaky", updated=START + timedelta(hours=1), transitions=transitions
    )
    client = _jira(jira_fake, sleeps)
    page = next(client.search_updated_since(cursor=START, overlap=timedelta(0)))

    assert page.keys_with_more_changelog == ["ENG-7"]
    rest = client.issue_changelog_page("ENG-7", start_at=len(page.issues[0]["changelog"]["histories"]))
    assert rest["startAt"] == 40
    assert len(rest["values"]) == 5
    assert rest["isLast"] is True


def test_jira_fake_answers_the_get_form_of_the_enhanced_search(jira_fake: FakeJira) -> None:
    jira_fake.generate_issues(3, start=START)

    response = requests.get(
        f"{jira_fake.base_url}/rest/api/3/search/jql",
        params={"jql": 'updated >= "2025-06-02 09:00"', "fields": "summary,status", "maxResults": 2},
        auth=(jira_fake.email, jira_fake.api_token),
        timeout=5,
    )

    body = response.json()
    assert [issue["key"] for issue in body["issues"]] == ["ENG-1", "ENG-2"]
    assert set(body["issues"][0]["fields"]) == {"summary", "status"}
    assert body["isLast"] is False
    assert body["nextPageToken"]


def test_jira_429_waits_exactly_as_long_as_retry_after_asks(
    jira_fake: FakeJira, sleeps: SleepRecorder
) -> None:
    jira_fake.generate_issues(3, start=START)
    jira_fake.fail_next(2, status=429, retry_after=7, path_contains="/search/jql")

    page = _jira(jira_fake, sleeps).search_page(jql='updated >= "2025-06-02 09:00"')

    assert len(page.issues) == 3
    assert sleeps.seconds == [7, 7]
    assert len(jira_fake.calls_to("/search/jql")) == 3


def test_jira_server_errors_are_retried_with_jittered_backoff_then_succeed(
    jira_fake: FakeJira, sleeps: SleepRecorder
) -> None:
    jira_fake.generate_issues(3, start=START)
    jira_fake.fail_next(1, status=503)
    jira_fake.fail_next(1, status=500)

    page = _jira(jira_fake, sleeps, retry=_policy(sleeps, base_delay_seconds=2)).search_page(
        jql='updated >= "2025-06-02 09:00"'
    )

    assert len(page.issues) == 3
    assert len(sleeps.seconds) == 2
    assert 0 <= sleeps.seconds[0] <= 2
    assert 0 <= sleeps.seconds[1] <= 4


def test_jira_gives_up_after_the_allowed_attempts(jira_fake: FakeJira, sleeps: SleepRecorder) -> None:
    jira_fake.fail_next(3, status=502)
    client = _jira(jira_fake, sleeps, retry=_policy(sleeps, max_attempts=3))

    with pytest.raises(VendorUnavailable, match=r"Jira answered 502\. Gave up after 3 attempts\."):
        client.search_page(jql='updated >= "2025-06-02 09:00"')

    assert len(sleeps.seconds) == 2


def test_jira_401_is_raised_at_once_without_retrying(jira_fake: FakeJira, sleeps: SleepRecorder) -> None:
    jira_fake.fail_next(1, status=401)

    with pytest.raises(CredentialsRefused, match="The API token was refused"):
        _jira(jira_fake, sleeps).search_page(jql='updated >= "2025-06-02 09:00"')

    assert len(jira_fake.calls) == 1
    assert sleeps.seconds == []


def test_jira_bad_request_is_explained_and_not_retried(jira_fake: FakeJira, sleeps: SleepRecorder) -> None:
    with pytest.raises(
        VendorRequestRejected, match=r"Jira refused the request \(400\): Error in the JQL Query"
    ):
        _jira(jira_fake, sleeps).search_page(jql='summary ~ "checkout"')

    assert sleeps.seconds == []


def test_a_retry_after_too_long_to_sleep_through_is_handed_back(
    jira_fake: FakeJira, sleeps: SleepRecorder
) -> None:
    jira_fake.fail_next(1, status=429, retry_after=3600)

    with pytest.raises(VendorUnavailable) as unavailable:
        _jira(jira_fake, sleeps).search_page(jql='updated >= "2025-06-02 09:00"')

    assert unavailable.value.retry_after == 3600
    assert sleeps.seconds == []


def test_every_attempt_takes_a_slot_from_the_rate_limiter(jira_fake: FakeJira, sleeps: SleepRecorder) -> None:
    limiter = CountingLimiter()
    jira_fake.fail_next(1, status=429, retry_after=1)

    _jira(jira_fake, sleeps, limiter=limiter).search_page(jql='updated >= "2025-06-02 09:00"')

    assert limiter.acquired == len(jira_fake.calls) == 2


# --- Slack --------------------------------------------------------------------------------------------


def test_slack_connection_check_names_the_workspace(slack_fake: FakeSlack, sleeps: SleepRecorder) -> None:
    check = _slack(slack_fake, sleeps).test_connection()

    assert check.ok
    assert check.message == "Connected to the Acme workspace (acme.slack.com) as okrsignal."


def test_slack_wrong_token_is_refused_as_slack_says_with_http_200(
    slack_fake: FakeSlack, sleeps: SleepRecorder
) -> None:
    client = _slack(slack_fake, sleeps, bot_token="xoxb-wrong")

    check = client.test_connection()
    with pytest.raises(CredentialsRefused, match=r"invalid_auth"):
        client.channel_history_page("C0000000001")

    assert not check.ok
    assert (
        check.message == "Slack refused the bot token (invalid_auth). Reinstall the app or enter a new token."
    )
    assert len(slack_fake.calls) == 2
    assert sleeps.seconds == []


def test_slack_channels_are_listed_across_pages_and_private_ones_only_when_asked(
    slack_fake: FakeSlack, sleeps: SleepRecorder
) -> None:
    for number in range(450):
        slack_fake.add_channel(f"team-{number}")
    slack_fake.add_channel("leadership", is_private=True)
    client = _slack(slack_fake, sleeps)

    public = client.list_channels()
    everything = client.list_channels(include_private=True)

    assert len(public) == 450
    assert len({channel["id"] for channel in public}) == 450
    assert len(everything) == 451
    assert len(slack_fake.calls_to("conversations.list")) == 6


def test_slack_history_pages_newest_first_after_oldest(slack_fake: FakeSlack, sleeps: SleepRecorder) -> None:
    channel = slack_fake.add_channel("growth")
    messages = slack_fake.generate_messages(channel["id"], 250, start=START)
    oldest = messages[49]["ts"]
    client = _slack(slack_fake, sleeps)

    pages = [client.channel_history_page(channel["id"], oldest=oldest, limit=80)]
    while pages[-1].next_cursor:
        pages.append(
            client.channel_history_page(channel["id"], oldest=oldest, cursor=pages[-1].next_cursor, limit=80)
        )

    assert [len(page.messages) for page in pages] == [80, 80, 40]
    assert [page.has_more for page in pages] == [True, True, False]
    seen = [message["ts"] for page in pages for message in page.messages]
    assert seen == [message["ts"] for message in reversed(messages[50:])]
    calls = slack_fake.calls_to("conversations.history")
    assert all(call.params["oldest"] == oldest for call in calls)


def test_slack_thread_replies_come_with_their_parent(slack_fake: FakeSlack, sleeps: SleepRecorder) -> None:
    channel = slack_fake.add_channel("growth")
    parent = slack_fake.generate_messages(channel["id"], 1, start=START)[0]
    slack_fake.add_message(
        channel["id"],
        user="U0TOMAS001",
        text="On it",
        when=START + timedelta(minutes=1),
        thread_ts=parent["ts"],
    )

    page = _slack(slack_fake, sleeps).thread_replies_page(channel["id"], parent["ts"])

    assert [message["text"] for message in page.messages] == [parent["text"], "On it"]
    assert page.messages[1]["thread_ts"] == parent["ts"]


def test_slack_429_waits_as_retry_after_asks_and_5xx_is_retried(
    slack_fake: FakeSlack, sleeps: SleepRecorder
) -> None:
    channel = slack_fake.add_channel("growth")
    slack_fake.generate_messages(channel["id"], 5, start=START)
    slack_fake.fail_next(1, status=429, retry_after=3)
    slack_fake.fail_next(1, status=503)

    page = _slack(slack_fake, sleeps).channel_history_page(channel["id"])

    assert len(page.messages) == 5
    assert sleeps.seconds[0] == 3
    assert len(sleeps.seconds) == 2


def test_slack_unreachable_is_retried_by_the_client_alone(sleeps: SleepRecorder) -> None:
    client = SlackClient(
        bot_token="xoxb-any", base_url=f"{_unused_port_url()}/api/", retry=_policy(sleeps, max_attempts=3)
    )

    with pytest.raises(
        VendorUnavailable, match=r"Could not reach Slack \(Connection refused\)\. Gave up after 3"
    ):
        client.auth_test()

    assert len(sleeps.seconds) == 2


@pytest.mark.parametrize(
    ("make_channel", "code", "explained"),
    [
        (
            lambda fake: "C0NOSUCH01",
            "channel_not_found",
            "the channel does not exist, or the app cannot see it",
        ),
        (lambda fake: fake.add_channel("sales", bot_is_member=False)["id"], "not_in_channel", "invite it"),
    ],
)
def test_slack_ok_false_errors_are_surfaced_with_their_code(
    slack_fake: FakeSlack, sleeps: SleepRecorder, make_channel: Any, code: str, explained: str
) -> None:
    channel_id = make_channel(slack_fake)

    with pytest.raises(VendorRequestRejected, match=explained) as rejected:
        _slack(slack_fake, sleeps).channel_history_page(channel_id)

    assert rejected.value.code == code
    assert f"({code})" in rejected.value.message
    assert sleeps.seconds == []


def test_slack_user_email_comes_from_the_profile_when_slack_gives_it(
    slack_fake: FakeSlack, sleeps: SleepRecorder
) -> None:
    slack_fake.add_user("U0PRIYA001", "Priya Nair", email="priya.nair@acme.test")
    slack_fake.add_user("U0DEPLOY01", "Deploy Bot", is_bot=True)
    client = _slack(slack_fake, sleeps)

    assert client.user_email("U0PRIYA001") == "priya.nair@acme.test"
    assert client.user_email("U0DEPLOY01") is None
    with pytest.raises(VendorRequestRejected, match="no such user"):
        client.user_email("U0NOBODY01")


def test_slack_direct_message_opens_the_conversation_and_posts_once(
    slack_fake: FakeSlack, sleeps: SleepRecorder
) -> None:
    slack_fake.add_user("U0PRIYA001", "Priya Nair", email="priya.nair@acme.test")
    client = _slack(slack_fake, sleeps)

    ts = client.send_direct_message("U0PRIYA001", "Your key result has had no activity for two weeks.")

    assert slack_fake.posted == [
        {**slack_fake.posted[0], "channel": slack_fake.direct_channels["U0PRIYA001"], "ts": ts}
    ]
    assert slack_fake.posted[0]["text"] == "Your key result has had no activity for two weeks."


def test_slack_direct_message_is_not_resent_after_a_server_error(
    slack_fake: FakeSlack, sleeps: SleepRecorder
) -> None:
    slack_fake.add_user("U0PRIYA001", "Priya Nair")
    slack_fake.fail_next(1, status=500, path_contains="chat.postMessage")

    with pytest.raises(VendorUnavailable, match="may have taken effect"):
        _slack(slack_fake, sleeps).send_direct_message("U0PRIYA001", "Hello")

    assert len(slack_fake.calls_to("chat.postMessage")) == 1


# --- HubSpot ------------------------------------------------------------------------------------------


def test_hubspot_connection_check_counts_the_deals(hubspot_fake: FakeHubSpot, sleeps: SleepRecorder) -> None:
    hubspot_fake.generate_deals(3, start=START)

    check = _hubspot(hubspot_fake, sleeps).test_connection()

    assert check.ok
    assert check.message == "Connected to HubSpot: the token reads deals (3 in the account)."


def test_hubspot_wrong_token_is_refused_at_once(hubspot_fake: FakeHubSpot, sleeps: SleepRecorder) -> None:
    client = _hubspot(hubspot_fake, sleeps, access_token="pat-na1-wrong")

    check = client.test_connection()
    with pytest.raises(CredentialsRefused, match=r"HubSpot refused the access token \(401\)"):
        client.search_modified_page("deals", start=START, end=START + timedelta(days=1))

    assert not check.ok
    assert check.message.startswith(
        "HubSpot refused the access token (401): Authentication credentials not found."
    )
    assert len(hubspot_fake.calls) == 2
    assert sleeps.seconds == []


def test_hubspot_search_pages_a_window_with_after(hubspot_fake: FakeHubSpot, sleeps: SleepRecorder) -> None:
    deals = hubspot_fake.generate_deals(450, start=START, step=timedelta(minutes=1))
    client = _hubspot(hubspot_fake, sleeps)
    end = START + timedelta(days=1)

    pages = [client.search_modified_page("deals", start=START, end=end, properties=["dealname", "dealstage"])]
    while not pages[-1].window_done:
        pages.append(
            client.search_modified_page(
                "deals", start=START, end=end, after=pages[-1].next_after, properties=["dealname"]
            )
        )

    assert [len(page.results) for page in pages] == [200, 200, 50]
    assert [page.next_after for page in pages] == ["200", "400", None]
    assert [result["id"] for page in pages for result in page.results] == [deal["id"] for deal in deals]
    assert pages[0].results[0]["properties"]["dealname"] == "Acme renewal 1"
    request = hubspot_fake.calls_to("/search")[0].json
    assert request["limit"] == 200
    assert request["sorts"] == [{"propertyName": "hs_lastmodifieddate", "direction": "ASCENDING"}]
    assert {f["operator"] for f in request["filterGroups"][0]["filters"]} == {"GTE", "LT"}


def test_hubspot_fake_refuses_to_page_beyond_ten_thousand_results(hubspot_fake: FakeHubSpot) -> None:
    response = requests.post(
        f"{hubspot_fake.base_url}/crm/v3/objects/deals/search",
        json={"limit": 200, "after": "10000"},
        headers={"Authorization": f"Bearer {hubspot_fake.access_token}"},
        timeout=5,
    )

    assert response.status_code == 400
    assert response.json()["category"] == "VALIDATION_ERROR"


def test_hubspot_windows_are_halved_until_they_fit_under_the_search_cap(
    hubspot_fake: FakeHubSpot, sleeps: SleepRecorder
) -> None:
    deals = hubspot_fake.generate_deals(12_001, start=START, step=timedelta(minutes=1))
    client = _hubspot(hubspot_fake, sleeps)
    end = START + timedelta(minutes=12_001)

    seen: list[str] = []
    window_start, window_end, after = START, end, None
    first_page = None
    while window_start < end:
        page = client.search_modified_page("deals", start=window_start, end=window_end, after=after)
        first_page = first_page or page
        assert page.total <= HUBSPOT_SEARCH_RESULT_CAP
        seen.extend(result["id"] for result in page.results)
        if page.window_done:
            window_start, window_end, after = page.window_end, end, None
        else:
            window_end, after = page.window_end, page.next_after

    assert first_page is not None
    assert first_page.window_end == START + timedelta(minutes=12_001 / 2)
    assert seen == [deal["id"] for deal in deals]
    assert all(
        int((call.json or {}).get("after", 0)) < HUBSPOT_SEARCH_RESULT_CAP for call in hubspot_fake.calls
    )


def test_hubspot_429_waits_as_retry_after_asks_and_5xx_is_retried(
    hubspot_fake: FakeHubSpot, sleeps: SleepRecorder
) -> None:
    hubspot_fake.generate_deals(3, start=START)
    hubspot_fake.fail_next(1, status=429, retry_after=2)
    hubspot_fake.fail_next(1, status=502)

    page = _hubspot(hubspot_fake, sleeps).search_modified_page(
        "deals", start=START, end=START + timedelta(days=1)
    )

    assert len(page.results) == 3
    assert sleeps.seconds[0] == 2
    assert len(sleeps.seconds) == 2


def test_hubspot_get_answered_429_is_retried_once_per_attempt_not_by_the_sdk_as_well(
    hubspot_fake: FakeHubSpot, sleeps: SleepRecorder
) -> None:
    hubspot_fake.fail_next(1, status=429, retry_after=1)

    owners = _hubspot(hubspot_fake, sleeps).list_owners()

    assert len(owners) == 2
    assert sleeps.seconds == [1]
    assert len(hubspot_fake.calls_to("/crm/v3/owners")) == 2


def test_hubspot_engagements_are_read_with_their_deals(
    hubspot_fake: FakeHubSpot, sleeps: SleepRecorder
) -> None:
    deals = hubspot_fake.generate_deals(2, start=START)
    linked = hubspot_fake.generate_engagements(
        "calls", 120, start=START, deal_ids=[deal["id"] for deal in deals]
    )
    unlinked = hubspot_fake.add_engagement("calls", modified=START)
    ids = [call["id"] for call in linked] + [unlinked["id"], "99999999999"]

    objects = _hubspot(hubspot_fake, sleeps).read_objects_with_deal_associations(
        "calls", ids, properties=["hs_call_title", "hs_timestamp"]
    )

    assert [obj["id"] for obj in objects] == ids[:-1]
    assert objects[0]["associations"]["deals"]["results"] == [{"id": deals[0]["id"], "type": "call_to_deal"}]
    assert objects[1]["associations"]["deals"]["results"] == [{"id": deals[1]["id"], "type": "call_to_deal"}]
    assert objects[-1]["associations"]["deals"]["results"] == []
    assert objects[0]["properties"]["hs_call_title"] == "Call 1 about the renewal"
    assert (
        len(hubspot_fake.calls_to("/batch/read")) == 4
    )  # two batches of at most 100, each with its associations


def test_hubspot_single_object_read_carries_its_deals_or_is_none(
    hubspot_fake: FakeHubSpot, sleeps: SleepRecorder
) -> None:
    deal = hubspot_fake.generate_deals(1, start=START)[0]
    note = hubspot_fake.add_engagement("notes", modified=START, deal_ids=[deal["id"]])
    client = _hubspot(hubspot_fake, sleeps)

    found = client.read_object_with_deal_associations("notes", note["id"], properties=["hs_note_body"])

    assert found is not None
    assert found["associations"]["deals"]["results"] == [{"id": deal["id"], "type": "note_to_deal"}]
    assert client.read_object_with_deal_associations("notes", "99999999999") is None
    assert "associations=deals" in _query_of(hubspot_fake.calls_to(f"/notes/{note['id']}")[0])


def _query_of(call: Any) -> str:
    return "&".join(f"{key}={value}" for key, values in call.query.items() for value in values)


def test_hubspot_archived_objects_are_listed_apart_and_left_out_of_search(
    hubspot_fake: FakeHubSpot, sleeps: SleepRecorder
) -> None:
    deals = hubspot_fake.generate_deals(3, start=START)
    hubspot_fake.archive("deals", deals[1]["id"], when=START + timedelta(hours=2))
    client = _hubspot(hubspot_fake, sleeps)

    archived = client.archived_page("deals")
    searched = client.search_modified_page("deals", start=START, end=START + timedelta(days=1))

    assert [(obj["id"], obj["archived"], obj["archivedAt"]) for obj in archived.results] == [
        (deals[1]["id"], True, "2025-06-02T11:00:00.000Z")
    ]
    assert archived.next_after is None
    assert deals[1]["id"] not in [obj["id"] for obj in searched.results]


def test_hubspot_owners_come_with_their_emails_and_pipelines_with_stages(
    hubspot_fake: FakeHubSpot, sleeps: SleepRecorder
) -> None:
    for number in range(150):
        hubspot_fake.add_owner("Rep", f"Number{number}", f"rep{number}@acme.test")
    client = _hubspot(hubspot_fake, sleeps)

    owners = client.list_owners()
    pipelines = client.deal_pipelines()

    assert len(owners) == 152
    assert owners[0]["email"] == "priya.nair@acme.test"
    assert pipelines[0]["id"] == "default"
    assert pipelines[0]["stages"][-2]["id"] == "closedwon"
    assert pipelines[0]["stages"][-2]["metadata"]["isClosed"] == "true"


# --- The rate limiter ---------------------------------------------------------------------------------


def _organization_id() -> int:
    """An organisation id no other test run uses, so buckets never carry over."""
    return uuid.uuid4().int % 2**40 + 10**12


def _bucket(key: str) -> dict[bytes, bytes]:
    client = redis.Redis.from_url(settings.CACHE_URL)
    return client.hgetall(key)  # type: ignore[return-value]


def test_the_limit_is_enforced_per_organisation_and_provider() -> None:
    organization = _organization_id()
    limiter = ProviderRateLimiter(organization_id=organization, provider="jira", per_minute=120)

    first, second, third = limiter.try_acquire(), limiter.try_acquire(), limiter.try_acquire()

    assert (first, second) == (0.0, 0.0)
    assert 0 < third <= 0.5
    assert _bucket(rate_limit_key(organization, "jira"))


def test_two_organisations_do_not_share_a_bucket() -> None:
    exhausted = ProviderRateLimiter(organization_id=_organization_id(), provider="hubspot", per_minute=60)
    other = ProviderRateLimiter(organization_id=_organization_id(), provider="hubspot", per_minute=60)

    assert exhausted.try_acquire() == 0.0
    assert exhausted.try_acquire() > 0

    assert other.try_acquire() == 0.0


def test_one_organisations_providers_do_not_share_a_bucket() -> None:
    organization = _organization_id()
    jira = ProviderRateLimiter(organization_id=organization, provider="jira", per_minute=60)
    slack = ProviderRateLimiter(organization_id=organization, provider="slack", per_minute=60)

    assert jira.try_acquire() == 0.0
    assert jira.try_acquire() > 0

    assert slack.try_acquire() == 0.0


def test_acquire_waits_for_the_next_slot() -> None:
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        import time

        time.sleep(seconds)

    limiter = ProviderRateLimiter(
        organization_id=_organization_id(), provider="slack", per_minute=240, sleep=sleep
    )

    for _ in range(5):
        limiter.acquire()

    # 240 a minute holds 4 at once and refills one every quarter second.
    assert len(waits) >= 1
    assert all(0 < wait <= 0.25 for wait in waits)


def test_a_wait_longer_than_allowed_is_refused_instead_of_slept() -> None:
    limiter = ProviderRateLimiter(
        organization_id=_organization_id(), provider="jira", per_minute=1, max_wait_seconds=5
    )
    limiter.acquire()

    with pytest.raises(RateLimitWaitTooLong) as refused:
        limiter.acquire()

    assert 55 < refused.value.wait_seconds <= 60


def test_a_client_over_its_budget_hands_the_wait_back(jira_fake: FakeJira, sleeps: SleepRecorder) -> None:
    limiter = ProviderRateLimiter(
        organization_id=_organization_id(), provider="jira", per_minute=1, max_wait_seconds=5
    )
    client = _jira(jira_fake, sleeps, limiter=limiter)
    client.search_page(jql='updated >= "2025-06-02 09:00"')

    with pytest.raises(VendorUnavailable) as unavailable:
        client.search_page(jql='updated >= "2025-06-02 09:00"')

    assert unavailable.value.retry_after is not None
    assert unavailable.value.retry_after > 55
    assert len(jira_fake.calls) == 1


def test_the_bucket_key_is_the_tenant_cache_key(acme: OrgWorld) -> None:
    with tenant_context(acme.organization):
        limiter = ProviderRateLimiter.for_current_organization("hubspot")

        assert limiter.key == tenant_cache_key("rate-limit", "hubspot")
    assert str(acme.organization.pk) in limiter.key


def test_limits_come_from_the_settings() -> None:
    limiter = ProviderRateLimiter(organization_id=_organization_id(), provider="hubspot")

    assert limiter.rate_per_second == settings.VENDOR_REQUESTS_PER_MINUTE["hubspot"] / 60
    with pytest.raises(ValueError, match="Unknown provider"):
        ProviderRateLimiter(organization_id=1, provider="github")
