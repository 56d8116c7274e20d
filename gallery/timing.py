"""The times people see for a job: its progress between the worker's writes, its time left,
and a queued job's wait. Plain arithmetic on a job's row, shared by the photo page and the API.

The worker writes progress after a tile at most once a second (jobs._ProgressWriter), as
the share of the job's expected time done, and where the current tile will end. In between,
progress moves on at the expected speed, up to the tile's end: the bar moves while a tile
runs, and the time left falls steadily, never rising while the job keeps its expected pace."""

from dataclasses import dataclass
from datetime import datetime

# Below this much progress, the time so far says too little about the total.
MIN_PROGRESS = 0.02
# A job more than this much slower than expected has its total grow by the excess: the
# estimate was wrong, and saying so beats a time left that stays put, while a job near its
# expected pace keeps a time left that falls steadily. Growing by the excess, not jumping to
# the job's own pace, keeps the time left from leaping at the threshold. Judged once this
# much is done:
# before, the pace is the first stage's (loading a model, estimating a kernel), which is no
# guide to the rest (bench/eta.py: an 8 MP Camera shake job 9 % slower in all looked 32 %
# slower after its estimation, and its time left jumped 7 s).
SLOWER = 1.25
JUDGE_PROGRESS = 0.25


@dataclass(frozen=True)
class Run:
    """What a running job's row says about its pace."""

    started: datetime
    written: datetime  # when the worker last wrote progress (its heartbeat)
    progress: float  # share of the expected time done, as of `written`
    cap: float  # where the tile that was running at `written` ends
    expected: float | None  # seconds the whole job should take


def total_seconds(run: Run) -> float | None:
    """How long the whole job will take: as expected, more where it runs much slower."""
    elapsed = (run.written - run.started).total_seconds()
    observed = elapsed / run.progress if run.progress >= MIN_PROGRESS else None
    if run.expected is None:
        return observed
    if observed is None or run.progress < JUDGE_PROGRESS:
        return run.expected
    return run.expected + max(0.0, observed - SLOWER * run.expected)


def progress_at(run: Run, now: datetime) -> float:
    """The progress at `now`: the last written, moved on at the expected pace up to the end of
    the tile it was in."""
    total = total_seconds(run)
    if not total:
        return run.progress
    moved = run.progress + (now - run.written).total_seconds() / total
    return min(max(run.cap, run.progress), moved, 1.0)


def seconds_left(run: Run, now: datetime) -> float | None:
    total = total_seconds(run)
    return None if total is None else total * (1 - progress_at(run, now))


def wait_seconds(running_left: list[float], ahead: list[float], workers: int) -> float:
    """A queued job's wait: the time left of the running jobs and the expected times of the
    jobs really ahead of it, shared among the queue's workers."""
    return (sum(running_left) + sum(ahead)) / max(1, workers)
