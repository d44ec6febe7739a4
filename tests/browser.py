"""Headless Chromium for the browser tests, and what every browser test checks on the way.

The ``browser``, ``page`` and ``new_page`` fixtures are available to every test module (tests/conftest.py
imports them once; a module must not import them again, or Playwright would be started twice).
Each page a test opens is watched: a console error, an uncaught script error or a Content-Security-Policy
violation fails the test when it ends. The policy forbids inline scripts, inline styles and eval, so any
of them showing up in a page is a bug even when the page still looks right.

``screenshot`` keeps a PNG of the page under ``test-artifacts/screenshots/`` and ``assert_accessible``
runs axe-core and fails on serious and critical findings.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.db import connections
from playwright.sync_api import Browser, ConsoleMessage, Error, Page, sync_playwright

# Playwright's sync API keeps an event loop running in the test's thread, and Django refuses database
# access from a thread with a running loop. The tests touch the database only between browser steps,
# never concurrently with them, so the check does not apply here.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
SCREENSHOT_DIR = Path(__file__).resolve().parent.parent / "test-artifacts" / "screenshots"
VIEWPORT = {"width": 1280, "height": 800}
# axe-core impacts, mildest first; these two fail a test.
BLOCKING_IMPACTS = {"serious", "critical"}

# Reports a Content-Security-Policy violation to the test. Playwright installs it through the DevTools
# protocol, which the page's policy does not govern.
_CSP_LISTENER = """
document.addEventListener("securitypolicyviolation", (event) => {
  window.__reportCspViolation(
    `${event.effectiveDirective} blocked ${event.blockedURI || "inline code"}`
    + ` at ${event.sourceFile || event.documentURI}:${event.lineNumber}`
  );
});
"""


@dataclass
class PageProblems:
    """What went wrong in a page while a test drove it."""

    problems: list[str] = field(default_factory=list)
    allowed: list[re.Pattern[str]] = field(default_factory=list)

    def record(self, problem: str) -> None:
        if not any(pattern.search(problem) for pattern in self.allowed):
            self.problems.append(problem)


_watched: dict[int, PageProblems] = {}


def _watch(page: Page) -> PageProblems:
    problems = PageProblems()
    _watched[id(page)] = problems

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            location = message.location.get("url", "")
            problems.record(f"console error: {message.text} ({location})")

    def on_page_error(error: Error) -> None:
        problems.record(f"uncaught error: {error}")

    page.on("console", on_console)
    page.on("pageerror", on_page_error)
    page.expose_function("__reportCspViolation", lambda text: problems.record(f"CSP violation: {text}"))
    page.add_init_script(_CSP_LISTENER)
    return problems


def allow_console_error(page: Page, pattern: str) -> None:
    """Accept console errors matching ``pattern`` on this page, e.g. Chromium's note of a deliberate 404."""
    _watched[id(page)].allowed.append(re.compile(pattern))


def assert_no_page_problems(page: Page) -> None:
    problems = _watched[id(page)].problems
    assert not problems, "The page reported problems:\n" + "\n".join(f"  - {p}" for p in problems)


@pytest.fixture(scope="session", name="browser")
def browser_fixture() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()
        # While Playwright's event loop runs in this thread, Django keeps the thread's database connections
        # apart from the ones it has without a loop (asgiref's thread-critical locals move to a context
        # variable). Those opened meanwhile outside a test (a browser module's clean-up) are closed here,
        # while they can still be reached: left open, they keep the test database from being dropped.
        connections.close_all()


@pytest.fixture(name="new_page")
def new_page_fixture(browser: Browser) -> Iterator[Callable[[], Page]]:
    """Opens pages, each in a fresh browser context (its own cookies: a different person)."""
    pages: list[Page] = []

    def open_page() -> Page:
        context = browser.new_context(viewport=VIEWPORT, locale="en-GB")
        context.set_default_timeout(10_000)
        page = context.new_page()
        _watch(page)
        pages.append(page)
        return page

    yield open_page
    try:
        for opened in pages:
            assert_no_page_problems(opened)
    finally:
        for opened in pages:
            _watched.pop(id(opened), None)
            opened.context.close()


@pytest.fixture(name="page")
def page_fixture(new_page: Callable[[], Page]) -> Page:
    return new_page()


def screenshot(page: Page, name: str) -> Path:
    """Save the whole page as ``test-artifacts/screenshots/<name>.png``."""
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOT_DIR / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def _describe_violation(violation: dict) -> str:
    lines = [f"[{violation['impact']}] {violation['id']}: {violation['help']} ({violation['helpUrl']})"]
    for node in violation["nodes"]:
        target = " ".join(str(part) for part in node["target"])
        summary = (node.get("failureSummary") or "").replace("\n", " ")
        lines.append(f"    at {target}: {summary}")
    return "\n".join(lines)


def assert_accessible(page: Page) -> None:
    """Run axe-core on the page as it is now; fail on any serious or critical violation."""
    results = Axe().run(page)
    blocking = [v for v in results.response["violations"] if v["impact"] in BLOCKING_IMPACTS]
    assert not blocking, f"Accessibility violations on {page.url}:\n" + "\n".join(
        _describe_violation(violation) for violation in blocking
    )
