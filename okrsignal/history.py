"""Field-by-field history of tenant-owned models, kept by django-simple-history and scoped like its source.

Every save of a tracked model writes a historical row (who, when, every field), so the state of any
object at any past moment can be rebuilt with ``Model.history.as_of(moment)``. Historical rows carry the
organisation: they are tenant data, read through a fail-closed manager and guarded by row-level security
(their tables get ``EnableRowLevelSecurity`` in the migration like any other tenant table).
"""

from __future__ import annotations

from typing import Any

from django.db import models
from simple_history.manager import HistoryManager
from simple_history.models import HistoricalRecords

from okrsignal.tenancy import TenantManager, scope_to_current_organization


class TenantHistoryManager(HistoryManager):
    """``Model.history``: the history of the organisation in context only."""

    def get_super_queryset(self) -> Any:
        return scope_to_current_organization(super().get_super_queryset())


class TenantHistoricalModel(models.Model):
    """Base of the generated historical models: their default manager is fail-closed too."""

    objects = TenantManager()

    class Meta:
        abstract = True


def tenant_history(**options: Any) -> HistoricalRecords:
    return HistoricalRecords(
        bases=[TenantHistoricalModel],
        history_manager=TenantHistoryManager,
        # Reasons are people's own words (a progress note, why a goal was paused): no length limit.
        history_change_reason_field=models.TextField(null=True),
        inherit=False,
        **options,
    )
