"""Integration credentials are encrypted at rest, rotatable, and never shown in logs, reprs or errors."""

from __future__ import annotations

import io
import logging
import os
import secrets
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from okrsignal.tenancy import tenant_context
from signals_ingest import crypto, services
from signals_ingest.models import Integration
from tests.factories import OrgWorld
from tests.ingest_factories import JIRA_CREDENTIALS, connect, ingest, jira_created, jira_issue

ROOT = Path(__file__).resolve().parent.parent
SECRET = JIRA_CREDENTIALS["api_token"]


def _raw_row(integration: Integration) -> str:
    """The whole row as PostgreSQL stores it, read past the application (still under row-level security)."""
    with tenant_context(integration.organization_id), connection.cursor() as cursor:
        cursor.execute("SELECT t::text FROM signals_ingest_integration t WHERE id = %s", [integration.pk])
        (row,) = cursor.fetchone()
    return str(row)


def test_credentials_are_stored_encrypted_and_read_back(acme: OrgWorld) -> None:
    with tenant_context(acme.organization):
        integration = connect("jira")
        stored = Integration.objects.get()
        assert stored.credentials == JIRA_CREDENTIALS
    row = _raw_row(integration)
    assert SECRET not in row
    assert "bot@orbit.test" not in row
    assert stored.credentials_token.startswith("gAAAAA")  # a Fernet token


def test_credentials_never_appear_in_repr_str_or_logs(
    acme: OrgWorld, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG), tenant_context(acme.organization):
        integration = connect("jira")
        ingest(integration, jira_created(jira_issue()))
        services.integration_set_credentials(integration=integration, credentials={"api_token": SECRET + "2"})
    assert SECRET not in repr(integration)
    assert SECRET not in str(integration)
    assert SECRET not in caplog.text


def test_a_sync_error_is_recorded_without_the_credentials_it_echoes(acme: OrgWorld) -> None:
    with tenant_context(acme.organization):
        integration = connect("jira")
        services.integration_record_sync(
            integration=integration,
            error=f"401 Unauthorized for token {SECRET} at {JIRA_CREDENTIALS['email']}",
        )
        integration.refresh_from_db()
    assert SECRET not in integration.last_error
    assert integration.last_error.startswith("401 Unauthorized for token [redacted]")
    assert integration.last_error_at is not None


def test_rotation_re_encrypts_every_integration_with_the_new_key(
    acme: OrgWorld, globex: OrgWorld, settings: Any
) -> None:
    old_key, new_key = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.INTEGRATION_ENCRYPTION_KEYS = [old_key]
    with tenant_context(acme.organization):
        connect("jira")
        connect("hubspot")
    with tenant_context(globex.organization):
        connect("slack")

    settings.INTEGRATION_ENCRYPTION_KEYS = [new_key, old_key]
    output = io.StringIO()
    call_command("rotate_integration_keys", stdout=output)
    assert "3 integration(s)" in output.getvalue()
    assert SECRET not in output.getvalue()

    settings.INTEGRATION_ENCRYPTION_KEYS = [new_key]  # the old key is gone: everything still reads
    with tenant_context(acme.organization):
        jira = Integration.objects.get(provider="jira")
        assert jira.credentials == JIRA_CREDENTIALS
        assert Fernet(new_key.encode()).decrypt(jira.credentials_token.encode())

    settings.INTEGRATION_ENCRYPTION_KEYS = [old_key]
    with tenant_context(acme.organization), pytest.raises(crypto.CredentialsUnreadable) as error:
        _ = Integration.objects.get(provider="jira").credentials
    assert "gAAAAA" not in str(error.value)
    assert SECRET not in str(error.value)


def test_rotation_stops_naming_the_integration_when_a_key_is_missing(acme: OrgWorld, settings: Any) -> None:
    settings.INTEGRATION_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    with tenant_context(acme.organization):
        integration = connect("jira")
    settings.INTEGRATION_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    with pytest.raises(CommandError, match=f"Integration {integration.pk} \\(jira"):
        call_command("rotate_integration_keys", stdout=io.StringIO())


def test_without_configured_keys_in_development_a_derived_key_is_used_with_a_warning(
    acme: OrgWorld, settings: Any, caplog: pytest.LogCaptureFixture
) -> None:
    settings.INTEGRATION_ENCRYPTION_KEYS = []
    crypto._warned_about_development_key = False
    with caplog.at_level(logging.WARNING, logger="signals_ingest.crypto"), tenant_context(acme.organization):
        integration = connect("jira")
    assert "INTEGRATION_ENCRYPTION_KEYS is not set" in caplog.text
    assert Fernet(crypto.development_key().encode()).decrypt(integration.credentials_token.encode())
    assert crypto.development_key() == crypto.development_key()


def _start_up(extra_env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    environment = {"PATH": os.environ["PATH"], "DJANGO_SETTINGS_MODULE": "okrsignal.settings", **extra_env}
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _production(**overrides: str) -> dict[str, str]:
    return {
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(48),
        "ALLOWED_HOSTS": "okrsignal.example.com",
        **overrides,
    }


def test_production_start_up_refuses_missing_encryption_keys_naming_the_variable() -> None:
    result = _start_up(_production())
    assert result.returncode != 0
    last_line = result.stderr.strip().splitlines()[-1]
    assert "ImproperlyConfigured" in last_line
    assert "INTEGRATION_ENCRYPTION_KEYS" in last_line


def test_a_malformed_encryption_key_is_named_and_never_echoed() -> None:
    result = _start_up(_production(INTEGRATION_ENCRYPTION_KEYS="not-a-fernet-key-but-still-a-secret"))
    assert result.returncode != 0
    assert "INTEGRATION_ENCRYPTION_KEYS" in result.stderr.strip().splitlines()[-1]
    assert "not-a-fernet-key-but-still-a-secret" not in result.stderr


def test_production_start_up_accepts_a_list_of_keys() -> None:
    keys = f"{Fernet.generate_key().decode()},{Fernet.generate_key().decode()}"
    result = _start_up(_production(INTEGRATION_ENCRYPTION_KEYS=keys))
    assert result.returncode == 0, result.stderr
