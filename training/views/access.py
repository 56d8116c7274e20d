from collections.abc import Callable
from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse


def staff_required(view: Callable) -> Callable:
    """Staff only: anyone else signed in gets the site's 403 page; anonymous visitors sign in first."""

    @login_required
    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not request.user.is_staff:
            raise PermissionDenied("Only staff can manage training data and models.")
        return view(request, *args, **kwargs)

    return wrapped
