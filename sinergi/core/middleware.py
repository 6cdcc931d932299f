from django.shortcuts import render

from .errors import AccessDenied


class AccessDeniedMiddleware:
    """Answer AccessDenied raised by a page with a 403 page that says why."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, AccessDenied):
            return render(request, "403.html", {"message": exception.message}, status=403)
        return None
