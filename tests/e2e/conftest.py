"""A real server on a committed database, and a real Chromium driving it.

The `session` fixture of tests/conftest.py binds one connection and rolls it back; a server
thread must not share that connection, so these fixtures never use it. The server runs on
`committed_app`, a database of its own: the demo is seeded and committed there for real, and
the rolled-back tests never see it.
"""
from __future__ import annotations

import io
import os
import re
from dataclasses import dataclass

import pytest
from playwright.sync_api import Locator, Page, expect, sync_playwright
from pypdf import PdfReader

from portal.extensions import db
from tenants.rls import as_owner
from tenants.scope import unscoped
from tests.conftest import load_rows, serving  # noqa: F401  (journeys import serving from here)

CHROMIUM = "/usr/bin/chromium"
# Debian's Chromium, never a downloaded one; no sandbox (containers), no calls to Google.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
# Playwright's assertions give up after 5 s; on a 2-core CI machine running the whole suite a
# page that waits on the database can take longer. Waiting longer only delays a real failure.
expect.set_options(timeout=20_000)


@dataclass
class LiveServer:
    url: str
    accounts: dict[str, tuple[str, ...]]  # username → (username, password, unit, role)


@pytest.fixture
def live_server(committed_app, demo_rows):
    """The demo, as `seed()` committed it once for the run, copied into this test's database."""
    app = committed_app
    accounts, rows = demo_rows
    with app.app_context(), as_owner(), unscoped():
        with db.engine.begin() as conn:
            load_rows(conn, rows)
        db.engine.dispose()
    with serving(app) as url:
        yield LiveServer(url, {row[0]: row for row in accounts})


@pytest.fixture(scope="session")
def chromium():
    """One Chromium for the run (per worker): launching it took seconds per module."""
    with sync_playwright() as p:
        instance = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield instance
        finally:
            instance.close()


@pytest.fixture
def browser(chromium):
    """The run's Chromium; whatever windows (contexts) a journey opened are closed after it."""
    yield chromium
    for context in chromium.contexts:
        context.close()


# What a person does with the mouse or a finger: a click or tap, ticking a box, choosing from a list,
# choosing a file. Typing and Enter are not counted.
CLICKING = ("click", "tap", "check", "uncheck", "set_checked", "select_option", "set_input_files")


@pytest.fixture(autouse=True)
def clicks(request, monkeypatch):
    """Counts each journey's clicks (the issue compares them before and after a change); printed
    with the test's name, and appended to the file JOURNEY_CLICKS names when it is set."""
    count = [0]
    for name in CLICKING:
        original = getattr(Locator, name)

        def counted(self, *args, _original=original, **kwargs):
            count[0] += 1
            return _original(self, *args, **kwargs)
        monkeypatch.setattr(Locator, name, counted)
    yield count
    line = f"{request.node.nodeid} {count[0]}"
    print(f"\nclicks: {line}")
    if os.environ.get("JOURNEY_CLICKS"):
        with open(os.environ["JOURNEY_CLICKS"], "a", encoding="utf-8") as f:
            f.write(line + "\n")


def htmx_ready(page: Page) -> None:
    """Wait until the page has loaded and htmx has bound its elements (the script is deferred): a
    click before that, as a fast robot makes on a slow machine, sends no request."""
    page.wait_for_function("() => document.readyState === 'complete' && window.htmx !== undefined")


def log_in(page: Page, base: str, username: str, password: str) -> None:
    """Log in on the Chinese login page and land on the home page."""
    page.goto(base + "/login")
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    expect(page.get_by_role("heading", name="登录")).to_be_visible()
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()
    expect(page).to_have_url(base + "/")


def first_log_in(page: Page, base: str, username: str, initial: str, new: str) -> None:
    """Log in with a password someone else chose: the change page comes first, whatever is asked."""
    page.goto(base + "/login")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(initial)
    page.get_by_role("button", name="登录").click()
    expect(page).to_have_url(base + "/account/password")
    page.get_by_label("原密码").fill(initial)
    page.get_by_label("新密码").fill(new)
    page.get_by_role("button", name="保存").click()
    expect(page).to_have_url(base + "/")
    expect(page.get_by_role("status")).to_contain_text("密码已修改")


def log_out(page: Page) -> None:
    page.get_by_role("button", name="退出").click()
    expect(page.get_by_role("status")).to_contain_text("已退出登录")


def pdf_pages(pdf: bytes) -> list[str]:
    """The text of each page of a PDF without any whitespace: table cells wrap long names onto two
    lines. A page's running header and footer come at the end of its text."""
    return [re.sub(r"\s+", "", page.extract_text() or "") for page in PdfReader(io.BytesIO(pdf)).pages]


def pdf_text(pdf: bytes) -> str:
    return "".join(pdf_pages(pdf))


# Table cells whose text runs over more lines than four characters a line would need: on a phone a
# squeezed column breaks a name every two characters (大王/庄街/道).
_SQUEEZED_CELLS = """() => [...document.querySelectorAll("main td, main th")].filter((cell) => {
  if (!cell.offsetParent) return false;  // hidden (a column the phone leaves out)
  const text = cell.innerText.trim();
  if (!text || /\\s/.test(text)) return false;  // several words wrap where they may
  // The lines its text nodes take: a new line starts more than half a line below the last one.
  const walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
  const tops = [];
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const range = document.createRange();
    range.selectNodeContents(node);
    tops.push(...[...range.getClientRects()].filter((r) => r.width > 0).map((r) => r.top));
  }
  const half = parseFloat(getComputedStyle(cell).fontSize) / 2;
  const lines = tops.sort((a, b) => a - b).filter((top, i) => i === 0 || top - tops[i - 1] > half).length;
  return lines > Math.max(1, Math.ceil(text.length / 4));
}).map((cell) => cell.innerText.trim())"""


def squeezed_cells(page: Page) -> list[str]:
    """The texts of the page's table cells that break more often than every four characters."""
    return page.evaluate(_SQUEEZED_CELLS)


def fits(page: Page, what: str) -> None:
    """The page is no wider than the screen, and no table squeezes a name onto many lines: measured
    once it has loaded (before its stylesheet, nothing is laid out as the user sees it)."""
    htmx_ready(page)
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"{what} 横向溢出 {overflow} px"
    assert squeezed_cells(page) == [], f"{what} 的表格把名称挤成多行"


def submit_task(page: Page, title: str, units: int, rollup: str) -> str:
    """Press 交办 on a filled new-task form: the task's page opens, says to how many units it went
    and how they stand (sent, not yet signed for: 待签收, not 办理中). Returns its address."""
    page.get_by_role("button", name="交办").click()
    expect(page.get_by_role("heading", name=title)).to_be_visible()
    expect(page.get_by_role("status")).to_contain_text(f"给 {units} 个单位")
    expect(page.locator("#rollup")).to_have_text(rollup)
    return page.url
