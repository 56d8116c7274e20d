"""The processes `make run` starts (Procfile): a worker for every queue a task is routed to,
users' deblurring alone on its worker, training at low priority, beat's checks on a queue
that no long job holds up."""

import os
import shlex
import subprocess
from pathlib import Path

import pytest

from celery import current_app
from django.conf import settings

PROCFILE = Path(__file__).resolve().parents[2] / "Procfile"


def processes() -> dict[str, list[str]]:
    lines = [line.split(":", 1) for line in PROCFILE.read_text().splitlines() if line.strip()]
    return {name: shlex.split(command) for name, command in lines}


def queues_of(command: list[str]) -> set[str]:
    return set(command[command.index("--queues") + 1].split(",")) if "--queues" in command else set()


def test_every_routed_queue_has_a_worker_and_deblur_has_its_own():
    workers = {name: queues_of(command) for name, command in processes().items() if "worker" in command}
    routed = {route["queue"] for route in settings.CELERY_TASK_ROUTES.values()} | {settings.CELERY_TASK_DEFAULT_QUEUE}
    assert routed <= set().union(*workers.values())
    assert [queues for queues in workers.values() if "deblur" in queues] == [{"deblur"}]
    # No worker forks children of its own (TensorFlow's state does not survive a fork); the
    # downloads worker's blends and ZIPs run in threads, so one long ZIP leaves room for blends.
    pools = {name: command[command.index("--pool") + 1] for name, command in processes().items() if name in workers}
    assert pools.pop("downloads") == "threads" and set(pools.values()) == {"solo"}


def test_training_runs_at_the_lowest_priority_one_at_a_time():
    (train,) = [command for command in processes().values() if "train" in queues_of(command)]
    assert train[:3] == ["nice", "-n", "19"] and train[train.index("--pool") + 1] == "solo"


def test_beat_runs_once_and_its_tasks_go_to_the_maintenance_queue():
    beats = [command for command in processes().values() if "--beat" in command]
    assert len(beats) == 1 and queues_of(beats[0]) == {"maintenance"}
    router = current_app.amqp.router
    for entry in settings.CELERY_BEAT_SCHEDULE.values():
        assert router.route({}, entry["task"])["queue"].name == "maintenance", entry["task"]


README = PROCFILE.parent / "README.md"


def readme_production_commands() -> list[list[str]]:
    """The commands of the README's "Running with PostgreSQL, Redis and S3" block."""
    section = README.read_text().split("## Running with PostgreSQL, Redis and S3", 1)[1]
    block = section.split("```sh\n", 1)[1].split("```", 1)[0]
    lines = [line.split("  #", 1)[0] for line in block.splitlines() if line.startswith(".venv/bin/")]
    return [shlex.split(line.removeprefix(".venv/bin/")) for line in lines]


def routed_queues() -> set[str]:
    return {route["queue"] for route in settings.CELERY_TASK_ROUTES.values()} | {settings.CELERY_TASK_DEFAULT_QUEUE}


def test_the_readme_production_commands_start_a_worker_for_every_routed_queue_and_one_beat():
    commands = readme_production_commands()
    workers = [command for command in commands if command[:1] == ["celery"] and "worker" in command]

    assert routed_queues() <= set().union(*map(queues_of, workers))
    assert [queues_of(command) for command in workers if "--beat" in command] == [{"maintenance"}]
    pools = {command[command.index("--hostname") + 1]: command[command.index("--pool") + 1] for command in workers}
    assert pools.pop("downloads@%h") == "threads" and set(pools.values()) == {"solo"}


def sets_its_control_socket(command: list[str]) -> bool:
    return "--no-control-socket" in command or "--control-socket" in command


def test_gunicorn_never_uses_the_default_control_socket_that_two_instances_would_share():
    (web,) = [command for command in processes().values() if command[0] == "gunicorn"]
    (readme_web,) = [command for command in readme_production_commands() if command[0] == "gunicorn"]
    assert sets_its_control_socket(web) and sets_its_control_socket(readme_web)


def make_run_commands(*assignments: str) -> str:
    """What `make run` would do, printed by make without doing it, whatever BIND this shell has."""
    env = {name: value for name, value in os.environ.items() if name != "BIND"}
    command = ["make", "-n", "run", *assignments]
    return subprocess.run(command, cwd=PROCFILE.parent, env=env, capture_output=True, text=True, check=True).stdout


@pytest.mark.parametrize(("bind", "url"), [("127.0.0.1:8101", "http://127.0.0.1:8101"), ("0.0.0.0:9000", "http://127.0.0.1:9000")])
def test_make_run_prints_the_links_of_the_address_it_binds(bind, url):
    commands = make_run_commands(f"BIND={bind}")

    assert f'echo "Deblur: {url}  ' in commands
    assert f"manage.py ensure_admin --site-url {url}\n" in commands
    assert ":8000" not in commands


def test_make_run_serves_and_prints_127_0_0_1_8000_by_default_as_the_procfile_binds():
    (web,) = [command for command in processes().values() if command[0] == "gunicorn"]
    assert web[web.index("--bind") + 1] == "${BIND:-127.0.0.1:8000}"
    assert "--site-url http://127.0.0.1:8000\n" in make_run_commands()
