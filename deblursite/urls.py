from django.contrib import admin
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.templatetags.static import static
from django.urls import include, path
from django.views import defaults

from gallery import samples

from .bad_requests import bad_request


def home(request: HttpRequest) -> HttpResponse:
    found = samples.photos()
    return render(request, "home.html", {"sample_photos": [(s, found[s.slug]) for s in samples.SAMPLES if s.slug in found]})


def favicon(request: HttpRequest) -> HttpResponse:
    """Browsers ask for /favicon.ico on their own (pages link the SVG). Not a permanent
    redirect: the static file's hashed name changes with its content."""
    return HttpResponseRedirect(static("favicon.svg"))


urlpatterns = [
    path("", home, name="home"),
    path("favicon.ico", favicon),
    path("accounts/", include("accounts.urls")),
    path("photos/", include("gallery.urls")),
    path("api/v1/", include("deblursite.api_urls")),
    path("manage/", include("training.urls")),
    path("admin/", admin.site.urls),
]


def _api_or_page(status: int, detail: str, page):
    """API clients get JSON errors everywhere under /api/, even for a URL that matches nothing."""

    def handler(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if request.path.startswith("/api/"):
            return JsonResponse({"detail": detail}, status=status)
        return page(request, *args, **kwargs)

    return handler


# Django's own refusals, before a view sees the body (a form or JSON body over
# DATA_UPLOAD_MAX_MEMORY_SIZE, too many fields or files, a bad Host), with their reason.
handler400 = bad_request
handler404 = _api_or_page(404, "Not found.", defaults.page_not_found)
handler500 = _api_or_page(500, "Server error.", defaults.server_error)
