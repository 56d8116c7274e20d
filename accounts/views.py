from uuid import UUID

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, logout
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import PasswordResetForm
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from accounts.deletion import charge_confirmation, delete_account, holdings_of
from accounts.forms import DeleteAccountForm, SignupForm
from accounts.tokens import devices_of, revoke_token
from accounts.usage import usage_of
from deblursite.client_ip import client_ip
from deblursite.rate_limits import Charge, Rate, hashed, in_words, take


def _too_many(response: HttpResponse, wait: int) -> HttpResponse:
    response.status_code = 429
    response["Retry-After"] = str(wait)
    return response


def signup(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("gallery:history")

    if request.method == "POST" and (
        refused := take(Charge(f"signup:{client_ip(request)}", Rate.parse(settings.API_AUTH_RATE)))
    ):
        # Not validated: what the form would say (a name already taken) is what a prober is after.
        form = SignupForm(initial={name: request.POST.get(name, "") for name in ("username", "email")})
        refusal = f"Too many sign-ups from your network. Please try again in {in_words(refused.wait)}."
        return _too_many(render(request, "registration/signup.html", {"form": form, "refusal": refusal}), refused.wait)

    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.save()
        # Two backends are configured (axes + ModelBackend), so login() must be told which.
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        return redirect("gallery:history")

    return render(request, "registration/signup.html", {"form": form})


class PasswordResetView(auth_views.PasswordResetView):
    """Django's, with a limit on the mails sent to one address and on the requests from
    one client. The refusal reads the same whether or not an account has the address."""

    def form_valid(self, form: PasswordResetForm) -> HttpResponse:
        email = form.cleaned_data["email"].strip().lower()
        refused = take(
            Charge(f"reset-client:{client_ip(self.request)}", Rate.parse(settings.PASSWORD_RESET_RATE_CLIENT)),
            Charge(f"reset-email:{hashed(email)}", Rate.parse(settings.PASSWORD_RESET_RATE_EMAIL)),
        )
        if not refused:
            return super().form_valid(form)
        form.add_error(
            None,
            "Too many reset links were asked for, for this email address or from your network, "
            f"so no email was sent. Please try again in {in_words(refused.wait)}.",
        )
        return _too_many(self.form_invalid(form), refused.wait)


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


@login_required
def delete_me(request: HttpRequest) -> HttpResponse:
    """The account and everything in it, deleted once the password confirms it."""
    user = request.user
    form = DeleteAccountForm(user, request.POST or None)
    context = {"form": form, "holdings": holdings_of(user)}
    if request.method == "POST":
        if refused := charge_confirmation(user):
            context["refusal"] = f"Too many tries. Please try again in {in_words(refused.wait)}."
            return _too_many(render(request, "accounts/delete.html", context), refused.wait)
        if form.is_valid():
            logout(request)
            complete = delete_account(user)
            messages.success(
                request,
                "Your account and all its photos were deleted."
                if complete
                else "Your account was deleted. The file store failed part-way; the remaining files will be removed shortly.",
            )
            return redirect("home")
    return render(request, "accounts/delete.html", context)
