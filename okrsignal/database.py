"""Checks on the database connection that the tenancy guarantees depend on."""

from __future__ import annotations

import logging
from typing import Any

logger = logging.getLogger(__name__)

_warned = False


def role_bypasses_row_level_security(cursor: Any) -> bool:
    """True when the connected role is a superuser or has BYPASSRLS: policies do not apply to it."""
    cursor.execute("SELECT rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = current_user")
    row = cursor.fetchone()
    return bool(row and row[0])


def warn_if_row_level_security_is_bypassed(sender: Any, connection: Any, **kwargs: Any) -> None:
    """Say once per process when DATABASE_URL names a role that row-level security cannot hold."""
    global _warned
    if _warned or connection.vendor != "postgresql":
        return
    _warned = True
    with connection.cursor() as cursor:
        if role_bypasses_row_level_security(cursor):
            logger.warning(
                "DATABASE_URL connects as role %r, which bypasses row-level security: only the "
                "application's own tenant scoping keeps organisations apart. Connect as a role that is "
                "neither superuser nor BYPASSRLS (see DEVELOPERS.md).",
                connection.settings_dict.get("USER"),
            )
