"""Browser fixtures: the demo store served on loopback, Debian's Chromium driven by Playwright."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import pytest
from argon2 import PasswordHasher
from playwright.sync_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Dialog,
    Page,
    Playwright,
    Request,
    Route,
    sync_playwright,
)

from e2e.demo import Demo, build, launch, served
from mailgate.desk import users

#: Playwright's wait for any expectation or action.
TIMEOUT_MS = 10_000


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    """The demo store, with cheap password hashes: the tests sign in often."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(users, "HASHER", PasswordHasher(time_cost=1, memory_cost=64, parallelism=1))
        yield build(tmp_path_factory.mktemp("desk"))


@pytest.fixture(scope="module")
def base_url(demo: Demo) -> Iterator[str]:
    with served(demo.url) as url:
        yield url


@pytest.fixture(scope="module")
def playwright(base_url: str) -> Iterator[Playwright]:
    """Playwright's driver, started after the store is built: its event loop then runs in this thread,
    so it lives no longer than this module (the asyncio tests elsewhere need the thread to themselves)."""
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="module")
def browser(playwright: Playwright) -> Iterator[Browser]:
    browser = launch(playwright)
    yield browser
    browser.close()


@dataclass
class Traffic:
    """What the browser asked for: every request, and those it was stopped from sending elsewhere."""

    origin: str
    requests: list[str] = field(default_factory=list)
    remote: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
    csp_errors: list[str] = field(default_factory=list)

    def route(self, route: Route, request: Request) -> None:
        self.requests.append(request.url)
        parts = urlsplit(request.url)
        if f"{parts.scheme}://{parts.netloc}" == self.origin or parts.scheme in ("data", "about"):
            route.continue_()
        else:
            self.remote.append(request.url)
            route.abort()


@pytest.fixture
def traffic(base_url: str) -> Traffic:
    return Traffic(base_url)


@pytest.fixture
def context(browser: Browser, base_url: str, traffic: Traffic) -> Iterator[BrowserContext]:
    """A fresh browser profile (no cookies) whose requests are all recorded and kept on the desk."""
    context = browser.new_context(base_url=base_url, locale="zh-CN", timezone_id="Asia/Shanghai")
    context.set_default_timeout(TIMEOUT_MS)
    context.route("**/*", traffic.route)
    yield context
    context.close()
    assert traffic.remote == [], "the browser tried to reach another host"
    assert traffic.csp_errors == [], "a desk page broke its own content security policy"


@pytest.fixture
def page(context: BrowserContext, traffic: Traffic) -> Page:
    """A tab that records any dialog (and dismisses it) and any content-security-policy complaint."""
    page = context.new_page()

    def on_dialog(dialog: Dialog) -> None:
        traffic.dialogs.append(dialog.message)
        dialog.dismiss()

    def on_console(message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text:
            traffic.csp_errors.append(message.text)

    page.on("dialog", on_dialog)
    page.on("console", on_console)
    return page
