"""The API's description: a valid OpenAPI 3 document anyone can read, and interactive docs served from our
own static files under the site's Content-Security-Policy."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders
from django.core.management import call_command
from django.test import Client
from openapi_spec_validator import validate
from playwright.sync_api import Page, expect
from pytest_django.live_server_helper import LiveServer

from tests.browser import screenshot

SCHEMA_URL = "/api/v1/schema/"
DOCS_URL = "/api/v1/docs/"
GOAL_PATHS = [
    "/api/v1/o/{org_slug}/cycles/",
    "/api/v1/o/{org_slug}/objectives/",
    "/api/v1/o/{org_slug}/objectives/{id}/state/",
    "/api/v1/o/{org_slug}/objectives/{id}/confirm-alignment/",
    "/api/v1/o/{org_slug}/key-results/",
    "/api/v1/o/{org_slug}/key-results/{id}/progress/",
    "/api/v1/o/{org_slug}/initiatives/",
    "/api/v1/o/{org_slug}/kpis/",
    "/api/v1/o/{org_slug}/kpi-readings/",
]


def schema_as_json() -> dict:
    response = Client().get(SCHEMA_URL, {"format": "json"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.oai.openapi+json")
    return json.loads(response.content)


def test_the_schema_is_json_with_format_json_and_needs_no_sign_in(db: None) -> None:
    assert schema_as_json()["openapi"].startswith("3.")


def test_the_schema_is_a_valid_openapi_document(db: None) -> None:
    validate(schema_as_json())


def test_the_schema_describes_the_goal_api(db: None) -> None:
    schema = schema_as_json()

    assert set(GOAL_PATHS) <= set(schema["paths"])
    assert schema["components"]["securitySchemes"]["apiToken"] == {
        "type": "http",
        "scheme": "bearer",
        "description": schema["components"]["securitySchemes"]["apiToken"]["description"],
    }
    objective_filters = {
        parameter["name"]
        for parameter in schema["paths"]["/api/v1/o/{org_slug}/objectives/"]["get"]["parameters"]
    }
    assert {"cycle", "level", "owner", "team", "state", "parent", "page"} <= objective_filters


def test_generating_the_schema_gives_no_warnings(db: None, tmp_path: Path) -> None:
    """What ``manage.py spectacular --validate --fail-on-warn`` checks in CI, as a test."""
    call_command(
        "spectacular",
        "--validate",
        "--fail-on-warn",
        "--file",
        str(tmp_path / "schema.yaml"),
        stderr=io.StringIO(),
    )


# --- The interactive docs ----------------------------------------------------------------------------


def referenced_urls(html: str) -> list[str]:
    return re.findall(r'(?:src|href)="([^"]+)"', html)


def test_the_docs_page_uses_only_local_static_files(db: None) -> None:
    response = Client().get(DOCS_URL)

    assert response.status_code == 200
    html = response.content.decode()
    urls = referenced_urls(html)
    assert urls
    for url in urls:
        parts = urlsplit(url)
        assert not parts.scheme, f"{url} is not served by the site"
        assert not parts.netloc, f"{url} is not served by the site"
        if url.startswith(settings.STATIC_URL):
            assert finders.find(url.removeprefix(settings.STATIC_URL)), f"{url} is not a static file"
        else:
            assert parts.path == DOCS_URL, f"{url} is neither a static file nor the docs' own script"


def test_the_docs_page_has_no_inline_script_or_style(db: None) -> None:
    html = Client().get(DOCS_URL).content.decode()

    assert not re.search(r"<script(?![^>]*\ssrc=)[^>]*>", html), "inline script"
    assert "<style" not in html, "inline style element"
    assert " style=" not in html, "inline style attribute"


def test_the_docs_start_up_script_is_a_file_of_its_own(db: None) -> None:
    html = Client().get(DOCS_URL).content.decode()
    script_url = next(url for url in referenced_urls(html) if url.startswith(DOCS_URL)).replace("&amp;", "&")

    script = Client().get(script_url)

    assert script.status_code == 200
    assert script["Content-Type"].startswith("application/javascript")
    assert "SwaggerUIBundle(" in script.content.decode()
    assert SCHEMA_URL in script.content.decode()


@pytest.mark.browser
@pytest.mark.usefixtures("transactional_db")
def test_the_docs_render_under_the_content_security_policy(page: Page, live_server: LiveServer) -> None:
    """The page fixture fails the test on any CSP violation or console error while Swagger UI runs."""
    page.goto(live_server.url + DOCS_URL)

    expect(page.get_by_role("heading", name=re.compile("OKRSignal API"))).to_be_visible()
    expect(page.get_by_text("/api/v1/o/{org_slug}/key-results/{id}/progress/")).to_be_visible()
    screenshot(page, "api-docs")
