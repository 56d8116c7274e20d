from django.conf import settings
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from accounts.forms import SignupForm
from gallery.models import bytes_used


def signup(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("gallery:history")

    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.save()
        # Two backends are configured (axes + ModelBackend), so login() must be told which.
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        return redirect("gallery:history")

    return render(request, "registration/signup.html", {"form": form})


@login_required
def profile(request: HttpRequest) -> HttpResponse:
    used = bytes_used(request.user)
    quota = settings.USER_QUOTA_BYTES
    ctx = {
        "photo_count": request.user.photos.count(),
        "bytes_used": used,
        "quota": quota,
        "percent_used": min(100, round(100 * used / quota)) if quota else 100,
    }
    return render(request, "accounts/profile.html", ctx)
