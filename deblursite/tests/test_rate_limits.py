"""The counted limits slide: no span of a window's length holds more than the limit,
whatever the clock says."""

import pytest

from deblursite import rate_limits
from deblursite.rate_limits import Charge, Rate, take

HOUR = 3600
EDGE = 1_800_000_000 // HOUR * HOUR  # some hour's first second
PER_HOUR = Rate(240, HOUR)


@pytest.fixture
def clock(monkeypatch):
    """The time the limits read, set by the test."""

    class Clock:
        now = float(EDGE)

        def time(self) -> float:
            return self.now

    clock = Clock()
    monkeypatch.setattr(rate_limits, "time", clock)
    return clock


def taken(count: int, charge: Charge) -> int:
    """How many of `count` charges in a row were let through."""
    return sum(take(charge) is None for _ in range(count))


def test_the_limit_holds_across_the_hours_edge(clock):
    charge = Charge("uploads:edge", PER_HOUR)
    clock.now = EDGE - 30
    assert taken(240, charge) == 240

    clock.now = EDGE + 30  # a clock-hour count would start again from zero here
    refused = take(charge)

    assert refused is not None and refused.charge == charge
    # The 240 leave the window when their twelfth of an hour does, five minutes late at most.
    assert HOUR - 60 <= refused.wait <= HOUR + HOUR // 12
    clock.now += refused.wait
    assert take(charge) is None


def test_the_allowance_comes_back_as_the_oldest_uploads_leave_the_window(clock):
    charge = Charge("uploads:steady", PER_HOUR)
    assert taken(100, charge) == 100
    clock.now += HOUR / 2
    assert taken(200, charge) == 140

    # The first hundred leave first: the wait is for them, not for the whole hour.
    refused = take(charge)
    assert refused is not None and refused.wait <= HOUR / 2 + HOUR // 12
    clock.now += refused.wait
    assert taken(200, charge) == 100


def test_a_refusal_takes_nothing_from_any_charge(clock):
    mine, theirs = Charge("uploads:user", Rate(10, HOUR)), Charge("uploads:address", Rate(3, HOUR))
    assert taken(3, Charge("uploads:address", Rate(3, HOUR))) == 3

    refused = take(mine, theirs)

    assert refused is not None and refused.charge == theirs
    assert taken(10, mine) == 10  # the refused attempt did not count against the user


def test_amounts_count_as_their_size(clock):
    pixels = Rate(1_500_000_000, HOUR)
    assert take(Charge("pixels:big", pixels, 1_400_000_000)) is None
    assert take(Charge("pixels:big", pixels, 200_000_000)) is not None
    assert take(Charge("pixels:big", pixels, 100_000_000)) is None
