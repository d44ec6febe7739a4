"""Fixtures that start a vendor fake for one test and stop it afterwards.

Load them as a plugin in the test module that needs them (or once in ``tests/conftest.py``)::

    pytest_plugins = ["tests.vendor_fakes.fixtures"]

Each yields the started fake: ``fake.base_url`` is what a client is pointed at (Jira's site URL,
HubSpot's API host; Slack's Web API lives under ``fake.base_url + "/api/"``), and the fake's
credentials (``jira_fake.email`` / ``jira_fake.api_token``, ``slack_fake.bot_token``,
``hubspot_fake.access_token``) are the ones it accepts. ``jira_fake`` and ``hubspot_fake`` also play the
vendors' OAuth servers: their ``client_id`` / ``client_secret`` are OKRSignal's app's, ``approve_install``
consents, and the access tokens they issue are accepted by their APIs until they expire.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.vendor_fakes.hubspot import FakeHubSpot
from tests.vendor_fakes.jira import FakeJira
from tests.vendor_fakes.slack import FakeSlack


@pytest.fixture
def jira_fake() -> Iterator[FakeJira]:
    fake = FakeJira()
    fake.start()
    yield fake
    fake.stop()


@pytest.fixture
def slack_fake() -> Iterator[FakeSlack]:
    fake = FakeSlack()
    fake.start()
    yield fake
    fake.stop()


@pytest.fixture
def hubspot_fake() -> Iterator[FakeHubSpot]:
    fake = FakeHubSpot()
    fake.start()
    yield fake
    fake.stop()
