"""A real Chromium signs in as every persona and walks the main pages.

Anything the browser complains about fails the test: console errors, page
(JavaScript) errors, failed requests and responses of 400 or more. It also
checks that the htmx region picker loads its next level, and leaves two
screenshots for humans in /tmp (sinergi-home.png, sinergi-region.png).

Needs Chromium (Debian's /usr/bin/chromium); Playwright never downloads a
browser here. Without one the test is skipped, unless SINERGI_REQUIRE_BROWSER=1
(as CI sets), when it fails instead.
"""

import contextlib
import os
import shutil

import pytest

from sinergi.accounts.models import User
from sinergi.regions.models import Region

from .conftest import KAB, PASSWORD, seed_world

PERSONAS = ["admin", "coordinator", "officer", "operator", "leader", "outsider"]
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TIMEOUT_MS = 10_000
# Fixed, well-known names so people (and CI artifacts) can find them.
HOME_SHOT = "/tmp/sinergi-home.png"  # noqa: S108
REGION_SHOT = "/tmp/sinergi-region.png"  # noqa: S108


def cannot_run(reason: str, remedy: str):
    """Skip, or fail when the environment demands the browser test (CI)."""
    if os.environ.get("SINERGI_REQUIRE_BROWSER") == "1":
        pytest.fail(f"{reason}, and SINERGI_REQUIRE_BROWSER=1 requires the browser test to run")
    pytest.skip(f"{reason}; {remedy}")


def chromium_path() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if not path:
        cannot_run(
            "no Chromium found on PATH (looked for chromium and chromium-browser)",
            "install Debian's chromium package to run the browser test",
        )
    return path


def watch(page, persona: str, problems: list[str]) -> None:
    """Record everything on ``page`` that a user's browser would flag."""

    def where() -> str:
        return f"{persona} @ {page.url}"

    def on_console(msg):
        if msg.type == "error":
            loc = msg.location or {}
            problems.append(
                f"[{where()}] console error: {msg.text} "
                f"({loc.get('url', '')}:{loc.get('lineNumber', '')})"
            )

    page.on("console", on_console)
    page.on("pageerror", lambda exc: problems.append(f"[{where()}] page error: {exc}"))
    def on_failed(req):
        # The browser cancels the icon's fetch when the test moves to the next
        # page before it arrives (a busy machine): no page is broken by that.
        if req.url.endswith("/favicon.svg") and "ERR_ABORTED" in (req.failure or ""):
            return
        problems.append(f"[{where()}] request failed: {req.method} {req.url}: {req.failure}")

    page.on("requestfailed", on_failed)

    def on_response(resp):
        if resp.status >= 400:
            problems.append(f"[{where()}] HTTP {resp.status}: {resp.request.method} {resp.url}")

    page.on("response", on_response)


def playwright():
    """Debian's Chromium and Playwright's sync API, or a skip (a failure in CI)."""
    executable = chromium_path()
    try:
        from playwright import sync_api
    except ImportError:
        cannot_run("the playwright package is not installed", "pip install -e '.[test]'")
    return executable, sync_api


@contextlib.contextmanager
def chromium(sync_api, executable: str):
    """A headless Chromium for one test, closed whatever happens."""
    sync_api.expect.set_options(timeout=TIMEOUT_MS)
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def new_page(browser, **options):
    """A page of a fresh browser context (no cookies), in Indonesian."""
    context = browser.new_context(locale="id-ID", **options)
    context.set_default_timeout(TIMEOUT_MS)
    return context.new_page()


