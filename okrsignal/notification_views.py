"""The notifications page: a person's own notifications, marking them read, and how alerts reach them."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.http import url_has_allowed_host_and_scheme
from django.views import View
from django.views.generic import TemplateView

from okrsignal import notifications
from okrsignal.models import AlertDelivery
from okrsignal.permissions import OrganizationViewMixin, refuse


class AlertDeliveryForm(forms.Form):
    alert_delivery = forms.ChoiceField(
        label="Drift alerts outside the app",
        choices=AlertDelivery.choices,
        widget=forms.RadioSelect,
        help_text="Alerts always appear here. The weekly digest comes on Monday at 08:00 in the "
        "organisation's time zone.",
    )


class NotificationsView(OrganizationViewMixin, TemplateView):
    """Someone's own notifications, newest first; no one sees anyone else's."""

    template_name = "okrsignal/notifications.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return {
            **super().get_context_data(**kwargs),
            "notifications": notifications.notifications_for(self.membership)[: notifications.PAGE_SIZE],
            "unread": notifications.unread_count(self.membership),
            "form": kwargs.get("form")
            or AlertDeliveryForm(initial={"alert_delivery": self.membership.alert_delivery}),
        }

    def post(self, request: HttpRequest, org_slug: str) -> HttpResponse:
        if request.POST.get("action") == "read_all":
            count = notifications.notifications_mark_all_read(by=self.membership)
            messages.success(request, f"Marked {count} notification{'s' if count != 1 else ''} read.")
            return redirect("notifications", org_slug=org_slug)
        form = AlertDeliveryForm(request.POST)
        if not form.is_valid():
            return self.render_to_response(self.get_context_data(form=form), status=400)
        notifications.alert_delivery_set(
            membership=self.membership, delivery=form.cleaned_data["alert_delivery"]
        )
        messages.success(
            request, f"Drift alerts: {AlertDelivery(form.cleaned_data['alert_delivery']).label}."
        )
        return redirect("notifications", org_slug=org_slug)


class NotificationReadView(OrganizationViewMixin, View):
    """Mark one's own notification read; with ``open``, go on to what it links to."""

    def post(self, request: HttpRequest, org_slug: str, notification_id: int) -> HttpResponse:
        notification = notifications.own_notification(self.membership, notification_id)
        if notification is None:
            refuse()
        assert notification is not None
        notifications.notification_mark_read(notification=notification, by=self.membership)
        link = notification.link
        if "open" in request.POST and link and url_has_allowed_host_and_scheme(link, allowed_hosts=None):
            return redirect(link)
        return redirect("notifications", org_slug=org_slug)
