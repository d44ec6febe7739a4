"""Local HTTP fakes of the vendors' APIs (Jira Cloud, Slack, HubSpot), answering with their real payload
shapes, for tests of the clients, pulls and connection checks. Vendors are faked only at the HTTP boundary:
the official SDKs make real requests to these servers.

Use the fixtures in ``tests.vendor_fakes.fixtures`` (``pytest_plugins = ["tests.vendor_fakes.fixtures"]``):
``jira_fake``, ``slack_fake``, ``hubspot_fake``. Each yields a started fake with ``base_url``, an
in-memory dataset the test fills (``add_*`` and ``generate_*``), fault injection (``fail_next``) and a
log of the calls it answered (``calls``, ``calls_to``).
"""

from tests.vendor_fakes.hubspot import FakeHubSpot
from tests.vendor_fakes.jira import FakeJira
from tests.vendor_fakes.server import FakeResponse, FakeVendor, RecordedCall
from tests.vendor_fakes.slack import FakeSlack

__all__ = ["FakeHubSpot", "FakeJira", "FakeResponse", "FakeSlack", "FakeVendor", "RecordedCall"]
