"""Routing by expected time, people taking turns on a queue, and the per-address cap."""

import pytest
from django.contrib.auth import get_user_model
from kombu.exceptions import OperationalError as BrokerUnreachable

from gallery import jobs, queueing, results
from gallery.models import Photo, Restoration
from gallery.queueing import Waiting, start_order
from gallery.uploads import UploadLimited, accept_photo
from inference import speed

from .conftest import photo_bytes, upload

OFFICE = "203.0.113.7"


@pytest.fixture
def sent(monkeypatch) -> list[tuple[int, str]]:
    """The messages sent to the broker, as (job, queue)."""
    messages = []
    monkeypatch.setattr("gallery.jobs.send", lambda restoration_id, queue: messages.append((restoration_id, queue)))
    return messages


def users(count: int, prefix: str = "user") -> list:
    return [get_user_model().objects.create_user(f"{prefix}{i}", password="x") for i in range(count)]


def queue_photo(user, *, choice="shake", size=(96, 64), address=None):
    image = upload("p.jpg", photo_bytes(size=size, blur=1.5))
    return accept_photo(user, image, original_name="p.jpg", choice=choice, address=address).restoration


def submit(capture, user, **kwargs) -> Restoration:
    """Upload as a request would: the job is placed and released once the rows commit."""
    with capture(execute=True):
        job = queue_photo(user, **kwargs)
    return Restoration.objects.get(pk=job.pk)


# -- routing by size -------------------------------------------------------------------------


def test_jobs_expected_to_run_long_go_to_the_long_queue(settings):
    settings.LONG_JOB_SECONDS = 60
    assert queueing.queue_for(59.9) == "deblur"
    assert queueing.queue_for(60.1) == "deblur-long"
    assert queueing.queue_for(None) == "deblur"  # a model that never ran: its first jobs measure it


def test_a_big_best_photo_goes_to_the_long_queue_and_a_small_fast_one_to_the_short(
    alice, bob, two_models, sent, django_capture_on_commit_callbacks
):
    speed.record(two_models["best"], "cpu-bfloat16", seconds=8.0, megapixels=1.0)
    speed.record(two_models["fast"], "cpu-bfloat16", seconds=1.0, megapixels=1.0)

    big = submit(django_capture_on_commit_callbacks, alice, choice="best", size=(4000, 3000))
    small = submit(django_capture_on_commit_callbacks, bob, choice="fast", size=(640, 480))

    assert (big.queue, small.queue) == ("deblur-long", "deblur")
    # Its network, the finishing, and the glimpse of its centre first (512 px square).
    glimpse = 8.0 * 512**2 / 1e6
    assert big.expected_seconds == pytest.approx(12 * (8.0 + speed.FINISHING_SECONDS_PER_MEGAPIXEL) + glimpse)
    assert sent == [(big.pk, "deblur-long"), (small.pk, "deblur")]
    # The small one waits for nothing: the big one is on the other queue.
    assert (small.queue_position, small.wait_seconds) == (0, 0)


def test_auto_is_routed_by_the_network_it_may_hand_the_photo_to(alice, two_models, sent, django_capture_on_commit_callbacks):
    speed.record(two_models["best"], "cpu-float32", seconds=20.0, megapixels=1.0)

    job = submit(django_capture_on_commit_callbacks, alice, choice="auto", size=(2000, 1500))  # 3 MP

    # The kernel engine's 10 s or so is what it likely takes; 60 s more if it needs Best quality's network.
    assert job.expected_seconds < 60 < job.expected_seconds + 60
    assert job.queue == "deblur-long"


def test_a_rerun_with_another_choice_moves_the_job_to_that_choices_queue(alice, two_models, sent, django_capture_on_commit_callbacks):
    speed.record(two_models["best"], "cpu-float32", seconds=40.0, megapixels=1.0)
    job = submit(django_capture_on_commit_callbacks, alice, choice="shake", size=(2000, 1500))
    Restoration.objects.filter(pk=job.pk).update(status="succeeded")

    with django_capture_on_commit_callbacks(execute=True):
        run = results.add_run(Photo.objects.get(pk=job.photo_id), "best")

    assert Restoration.objects.get(pk=run.pk).queue == "deblur-long"
    assert sent[-1] == (run.pk, "deblur-long")


# -- people take turns -----------------------------------------------------------------------


def waiting(pk: int, owner: int, address: str | None = None, seconds: float = 10.0) -> Waiting:
    return Waiting(pk, owner, address, seconds)


def test_one_users_many_jobs_let_anothers_first_job_go_second():
    line = [waiting(1, owner=1)]  # the one of user 1's that is released
    held = [waiting(pk, owner=1) for pk in range(2, 10)] + [waiting(10, owner=2)]

    order = [job.pk for job in start_order(line, held)]

    assert order[:3] == [1, 10, 2]
    assert sorted(order) == list(range(1, 11))


