"""Wording shared by the explanations: people, percentages, pieces of work."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from alignment.engine.inputs import Theme

SOURCE_NAMES = {"jira": "Jira", "slack": "Slack", "hubspot": "HubSpot"}


def percent(share: float) -> str:
    return f"{round(share * 100)}%"


def quoted(title: str) -> str:
    return f"'{title}'" if title else ""


def people_phrase(names: Sequence[str], *, limit: int = 3) -> str:
    """``A``, ``A and B``, ``A, B and C``, ``A, B, C and 2 others``."""
    names = list(names)
    if not names:
        return "nobody"
    if len(names) == 1:
        return names[0]
    if len(names) <= limit:
        return ", ".join(names[:-1]) + " and " + names[-1]
    rest = len(names) - limit
    return ", ".join(names[:limit]) + f" and {rest} other" + ("s" if rest > 1 else "")


def theme_label(theme: Theme) -> str:
    """``the unlinked Jira epic SEC-12 'SSO and SOC 2 evidence'``."""
    source = SOURCE_NAMES.get(theme.source, theme.source)
    what = f"{source} {theme.kind}".strip()
    name = theme.key
    if theme.kind == "channel" and theme.key and not theme.key.startswith("#"):
        name = f"#{theme.key}"
    label = f"the unlinked {what} {name}".rstrip()
    if theme.title and theme.title != theme.key:
        label += f" {quoted(theme.title)}"
    return label


def day(instant: datetime) -> str:
    return instant.strftime("%Y-%m-%d")


def number(value: float) -> str:
    return f"{value:g}" if abs(value) < 1e6 else f"{value:,.0f}"
