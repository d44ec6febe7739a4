"""Unlinked work told apart by themes a person would recognise: the Jira epic (with its title) or else the
project, the Slack channel, the HubSpot pipeline. The drift engine's weekly sums group unlinked signals by
theme (``alignment.activity_weeks``); the pages name them (``ThemeNamer``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from alignment.engine import Theme
from signals_ingest.models import Integration, Provider, WorkItem

# A theme: (source, kind, key), e.g. ("jira", "epic", "SEC-12"); see ``theme_of``.
ThemeKey = tuple[str, str, str]


def theme_of(
    provider: str, *, epic: str | None, project: str | None, channel: str | None, pipeline: str | None
) -> tuple[str, ThemeKey]:
    """The theme unlinked work is told by, a person would recognise it by: the Jira epic, or else the
    project; the Slack channel; the HubSpot pipeline. Its id, and its (source, kind, key)."""
    if provider == Provider.JIRA:
        if epic:
            return f"jira:{epic}", ("jira", "epic", epic)
        if project:
            return f"jira:project:{project}", ("jira", "project", project)
        return "jira:other", ("jira", "issues", "without a project")
    if provider == Provider.SLACK and channel:
        return f"slack:{channel}", ("slack", "channel", channel)
    if provider == Provider.HUBSPOT and pipeline:
        return f"hubspot:{pipeline}", ("hubspot", "pipeline", pipeline)
    return f"{provider}:other", (provider, "activity", "outside any deal or channel")


class ThemeNamer:
    """Names unlinked work by what a person would recognise: the Jira epic (with its title) or else the
    project, the Slack channel, the HubSpot pipeline."""

    def __init__(self) -> None:
        self._themes: dict[str, tuple[str, str, str]] = {}  # id -> (source, kind, key)

    def theme_id(self, row: Mapping[str, Any]) -> str:
        """The theme of a row of signals with ``provider``, ``epic``, ``project``, ``channel`` and
        ``pipeline`` (from their first context), noted for ``themes``."""
        theme_id, theme = theme_of(
            row["provider"],
            epic=row["epic"],
            project=row["project"],
            channel=row["channel"],
            pipeline=row["pipeline"],
        )
        self.add(theme_id, theme)
        return theme_id

    def add(self, theme_id: str, theme: Sequence[str]) -> None:
        """Note a theme by its id and (source, kind, key)."""
        source, kind, key = theme
        self._themes.setdefault(theme_id, (source, kind, key))

    def themes(self) -> tuple[Theme, ...]:
        epics = [key for source, kind, key in self._themes.values() if kind == "epic"]
        epic_titles = dict(
            WorkItem.objects.filter(provider=Provider.JIRA, key__in=epics)
            .order_by()
            .values_list("key", "title")
        )
        # An epic never taken in itself is named by the title its issues' parent field gave.
        unnamed = [key for key in epics if not epic_titles.get(key)]
        if unnamed:
            # The most recently updated issue's word for it, should the epic have been renamed.
            for key, title in (
                WorkItem.objects.filter(provider=Provider.JIRA, attributes__epic__in=unnamed)
                .exclude(attributes__epic_title=None)
                .order_by("-vendor_updated_at", "-id")
                .values_list("attributes__epic", "attributes__epic_title")
            ):
                if title and not epic_titles.get(key):
                    epic_titles[key] = str(title)
        channel_names: dict[str, str] = {}
        slack = Integration.objects.filter(provider=Provider.SLACK).values_list("settings", flat=True).first()
        for channel in (slack or {}).get("channels") or []:
            if isinstance(channel, Mapping) and channel.get("id") and channel.get("name"):
                channel_names[str(channel["id"])] = str(channel["name"])
        themes = []
        for theme_id, (source, kind, key) in sorted(self._themes.items()):
            if kind == "epic":
                themes.append(Theme(theme_id, source, kind, key, epic_titles.get(key, "")))
            elif kind == "channel":
                themes.append(Theme(theme_id, source, kind, channel_names.get(key, key)))
            else:
                themes.append(Theme(theme_id, source, kind, key))
        return tuple(themes)
