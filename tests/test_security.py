"""Headers every answer carries, and the markup that lets them be strict.

Every HTML page has a Content-Security-Policy that allows this site's own
files only (no inline script, style or event handler); every answer to a
signed-in user, whether page, API or download, says ``Cache-Control:
no-store``; static files stay cacheable. No template holds inline code the
policy would block, and a real Chromium reports no violation.
"""

import datetime
import re
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.test import Client, override_settings

from sinergi.accounts.services import api_token_create
from sinergi.meetings import services as meeting_services
from sinergi.meetings.models import Attachment

from .conftest import KAB, PASSWORD, seed_world

PACKAGE = Path(__file__).resolve().parent.parent / "sinergi"


def policy(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    directives = {}
    for part in header.split(";"):
        name, *values = part.split()
        directives[name] = values
    return directives


def assert_strict(directives: dict) -> None:
    assert directives["default-src"] == ["'self'"]
    assert directives["object-src"] == ["'none'"]
    assert directives["base-uri"] == ["'self'"]
    assert directives["form-action"] == ["'self'"]
    assert directives["frame-ancestors"] == ["'none'"]
    everything = [v for values in directives.values() for v in values]
    assert not [v for v in everything if v.startswith("'unsafe") or v in ("*", "https:")]
    # Scripts and styles fall back to default-src 'self': nothing inline.
    assert "script-src" not in directives and "style-src" not in directives


@pytest.mark.parametrize(("persona", "url", "status"), [
    ("anonymous", "/", 200),
    ("anonymous", "/accounts/login/", 200),
    ("coordinator", "/", 200),
    ("coordinator", "/registry/", 200),
    ("coordinator", "/meetings/", 200),
    ("coordinator", "/convergence/targets/", 200),
    ("coordinator", "/no/such/page/", 404),
    ("leader", "/audit/", 403),
    ("admin", "/admin/", 200),
])
def test_every_page_has_a_strict_content_security_policy(client_of, persona, url, status):
    response = client_of(persona).get(url)
    assert response.status_code == status
    assert response["Content-Type"].startswith("text/html")
    assert_strict(policy(response))


def test_the_api_docs_keep_their_own_files_and_may_draw_data_images(client_of):
    response = client_of("anonymous").get("/api/docs")
    assert response.status_code == 200
    directives = policy(response)
    assert_strict({k: v for k, v in directives.items() if k != "img-src"})
    assert directives["img-src"] == ["'self'", "data:"]
    page = response.content.decode()
    # Swagger UI comes from django-ninja's static files, set up by a file too.
    scripts = re.findall(r"<script\b[^>]*>", page)
    assert scripts and all('src="/static/ninja/' in s or 'type="application/json"' in s
                           for s in scripts), scripts
    # The rest of the API is JSON: the policy is for pages only.
    assert "Content-Security-Policy" not in client_of("anonymous").get("/api/openapi.json")


def no_store(response) -> bool:
    directives = {d.strip() for d in response.get("Cache-Control", "").split(",")}
    return "no-store" in directives and response.get("Pragma") == "no-cache"


def test_nothing_shown_to_a_signed_in_user_is_stored_by_a_cache(client_of, world):
    meeting = meeting_services.meeting_create(actor=world["coordinator"],
        kind="rakor", title="Rakor", starts_on="2026-03-02", region=KAB)
    attachment = Attachment(meeting=meeting, title="notulen", size=5)
    attachment.file.save("notulen.txt", ContentFile(b"hello"), save=True)
    client = client_of("coordinator")
    for url in ("/", "/registry/", "/meetings/", f"/meetings/{meeting.pk}/",
                f"/meetings/{meeting.pk}/attachments/{attachment.pk}/",
                "/meetings/commitments/export.xlsx", f"/api/v1/regions/{KAB}",
                "/api/v1/meetings", "/no/such/page/"):
        response = client.get(url)
        assert response.status_code in (200, 404), url
        assert no_store(response), (url, response.get("Cache-Control"))
    _row, token = api_token_create(actor=world["officer"], user=world["officer"], name="skrip")
    by_token = Client().get("/api/v1/meetings", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert by_token.status_code == 200 and no_store(by_token)
    # The public landing page and the sign-in form hold nothing personal.
    for url in ("/", "/accounts/login/"):
        assert not no_store(client_of("anonymous").get(url)), url


@override_settings(WHITENOISE_USE_FINDERS=True, WHITENOISE_AUTOREFRESH=True)
def test_static_files_stay_cacheable_for_signed_in_users(world):
    client = Client()
    client.force_login(world["coordinator"])
    for url in ("/static/sinergi/app.css", "/static/sinergi/app.js",
                "/static/ninja/swagger-ui-bundle.js"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert not no_store(response) and "max-age" in response["Cache-Control"], url


def template_files() -> list[Path]:
    dirs = [PACKAGE / "templates", *PACKAGE.glob("*/templates")]
    return sorted(p for d in dirs for p in d.rglob("*.html"))


INLINE_CODE = [
    (re.compile(r"<script\b(?![^>]*\bsrc=)(?![^>]*application/json)[^>]*>", re.I),
     "inline <script>"),
    (re.compile(r"<style\b", re.I), "<style> element"),
    (re.compile(r"\sstyle\s*=", re.I), "style= attribute"),
    (re.compile(r"\son[a-z]+\s*=", re.I), "event handler attribute"),
    (re.compile(r"javascript:", re.I), "javascript: URL"),
]


def test_no_template_holds_code_the_policy_would_block():
    files = template_files()
    assert len(files) > 40
    problems = [f"{path.relative_to(PACKAGE)}:{text[:m.start()].count(chr(10)) + 1}: {what}"
                for path in files for text in [path.read_text(encoding="utf-8")]
                for pattern, what in INLINE_CODE for m in pattern.finditer(text)]
    assert not problems, "\n".join(problems)


# --- in a real browser ---------------------------------------------------------------------

# Collects every policy violation of a page, before any of its own scripts run.
VIOLATIONS_SCRIPT = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__csp.push(`${e.violatedDirective} ${e.blockedURI} ${e.sourceFile}:${e.lineNumber}`);
});
"""


@pytest.mark.browser
def test_pages_run_under_the_policy_without_a_violation(live_server, transactional_db,
                                                       tmp_path):
    from .test_browser import CHROMIUM_ARGS, TIMEOUT_MS, cannot_run, chromium_path, watch

    executable = chromium_path()
    try:
        from playwright import sync_api
    except ImportError:
        cannot_run("the playwright package is not installed", "pip install -e '.[test]'")

    # All database work before Playwright starts (its event loop and the ORM
    # do not share a thread).
    seed_world(tmp_path)
    from sinergi.accounts.models import User

    coordinator = User.objects.get(username="coordinator")
    meeting = meeting_services.meeting_create(actor=coordinator,
                                              kind="rakor", title="Rakor peramban", region=KAB,
                                              starts_on=datetime.date(2026, 3, 2))
    meeting_services.issue_add(actor=coordinator, meeting=meeting,
                               category="poverty", description="Isu uji peramban")

    base = live_server.url
    problems: list[str] = []
    expect = sync_api.expect
    expect.set_options(timeout=TIMEOUT_MS)

    def violations(page) -> list[str]:
        # Let the page's last requests (the favicon) finish first: leaving
        # while one is on its way aborts it, which watch() would report.
        page.wait_for_load_state("networkidle")
        return page.evaluate("window.__csp || []")

    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(locale="en-US", viewport={"width": 600, "height": 900})
            context.set_default_timeout(TIMEOUT_MS)
            context.add_init_script(VIOLATIONS_SCRIPT)
            page = context.new_page()
            watch(page, "coordinator", problems)

            page.goto(f"{base}/")
            assert violations(page) == [], "home (public)"
            page.goto(f"{base}/accounts/login/")
            assert violations(page) == [], "sign-in page"
            page.fill("#id_username", "coordinator")
            page.fill("#id_password", PASSWORD)
            with page.expect_navigation(url=f"{base}/"):
                page.click("form:has(#id_password) [type=submit]")

            for path in ("/", "/registry/", f"/regions/{KAB}/", "/agencies/",
                         "/convergence/targets/", f"/meetings/{meeting.pk}/",
                         f"/meetings/{meeting.pk}/brief/", "/api/docs"):
                page.goto(f"{base}{path}")
                if path == "/api/docs":
                    expect(page.locator("#swagger-ui .info .title")).to_contain_text(
                        "Sinergi API")
                elif path == f"/regions/{KAB}/":  # htmx loads the picker
                    expect(page.locator('form.picker select[name="parent"]')).to_have_count(1)
                assert violations(page) == [], path

            # The behaviours that moved from inline handlers to app.js still work.
            page.goto(f"{base}/meetings/{meeting.pk}/")
            page.wait_for_load_state("networkidle")
            toggle = page.locator("button.menu-toggle")
            expect(page.locator("nav#nav")).to_be_hidden()
            toggle.click()
            expect(page.locator("nav#nav")).to_be_visible()
            expect(toggle).to_have_attribute("aria-expanded", "true")
            remove = page.locator("form[data-confirm] button").first
            page.once("dialog", lambda dialog: dialog.dismiss())
            remove.click()
            expect(page.locator("text=Isu uji peramban")).to_have_count(1)
            page.once("dialog", lambda dialog: dialog.accept())
            with page.expect_navigation():
                remove.click()
            expect(page.locator("text=Isu uji peramban")).to_have_count(0)
            page.wait_for_load_state("networkidle")
            with page.expect_navigation():
                page.select_option("#lang-select", "id")
            expect(page.locator("html")).to_have_attribute("lang", "id")
            assert violations(page) == []
            context.close()
        finally:
            browser.close()

    assert not problems, "The browser reported problems:\n" + "\n".join(problems)
