"""Drift data for ``world``'s organisation: a row in every table the drift engine and its alerts write."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.urls import reverse
from django.utils import timezone

from alignment.activity_weeks import WeekSums
from alignment.models import ContributionCredit, DriftScore, EffortWeek, Finding, FindingEvent
from okrsignal.models import NotificationChannel, NotificationKind
from okrsignal.notifications import notification_delivery_record, notification_record


def make_drift_data(world: Any, goals: dict[str, Any]) -> dict[str, Any]:
    """One finding (with its event), contribution, weekly score, alert notification and e-mail delivery
    for ``world``'s organisation, on ``goals`` (``make_goal_data``); call inside its context."""
    name = world.organization.name
    cycle = goals["cycle"]
    key_result = goals["key_result"]
    now = timezone.now()
    finding = Finding.objects.create(
        cycle=cycle,
        kind="ownership_gap",
        key_result=key_result,
        onset_week=3,
        onset_date=cycle.start + timedelta(days=14),
        severity=0.5,
        explanation=f"{name} revenue has had no owner since week 3.",
        evidence=[{"kind": "goal_change", "ref": key_result.pk}],
        figures={"weeks_without_owner": 2},
        first_detected_at=now,
        first_detected_week=3,
        last_reported_at=now,
    )
    event = FindingEvent.objects.create(finding=finding, action=FindingEvent.Action.DETECTED, at=now)
    credit = ContributionCredit.objects.create(
        cycle=cycle,
        person=world.report,
        key_result=key_result,
        weight=3.0,
        share=0.4,
        weeks=[2, 3],
        explanation=f"{world.report} moved {name} revenue without being credited.",
        first_credited_at=now,
        last_credited_at=now,
    )
    score = DriftScore.objects.create(
        cycle=cycle,
        week=3,
        key_result=key_result,
        score=40,
        components=[{"name": "ownership", "value": 1.0, "points": 40, "detail": "no owner"}],
        computed_at=now,
    )
    effort = EffortWeek.objects.create(
        cycle=cycle, person=world.report, week=3, linked_weight=2.0, total_weight=5.0
    )
    activity_week = WeekSums().kept(cycle.start, now)
    activity_week.save()
    notification = notification_record(
        recipient=world.admin,
        kind=NotificationKind.DRIFT_ALERT,
        subject_key=f"finding:{finding.pk}:1",
        title=f"{name} revenue is drifting: ownership gap",
        body=finding.explanation,
        link=reverse(
            "goals:key_result_detail",
            kwargs={"org_slug": world.organization.slug, "key_result_id": key_result.pk},
        ),
        at=now,
    )
    assert notification is not None
    delivery = notification_delivery_record(notification=notification, channel=NotificationChannel.EMAIL)
    return {
        "finding": finding,
        "finding_event": event,
        "contribution": credit,
        "score": score,
        "effort": effort,
        "activity_week": activity_week,
        "notification": notification,
        "delivery": delivery,
    }
