"""Re-encrypt every integration's credentials with the first key of INTEGRATION_ENCRYPTION_KEYS.

Rotation: put the new key first in INTEGRATION_ENCRYPTION_KEYS, keep the old one after it, deploy, run
this command, then remove the old key. Credentials are never printed.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from okrsignal.models import Organization
from okrsignal.tenancy import tenant_context
from signals_ingest import crypto
from signals_ingest.models import Integration


class Command(BaseCommand):
    help = "Re-encrypt every integration's credentials with the first key in INTEGRATION_ENCRYPTION_KEYS."

    def handle(self, *args: Any, **options: Any) -> None:
        rotated = 0
        for organization_id in Organization.objects.order_by("pk").values_list("pk", flat=True):
            with tenant_context(organization_id):
                integrations = list(
                    Integration.objects.select_for_update().exclude(credentials_token="").order_by("pk")
                )
                for integration in integrations:
                    try:
                        integration.credentials_token = crypto.rotate_token(integration.credentials_token)
                    except crypto.CredentialsUnreadable as exc:
                        raise CommandError(
                            f"Integration {integration.pk} ({integration.provider}, organisation"
                            f" {organization_id}): {exc}"
                        ) from None
                    integration.save(update_fields=["credentials_token"])
                    rotated += 1
        self.stdout.write(f"Re-encrypted the credentials of {rotated} integration(s) with the first key.")