def test_jobs_from_many_accounts_at_one_address_take_one_turn_between_them():
    held = [waiting(pk, owner=pk, address=OFFICE) for pk in range(1, 6)]  # five accounts, one address
    held += [waiting(6, owner=6, address="198.51.100.2")]  # a sixth user elsewhere, who came last

    order = [job.pk for job in start_order([], held)]

    assert order == [1, 6, 2, 3, 4, 5]


def test_turns_alternate_between_two_busy_users():
    held = [waiting(pk, owner=1) for pk in (1, 2, 3)] + [waiting(pk, owner=2) for pk in (4, 5, 6)]

    assert [job.pk for job in start_order([], held)] == [1, 4, 2, 5, 3, 6]


def test_five_accounts_at_one_address_do_not_push_a_sixth_users_first_photo_behind_them(
    db, sent, media_storage, django_capture_on_commit_callbacks
):
    *office, sixth = users(6)
    flood = [submit(django_capture_on_commit_callbacks, user, address=OFFICE) for user in office for _ in range(2)]
    mine = submit(django_capture_on_commit_callbacks, sixth, address="198.51.100.2")

    # One of the office's ten jobs went to the broker; the sixth user's went straight after it.
    assert [pk for pk, _ in sent] == [flood[0].pk, mine.pk]
    assert mine.queue_position == 1
    assert mine.wait_seconds == pytest.approx(flood[0].expected_seconds)
    # Once the office's first starts, its next job joins the line, behind the sixth user's.
    assert jobs.claim(flood[0].pk) is not None
    with django_capture_on_commit_callbacks(execute=True):
        queueing.release("deblur")
    assert [pk for pk, _ in sent][2:] == [flood[1].pk]
    assert Restoration.objects.get(pk=mine.pk).queue_position == 1  # the running one


def test_a_cancelled_job_lets_its_owners_next_job_into_the_line(alice, sent, media_storage, django_capture_on_commit_callbacks):
    first, second = (submit(django_capture_on_commit_callbacks, alice) for _ in range(2))
    assert [pk for pk, _ in sent] == [first.pk]

    with django_capture_on_commit_callbacks(execute=True):
        assert jobs.cancel(first)

    assert [pk for pk, _ in sent] == [first.pk, second.pk]


def test_beat_releases_jobs_that_a_lost_release_left_held(alice, sent, media_storage, django_capture_on_commit_callbacks):
    job = queue_photo(alice)  # committed, but its release never ran

    with django_capture_on_commit_callbacks(execute=True):
        assert jobs.requeue_stale() == [job.pk]
    assert sent == [(job.pk, "deblur")]


def test_a_job_the_broker_could_not_take_is_held_again_and_sent_by_the_next_release(alice, monkeypatch, media_storage, django_capture_on_commit_callbacks):
    # The broker out of reach: the upload still succeeds, and the job must not stay released
    # with no message (for JOB_STALE_SECONDS, its owner's next jobs held behind it).
    def unreachable(args, queue):
        raise BrokerUnreachable("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr("gallery.tasks.deblur.apply_async", unreachable)
    first, second = (submit(django_capture_on_commit_callbacks, alice) for _ in range(2))
    assert first.enqueued_at is None and second.enqueued_at is None

    sent = []
    monkeypatch.setattr("gallery.tasks.deblur.apply_async", lambda args, queue: sent.append((args[0], queue)))
    with django_capture_on_commit_callbacks(execute=True):
        jobs.requeue_stale()  # beat, once the broker is back
    assert sent == [(first.pk, "deblur")]  # the owner's first, alone in the line as before
    assert Restoration.objects.get(pk=first.pk).enqueued_at is not None


# -- the per-address cap ---------------------------------------------------------------------


def test_many_accounts_from_one_address_share_one_queue_cap(db, settings, sent, media_storage):
    settings.UPLOAD_QUEUE_MEGAPIXELS = 1
    settings.UPLOAD_ADDRESS_QUEUE_MEGAPIXELS = 2
    office = users(3, "office")
    for user in office[:2]:
        queue_photo(user, size=(1000, 800), address=OFFICE)  # 0.8 MP each, under each user's own cap

    with pytest.raises(UploadLimited) as refused:
        queue_photo(office[2], size=(1000, 800), address=OFFICE)

    assert refused.value.code == "queue_full" and "Your network address has 2 MP waiting" in refused.value.message
    # Elsewhere, the same account may upload.
    assert queue_photo(office[2], size=(1000, 800), address="198.51.100.9")
