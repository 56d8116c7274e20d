"""How long a run will take on the train worker: from the speed of the last runs of the same
architecture there, else from a measurement on the 2-core development CPU."""

import statistics
from dataclasses import dataclass

from inference import architectures as nets

from training.models import TrainingRun

# Seconds per content-loss step at batch 8, patch 128 on the 2-core CPU (bench/train_speed.py,
# figures in docs/benchmarks.md). Time grows with the pixels of a batch.
CPU_SECONDS_PER_STEP = {nets.NAFNET: 0.52, nets.DEBLURGAN: 6.9, nets.SRN: 4.9}
REFERENCE_PIXELS = 8 * 128 * 128
# An adversarial step runs the critic critic_steps (5) times and the generator once.
ADVERSARIAL_COST = 3.0
RECENT_RUNS = 5


@dataclass(frozen=True)
class Estimate:
    seconds: float | None
    text: str


def _duration(seconds: float) -> str:
    """In the units of the run page's time left (static/js/run.js): a short run in seconds,
    so that the estimate grows with its steps from the first one."""
    if seconds < 90:
        return f"about {max(1, round(seconds))} s"
    if seconds < 5400:
        return f"about {round(seconds / 60)} min"
    return f"about {seconds / 3600:.1f} h"


def estimate(architecture: str, *, steps: int, gan_steps: int, batch: int, patch: int) -> Estimate:
    if architecture not in CPU_SECONDS_PER_STEP or min(steps, batch, patch) < 1:
        return Estimate(None, "Choose an architecture, steps, batch and patch to see an estimate.")
    recent = TrainingRun.objects.filter(architecture=architecture, seconds_per_step__isnull=False)[:RECENT_RUNS]
    rates = [run.seconds_per_step / (run.config["batch"] * run.config["patch"] ** 2) for run in recent]
    if rates:
        per_pixel = statistics.median(rates)
        basis = f"the speed of the last {len(rates)} {architecture} run(s) on the train worker"
    else:
        per_pixel = CPU_SECONDS_PER_STEP[architecture] / REFERENCE_PIXELS
        basis = "a measurement on a 2-core CPU, as no run of this architecture has been timed here yet (a GPU is much faster)"
    seconds = (steps + ADVERSARIAL_COST * gan_steps) * batch * patch * patch * per_pixel
    text = f"{_duration(seconds)} of training steps, plus the start-up and the benchmark scoring. From {basis}."
    return Estimate(seconds, text)
