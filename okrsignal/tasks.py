"""Celery tasks of the platform, and ``tenant_task``, the one way to declare a task that acts for a tenant.

Tasks take ids, never model instances or credentials, so nothing sensitive is serialised into the
broker and each run reads fresh rows.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from celery import shared_task

from okrsignal.tenancy import tenant_context


def tenant_task(**options: Any) -> Callable[[Callable[..., Any]], Any]:
    """Declare a task whose first argument is ``org_id``; its body runs inside that organisation.

    The wrapped function receives the remaining arguments. The organisation is set for the task's
    whole run (one transaction) and reset afterwards, so consecutive tasks in one worker process
    can never see each other's tenant.
    """

    def decorator(function: Callable[..., Any]) -> Any:
        def run(org_id: int, *args: Any, **kwargs: Any) -> Any:
            with tenant_context(int(org_id)):
                return function(*args, **kwargs)

        run.__name__ = function.__name__
        run.__qualname__ = function.__qualname__
        run.__doc__ = function.__doc__
        run.__module__ = function.__module__
        return shared_task(name=f"{function.__module__}.{function.__name__}", **options)(run)

    return decorator


@tenant_task(autoretry_for=(OSError,), retry_backoff=True, retry_jitter=True, max_retries=5)
def invitation_send_email(invitation_id: int) -> None:
    """E-mail an invitation link (retried with backoff when the mail server cannot be reached)."""
    from okrsignal.services import invitation_send

    invitation_send(invitation_id=invitation_id)
