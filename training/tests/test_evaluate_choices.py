"""`manage.py evaluate --model auto|shake`: the choices that need no model, scored as users get them
(inference.auto), on a small benchmark of shaken photos."""

from io import StringIO

import numpy as np
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from PIL import Image

from gallery.tests.test_auto import scene, shaken


def run(*args: str) -> str:
    out = StringIO()
    call_command("evaluate", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


@pytest.fixture
def shaken_bench(tmp_path):
    bench = tmp_path / "shaken"
    (bench / "blur").mkdir(parents=True)
    (bench / "sharp").mkdir()
    for seed in (1, 3):
        sharp = scene(seed=seed)
        Image.fromarray(sharp).save(bench / "sharp" / f"{seed}.png")
        Image.fromarray(shaken(sharp)).save(bench / "blur" / f"{seed}.png")
    return bench


def mean_psnr(out: str, column: int) -> float:
    mean_line = next(line for line in out.splitlines() if line.startswith("mean"))
    return float(mean_line.split()[column])


def test_camera_shake_and_auto_are_scored_without_a_model(db, shaken_bench):
    for choice in ("shake", "auto"):
        out = run(str(shaken_bench), "--model", choice)

        assert f"Model: {choice}" in out
        # input PSNR SSIM, baseline PSNR SSIM seconds, the choice's PSNR SSIM seconds: the kernel engine gains.
        assert mean_psnr(out, 6) > mean_psnr(out, 1) + 3, out


def test_auto_that_needs_a_network_says_none_serves_it(db, shaken_bench, monkeypatch):
    from inference import auto

    monkeypatch.setattr(auto, "regional_agreement", lambda rgb: 0.2)

    with pytest.raises(CommandError, match='No model serves "Best quality" yet'):
        run(str(shaken_bench), "--model", "auto")
