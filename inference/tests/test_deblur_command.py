import os
import re
import subprocess
import sys
from io import StringIO

import numpy as np
import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from PIL import Image
from skimage import data

from inference.registry import register_model

PHOTO = data.chelsea()[:90, :120]  # 90 rows, 120 columns


def run(*args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("deblur", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


@pytest.fixture
def photos(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    Image.fromarray(PHOTO).save(folder / "cat.jpg", quality=90)
    Image.fromarray(PHOTO).save(folder / "cat-copy.webp")
    Image.fromarray(PHOTO).save(folder / "scan.TIFF")
    Image.fromarray(PHOTO).save(folder / "phone.heic")
    (folder / "notes.txt").write_text("not an image, and not picked up")
    return folder


def test_writes_a_png_per_image(active_model, photos, tmp_path):
    out, _ = run(str(photos), "--out", str(tmp_path / "out"))

    written = sorted(path.name for path in (tmp_path / "out").iterdir())
    assert written == ["cat-copy.png", "cat.png", "phone.png", "scan.png"]
    for name in written:
        with Image.open(tmp_path / "out" / name) as result:
            assert (result.format, result.mode, result.size) == ("PNG", "RGB", (120, 90))
    assert "Wrote 4 images" in out


def test_exif_orientation_is_applied_and_alpha_kept(active_model, tmp_path):
    rotated = tmp_path / "rotated.jpg"
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: the camera was turned; show rotated 90 degrees clockwise
    Image.fromarray(PHOTO).save(rotated, exif=exif)
    alpha = np.tile(np.linspace(0, 255, 120).astype(np.uint8), (90, 1))
    transparent = tmp_path / "logo.png"
    Image.fromarray(np.dstack([PHOTO, alpha])).save(transparent)

    run(str(rotated), "--out", str(tmp_path / "out"))
    run(str(transparent), "--out", str(tmp_path / "out"))

    with Image.open(tmp_path / "out" / "rotated.png") as result:
        assert result.size == (90, 120)
    with Image.open(tmp_path / "out" / "logo.png") as result:
        assert result.mode == "RGBA"
        assert np.array_equal(np.asarray(result)[..., 3], alpha)


def test_model_by_name_or_file_and_small_tiles(db, media_storage, tiny_model_file, photos, tmp_path):
    register_model(tiny_model_file, name="candidate")
    image = str(photos / "cat.jpg")

    run(image, "--out", str(tmp_path / "by-name"), "--model", "candidate", "--tile", "80")
    run(image, "--out", str(tmp_path / "by-file"), "--model", str(tiny_model_file), "--tile", "80")

    by_name = np.asarray(Image.open(tmp_path / "by-name" / "cat.png"))
    by_file = np.asarray(Image.open(tmp_path / "by-file" / "cat.png"))
    assert by_name.shape == PHOTO.shape
    assert np.array_equal(by_name, by_file)


def test_unreadable_images_are_skipped_and_reported(active_model, photos, tmp_path):
    (photos / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 truncated")
    out, err = StringIO(), StringIO()

    with pytest.raises(CommandError, match="1 of 5 images could not be read"):
        call_command("deblur", str(photos), "--out", str(tmp_path / "out"), stdout=out, stderr=err)

    assert "Skipped" in err.getvalue() and "broken.jpg" in err.getvalue()
    assert len(list((tmp_path / "out").iterdir())) == 4


@pytest.mark.parametrize(
    "args, message",
    [
        (["missing", "--out", "out"], "does not exist"),
        (["empty", "--out", "out"], "holds no images"),
        (["in", "--out", "out", "--model", "nope"], "No model named 'nope' \\(registered: tiny-test\\)"),
        (["in", "--out", "out", "--model", "missing.keras"], "No model file"),
        (["in", "--out", "out", "--model", "best", "--tile", "64"], "--tile must be more than 64"),
    ],
)
def test_clear_errors(active_model, photos, tmp_path, monkeypatch, args, message):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "empty").mkdir()

    with pytest.raises(CommandError, match=message):
        run(*args)


def test_a_choice_by_its_key_and_auto_by_default(two_models, photos, tmp_path):
    image = str(photos / "cat.jpg")
    runs = {
        "default": [], "auto": ["--model", "auto"], "best": ["--model", "best"], "fast": ["--model", "fast"],
        "by-name": ["--model", "tiny-fast"], "shake": ["--model", "shake"],
    }  # fmt: skip

    said = {folder: run(image, "--out", str(tmp_path / folder), *args)[0] for folder, args in runs.items()}

    result = {folder: np.asarray(Image.open(tmp_path / folder / "cat.png")) for folder in runs}
    assert np.array_equal(result["default"], result["auto"])
    assert not np.array_equal(result["best"], result["by-name"])
    # Fast: the kernel engine with fewer deconvolution steps first, the fast network where it cannot help.
    assert re.search(r"\((kernel estimation|left as it was|deblurring network: tiny-fast)", said["fast"])
    # Each photo's verdict, and what made it. The tiny network's weights are random: where its
    # output barely changed the blur figure, the photo is kept, and the line says whose it was.
    assert re.search(r"^cat\.jpg: (Sharper|Little change|Could not improve) \((deblurring network|left as it was): tiny-best\)\. ", said["best"], re.M)
    assert "(deblurring network: tiny-fast). " in said["by-name"]
    assert re.search(r"^cat\.jpg: (Sharper|Little change|Could not improve) \((kernel estimation|left as it was)", said["shake"], re.M)


def test_camera_shake_needs_no_model_and_undoes_a_known_shake(db, tmp_path):
    """The kernel engine (plain NumPy) on a shaken photo: no model, no TensorFlow."""
    from gallery.tests.test_auto import png, scene, shaken

    (tmp_path / "in").mkdir()
    sharp = scene()
    (tmp_path / "in" / "shaken.png").write_bytes(png(shaken(sharp)))

    out, _ = run(str(tmp_path / "in"), "--out", str(tmp_path / "out"), "--model", "shake")

    assert re.search(r"^shaken\.png: Sharper \(kernel estimation and deconvolution: kernel-engine\)\. Undid", out, re.M)
    result = np.asarray(Image.open(tmp_path / "out" / "shaken.png"))
    assert result.shape == sharp.shape and "Wrote 1 image" in out


def test_no_model_serves_the_choice(db, media_storage, tiny_model_file, photos, tmp_path):
    with pytest.raises(CommandError, match='No model serves "Best quality" yet'):
        run(str(photos), "--out", str(tmp_path / "out"), "--model", "best")

    register_model(tiny_model_file, name="best-only", serve=["best"])
    with pytest.raises(CommandError, match='No model serves "Fast" yet'):
        run(str(photos), "--out", str(tmp_path / "out"), "--model", "fast")


def test_images_that_would_overwrite_each_other_are_refused(active_model, photos, tmp_path):
    Image.fromarray(PHOTO).save(photos / "cat.png")

    with pytest.raises(CommandError, match="same file: cat.png"):
        run(str(photos), "--out", str(tmp_path / "out"))


def test_a_fresh_checkout_is_told_to_set_up_the_database(photos, tmp_path):
    """No database yet (a fresh clone, `make run` never run): one line that says what to
    run, not a traceback about a missing table."""
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'empty.sqlite3'}", "VAR_DIR": str(tmp_path / "var")}
    result = subprocess.run(
        [sys.executable, "manage.py", "deblur", str(photos), "--out", str(tmp_path / "out")],
        cwd=settings.BASE_DIR, env=env, capture_output=True, text=True, timeout=120,
    )

    assert result.returncode == 1
    assert "The database is not set up: run `make run` once, or `python manage.py migrate`." in result.stderr
    assert "Traceback" not in result.stderr


def test_auto_says_which_photo_needed_a_network_that_no_model_serves(db, photos, tmp_path, monkeypatch):
    from inference import auto

    # What Auto measures on large photos: kernels of the photo's quarters that disagree.
    monkeypatch.setattr(auto, "regional_agreement", lambda rgb: 0.2)
    out, err = StringIO(), StringIO()

    with pytest.raises(CommandError, match="1 of 1 images needed a network that no model serves"):
        call_command("deblur", str(photos / "cat.jpg"), "--out", str(tmp_path / "out"), stdout=out, stderr=err)

    assert 'Auto needed a network for it. No model serves "Best quality" yet' in err.getvalue()
    assert not (tmp_path / "out" / "cat.png").exists()
