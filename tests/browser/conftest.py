"""Browser tests: Playwright (Python) driving Debian's chromium against pytest-django's live server.

Never a downloaded browser: chromium comes from apt (`apt-get install chromium`, /usr/bin/chromium).
Without it these tests skip with the reason, except under CI=true, where its absence fails them.
Screenshots are taken only when asked — SCREENSHOTS=1 (`make screenshots`) — so `make test`
never rewrites tracked files; they go to docs/screenshots/ (or $SCREENSHOT_DIR),
palette-compressed to stay small.
"""

import os
from pathlib import Path

import pytest

# Playwright's sync API runs an event loop in this thread; Django's ORM calls made by the test
# itself (fixtures, assertions on the database) are still synchronous and safe here.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]
IS_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
SCREENSHOTS = os.environ.get("SCREENSHOTS", "").lower() in {"1", "true", "yes"}
SCREENSHOT_DIR = Path(os.environ.get("SCREENSHOT_DIR") or Path(__file__).resolve().parents[2] / "docs" / "screenshots")
PASSWORD = "correct-horse-battery"


@pytest.fixture(scope="session")
def browser():
    if not os.path.exists(CHROMIUM):
        message = f"needs Debian's chromium at {CHROMIUM} (apt-get install chromium)"
        if IS_CI:
            pytest.fail(f"CI=true: {message}")
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def new_page(browser, live_server):
    """new_page(width, height) → a page in a fresh browser context (its own storage) of that size."""
    contexts = []

    def make(width: int = 1440, height: int = 900, **options):
        context = browser.new_context(viewport={"width": width, "height": height}, base_url=live_server.url,
                                      locale="en-US", timezone_id="UTC", **options)
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(15_000)
        return page

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_page):
    return new_page(1440, 900)


@pytest.fixture
def laptop_page(new_page):
    """A 1366 × 768 laptop screen (SPEC §14), downloads allowed."""
    return new_page(1366, 768, accept_downloads=True)


def login(page, email: str, password: str = PASSWORD) -> None:
    page.goto("/admin/login/?next=/admin/")
    page.fill("input[name=username]", email)
    page.fill("input[name=password]", password)
    page.click("input[type=submit]")
    page.wait_for_url("**/admin/")


@pytest.fixture
def screenshot():
    """screenshot(page, "name") saves docs/screenshots/name.png as a small palette PNG — only with
    SCREENSHOTS=1; otherwise it does nothing and returns None."""

    def take(page, name: str, *, full_page: bool = False) -> Path | None:
        from PIL import Image

        if not SCREENSHOTS:
            return None
        SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOT_DIR / f"{name}.png"
        page.screenshot(path=str(path), full_page=full_page, animations="disabled", caret="hide")
        with Image.open(path) as image:
            small = image.convert("RGB").quantize(colors=96, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
        small.save(path, optimize=True)
        return path

    return take
