from uuid import UUID

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from accounts.forms import SignupForm
from accounts.tokens import devices_of, revoke_token
from accounts.usage import usage_of


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
    return render(
        request, "accounts/profile.html", {"usage": usage_of(request.user), "devices": devices_of(request.user)}
    )


@login_required
@require_POST
def revoke_device(request: HttpRequest, pk: UUID) -> HttpResponse:
    if revoke_token(request.user, pk):
        messages.success(request, "Signed out that device: its API token no longer works.")
    else:
        messages.error(request, "That device was already signed out.")
    return redirect("profile")
