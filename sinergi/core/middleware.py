from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpResponse
from django.shortcuts import render, resolve_url
from django.utils.cache import add_never_cache_headers

from .errors import AccessDenied, NotInScope

# The Content-Security-Policy of every HTML page: only this site's own files,
# no inline script, style or event handler (behaviour lives in
# static/sinergi/app.js, looks in app.css), no plugins, never in a frame,
# forms post only here. An injected <script> or onload= runs nowhere.
CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])
# Swagger UI at /api/docs (django-ninja's own static files, no inline script)
# draws its icons as data: images.
API_DOCS_POLICY = CONTENT_SECURITY_POLICY + "; img-src 'self' data:"
API_DOCS_VIEW = "api:openapi-view"


class AccessDeniedMiddleware:
    """Answer the access layer's errors raised by a page: AccessDenied with a
    403 page that says why, NotInScope with the 404 page (nothing said of
    whether the object exists)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        return _signed_out_htmx(request, response) or response

    def process_exception(self, request, exception):
        if isinstance(exception, AccessDenied):
            return render(request, "403.html", {"message": exception.message}, status=403)
        if isinstance(exception, NotInScope):
            return render(request, "404.html", {"message": exception.message}, status=404)
        return None


def _signed_out_htmx(request, response):
    """An htmx request of a user whose session has ended is sent to the
    sign-in page as a whole page (HX-Redirect), back to the page it came
    from afterwards; followed as a plain redirect, the sign-in form would
    land inside the part of the page htmx replaces."""
    if not getattr(request, "htmx", False) or response.status_code != 302:
        return None
    login = resolve_url(settings.LOGIN_URL)
    if not response.get("Location", "").startswith(login):
        return None
    came_from = request.htmx.current_url_abs_path or "/"
    answer = HttpResponse(status=204)
    answer["HX-Redirect"] = f"{login}?{urlencode({'next': came_from})}"
    return answer


def _signed_in(request) -> bool:
    """A session user, or a caller of the API with a token (whose user the
    token authentication set on the request, or who at least sent one)."""
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return True
    return request.headers.get("Authorization", "").strip().lower().startswith("bearer")


class SecurityHeadersMiddleware:
    """Headers no view should have to remember.

    - ``Content-Security-Policy`` on every HTML response (see above).
    - ``Cache-Control: no-store`` (and ``Pragma: no-cache`` for old proxies)
      on every response to a signed-in user: pages, API answers and file
      downloads all hold personal data, which must not stay in a shared
      computer's browser cache or a proxy. Static files never get here
      (whitenoise answers them earlier in MIDDLEWARE) and stay cacheable.

    Listed after AuthenticationMiddleware, so it knows the user, and before
    the middleware that turns errors into pages, so those get the headers too.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        # With SINERGI_DEBUG=1, Django's own 404 and 500 pages (inline style
        # and script) stay readable; tests and production run without it.
        technical = settings.DEBUG and response.status_code in (404, 500)
        if response.get("Content-Type", "").startswith("text/html") and not technical and \
                "Content-Security-Policy" not in response:
            match = getattr(request, "resolver_match", None)
            docs = match is not None and match.view_name == API_DOCS_VIEW
            response["Content-Security-Policy"] = API_DOCS_POLICY if docs else \
                CONTENT_SECURITY_POLICY
        if _signed_in(request):
            add_never_cache_headers(response)
            response["Pragma"] = "no-cache"
        return response