def sign_in(page, base: str, persona: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.fill("#id_username", persona)
    page.fill("#id_password", PASSWORD)
    with page.expect_navigation(url=f"{base}/"):
        page.click("form:has(#id_password) [type=submit]")


@pytest.mark.browser
def test_every_persona_signs_in_and_browses_without_browser_errors(
    live_server, transactional_db, tmp_path
):
    executable, sync_api = playwright()

    # All database work before Playwright starts: its sync API keeps an event
    # loop in this thread, and Django refuses ORM calls next to one.
    seed_world(tmp_path)
    scope = dict(User.objects.filter(username__in=PERSONAS).values_list("username", "region_id"))
    assert sorted(scope) == sorted(PERSONAS)

    base = live_server.url
    problems: list[str] = []
    expect = sync_api.expect

    with chromium(sync_api, executable) as browser:
        for persona in PERSONAS:
            page = new_page(browser)
            watch(page, persona, problems)

            sign_in(page, base, persona)
            expect(page.locator('form[action="/accounts/logout/"]')).to_have_count(1)
            expect(page.locator("header .who")).to_contain_text(persona.title())
            if persona == "coordinator":
                page.screenshot(path=HOME_SHOT, full_page=True)

            page.goto(f"{base}/agencies/")
            expect(page.locator('form[action="/accounts/logout/"]')).to_have_count(1)

            root = scope[persona]
            page.goto(f"{base}/regions/{root}/")
            # The picker's first level arrives by htmx on load.
            pickers = page.locator('form.picker select[name="parent"]')
            expect(pickers).to_have_count(1)
            expect(pickers.first.locator(f'option[value="{root}"]')).to_have_count(1)
            if persona == "coordinator":
                page.screenshot(path=REGION_SHOT, full_page=True)
                with page.expect_response(
                    lambda r: "/regions/picker/?parent=" in r.url and r.status == 200
                ):
                    pickers.first.select_option(root)
                expect(pickers).to_have_count(2)
                # The second level offers the districts under the root.
                districts = pickers.nth(1).locator(f'option[value^="{root}."]')
                expect(districts.first).to_be_attached()

            for path in ("/programs/", "/groups/", "/convergence/",
                         "/convergence/overlap/", "/meetings/"):
                page.goto(f"{base}{path}")
                expect(page.locator("h1")).to_have_count(1)
            page.goto(f"{base}/meetings/commitments/")
            expect(page.locator("form.filters")).to_have_count(1)
            if persona == "coordinator":
                # Record a meeting through the form, as a coordinator would.
                page.goto(f"{base}/meetings/new/")
                page.select_option("#id_kind", "rakor")
                page.fill("#id_title", "Rakor uji peramban")
                page.fill("#id_starts_on", "2026-12-01")
                page.fill("#id_region", root)
                with page.expect_navigation():
                    page.click("main form [type=submit]")
                expect(page.locator("h1")).to_contain_text("Rakor uji peramban")

            page.goto(f"{base}/api/docs")
            # Swagger UI renders the schema it fetched from /api/openapi.json.
            expect(page.locator("#swagger-ui .info .title")).to_contain_text("Sinergi API")

            page.context.close()

    assert not problems, "The browser reported problems:\n" + "\n".join(problems)


def htmx_cases() -> list[tuple[str, str, str, str, str]]:
    """(page, field to fill, bad value, where the answer goes, the message
    expected there in Bahasa Indonesia) for every htmx form a user types into."""
    from django.utils import translation

    from sinergi.programs import rules
    from sinergi.regions.codes import code_problem

    with translation.override("id"):
        try:
            rules.parse("income >")
        except rules.RuleError as exc:
            rule_message = exc.message
        return [
            ("/agencies/", 'input[name="region"]', "19.x", "#rows", code_problem("19.x")),
            ("/registry/", 'input[name="q"]', "ab", "#results",
             translation.gettext("Type at least 3 letters of the name.")),
            ("/programs/new/", "#id_rule", "income >", "#preview", rule_message),
        ]


@pytest.mark.browser
def test_every_htmx_form_shows_its_error_in_place(live_server, transactional_db, tmp_path):
    """A bad value typed into any htmx form answers 400 with a message; the
    message replaces what the target showed before (htmx alone would keep the
    old results on screen and show nothing)."""
    executable, sync_api = playwright()
    seed_world(tmp_path)
    cases = htmx_cases()
    base = live_server.url
    problems: list[str] = []
    shown: list[tuple[str, str]] = []
    expect = sync_api.expect

    with chromium(sync_api, executable) as browser:
        for persona in PERSONAS:
            page = new_page(browser)
            # The 400s and the 403 of a form the role may not open are
            # expected here ("Failed to load resource"); anything else is not.
            page.on("console", lambda msg, who=persona: problems.append(
                f"{who}: console {msg.type}: {msg.text}") if msg.type == "error"
                and not msg.text.startswith("Failed to load resource") else None)
            page.on("pageerror", lambda exc, who=persona: problems.append(f"{who}: {exc}"))
            sign_in(page, base, persona)
            for path, field, bad, target, message in cases:
                response = page.goto(f"{base}{path}")
                if response.status == 403:
                    continue  # the role may not use this form at all
                page.locator(target).evaluate("el => el.innerHTML = '<p>old results</p>'")
                page.fill(field, bad)
                with page.expect_response(lambda r: r.status == 400):
                    if path == "/programs/new/":
                        page.click(f'button[hx-target="{target}"]')
                    else:
                        page.locator(field).press("Enter")
                expect(page.locator(f"{target} .error")).to_contain_text(message)
                expect(page.locator(target)).not_to_contain_text("old results")
                shown.append((persona, path))
            page.context.close()

    assert not problems, "\n".join(problems)
    # Every persona reached the agency and registry searches; the rule
    # preview is for those who set up programs.
    assert {(who, "/agencies/") for who in PERSONAS} <= set(shown)
    assert {(who, "/registry/") for who in PERSONAS} <= set(shown)
    assert ("coordinator", "/programs/new/") in set(shown)


PHONE = {"width": 390, "height": 844}
PHONE_PAGES = ("/", "/registry/?q=siti", "/agencies/", "/imports/", "/programs/", "/groups/",
               "/convergence/", "/convergence/unserved/", "/convergence/overlap/",
               "/convergence/targets/", "/meetings/", "/meetings/commitments/", "/audit/")


@pytest.mark.browser
def test_pages_fit_a_phone_and_wide_tables_scroll_inside_them(live_server, transactional_db,
                                                               tmp_path):
    """On a 390 px phone no page is wider than the screen: a wide table
    scrolls sideways by itself, the page does not."""
    executable, sync_api = playwright()
    seed_world(tmp_path)
    base = live_server.url
    too_wide: list[str] = []
    seen = 0
    with chromium(sync_api, executable) as browser:
        for persona in ("admin", "coordinator"):
            page = new_page(browser, viewport=PHONE)
            sign_in(page, base, persona)
            for path in PHONE_PAGES:
                response = page.goto(f"{base}{path}")
                if response.status >= 400:
                    continue  # a page the role may not open
                seen += 1
                width = page.evaluate("document.documentElement.scrollWidth")
                if width > PHONE["width"]:
                    too_wide.append(f"{persona} {path}: {width} px")
            page.context.close()
    assert seen >= len(PHONE_PAGES) + 5
    assert not too_wide, "pages wider than a 390 px phone:\n" + "\n".join(too_wide)


@pytest.mark.browser
def test_a_region_is_chosen_by_typing_its_name(live_server, transactional_db, tmp_path):
    """Every region input offers the regions of the user's scope whose name
    holds what was typed, and shows the chosen region's name."""
    executable, sync_api = playwright()
    seed_world(tmp_path)
    koba = Region.objects.get(parent_id=KAB, name__icontains="koba")
    base = live_server.url
    expect = sync_api.expect
    with chromium(sync_api, executable) as browser:
        offered = {}
        for persona in ("coordinator", "outsider"):
            page = new_page(browser)
            sign_in(page, base, persona)
            page.goto(f"{base}/meetings/new/")
            field = page.locator("#id_region")
            field.fill("")  # it starts with the user's own region
            with page.expect_response(lambda r: "/api/v1/regions?" in r.url):
                field.press_sequentially("koba", delay=20)
            page.wait_for_timeout(300)
            offered[persona] = page.locator("datalist option").evaluate_all(
                "options => options.map(o => o.value)")
            if persona == "coordinator":
                field.fill(koba.code)
                field.dispatch_event("change")
                expect(page.locator(".region-name")).to_have_text(f"{koba.name} ({koba.kind})")
            page.context.close()
    assert koba.code in offered["coordinator"]
    assert offered["outsider"] == []  # Koba is outside the Tanggamus coordinator's scope


@pytest.mark.browser
def test_a_list_sorts_by_the_column_clicked(live_server, transactional_db, tmp_path):
    executable, sync_api = playwright()
    seed_world(tmp_path)
    base = live_server.url
    with chromium(sync_api, executable) as browser:
        page = new_page(browser)
        sign_in(page, base, "coordinator")
        page.goto(f"{base}/agencies/")
        heading = page.locator("#rows table thead th").nth(1)  # the name
        names = page.locator("#rows table tbody tr td:nth-child(2)")
        shown = names.all_inner_texts()
        heading.click()
        ascending = names.all_inner_texts()
        assert heading.get_attribute("aria-sort") == "ascending"
        heading.click()
        descending = names.all_inner_texts()
        assert heading.get_attribute("aria-sort") == "descending"
    assert len(shown) > 5 and sorted(shown) == sorted(ascending)
    assert ascending == sorted(ascending, key=str.casefold) != shown
    assert descending == ascending[::-1]
