"""``{% unread_notification_count membership as unread %}``: the count in the navigation bar."""

from __future__ import annotations

from django import template

from okrsignal.models import Membership
from okrsignal.notifications import unread_count
from okrsignal.tenancy import current_organization_id

register = template.Library()


@register.simple_tag
def unread_notification_count(membership: Membership | None) -> int:
    """How many of ``membership``'s notifications are unread. 0 outside its organisation's context: an
    error page is drawn after the page's tenant context has ended, and must not fail for a count."""
    if membership is None or current_organization_id() != membership.organization_id:
        return 0
    return unread_count(membership)
