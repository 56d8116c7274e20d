"""An hourly request budget for a rate-limited API, kept in the database so every
worker and shell command draws on the same count."""

from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from training.models import ApiBudget

WINDOW = timedelta(hours=1)


class BudgetSpent(Exception):
    """No requests left in this window; the work can go on at resume_at."""

    def __init__(self, resume_at: datetime) -> None:
        super().__init__(f"Hourly request budget spent; continuing at {resume_at:%H:%M} UTC.")
        self.resume_at = resume_at


def _current(api: str, now: datetime) -> ApiBudget:
    budget, _ = ApiBudget.objects.select_for_update().get_or_create(api=api, defaults={"window_start": now})
    if now - budget.window_start >= WINDOW:
        budget.window_start, budget.used = now, 0
    return budget


def spend(api: str, limit: int) -> None:
    """Count one request, or raise BudgetSpent if the window's budget is gone."""
    now = timezone.now()
    with transaction.atomic():
        budget = _current(api, now)
        if budget.used >= limit:
            raise BudgetSpent(budget.window_start + WINDOW)
        budget.used += 1
        budget.save()


def exhaust(api: str, limit: int) -> datetime:
    """The API says nothing is left (remaining 0, or a rate-limit answer): spend the
    rest of the window; returns when the next one starts."""
    with transaction.atomic():
        budget = _current(api, timezone.now())
        budget.used = max(budget.used, limit)
        budget.save()
        return budget.window_start + WINDOW
