import numpy as np
import pytest
from scipy import ndimage
from skimage import data
from skimage.measure import blur_effect
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

from inference import metrics
from inference.metrics import psnr, ssim


def blur(image: np.ndarray, sigma: float) -> np.ndarray:
    return ndimage.gaussian_filter(image, sigma=(sigma, sigma, 0)).astype(np.uint8)


def add_noise(image: np.ndarray, level: float, seed: int = 0) -> np.ndarray:
    noise = np.random.default_rng(seed).normal(0, level, image.shape)
    return np.clip(image + noise, 0, 255).round().astype(np.uint8)


# Real photos, cropped to keep the tests fast; odd sizes on purpose.
PHOTOS = {
    "astronaut": data.astronaut()[:256, :200],
    "coffee": data.coffee()[100:301, 150:407],
    "chelsea": data.chelsea()[:160, :233],
}
DEGRADATIONS = {
    "gaussian-blur": lambda image: blur(image, 2.0),
    "motion-blur": lambda image: ndimage.uniform_filter1d(image, size=9, axis=1),
    "noise": lambda image: add_noise(image, 12.0),
    "blur-and-noise": lambda image: add_noise(blur(image, 1.2), 5.0),
}


def skimage_ssim(a: np.ndarray, b: np.ndarray) -> float:
    return structural_similarity(
        a, b, channel_axis=-1, gaussian_weights=True, sigma=1.5, use_sample_covariance=False, data_range=255
    )


@pytest.mark.parametrize("photo", PHOTOS)
@pytest.mark.parametrize("degradation", DEGRADATIONS)
def test_psnr_and_ssim_match_scikit_image(photo, degradation):
    sharp = PHOTOS[photo]
    degraded = DEGRADATIONS[degradation](sharp)

    assert psnr(sharp, degraded) == pytest.approx(peak_signal_noise_ratio(sharp, degraded, data_range=255), abs=1e-9)
    assert ssim(sharp, degraded) == pytest.approx(skimage_ssim(sharp, degraded), abs=1e-9)


@pytest.mark.parametrize("strip_rows", [1, 7, 64])
def test_strips_give_the_same_result_as_one_pass(strip_rows):
    sharp = PHOTOS["coffee"]
    degraded = add_noise(blur(sharp, 1.5), 4.0)

    assert psnr(sharp, degraded, strip_rows=strip_rows) == pytest.approx(
        psnr(sharp, degraded, strip_rows=10_000), abs=1e-9
    )
    assert ssim(sharp, degraded, strip_rows=strip_rows) == pytest.approx(skimage_ssim(sharp, degraded), abs=1e-9)


def test_identical_images():
    photo = PHOTOS["chelsea"]

    assert psnr(photo, photo.copy()) == float("inf")
    assert ssim(photo, photo.copy()) == pytest.approx(1.0)


def test_more_damage_scores_lower():
    sharp = PHOTOS["astronaut"]
    light, heavy = blur(sharp, 1.0), blur(sharp, 3.0)

    assert psnr(sharp, heavy) < psnr(sharp, light)
    assert ssim(sharp, heavy) < ssim(sharp, light) < 1.0


@pytest.mark.parametrize("photo", PHOTOS)
def test_blur_rises_as_blur_grows(photo):
    sharp = PHOTOS[photo]
    scores = [metrics.blur(sharp)] + [metrics.blur(blur(sharp, sigma)) for sigma in (1.0, 2.0, 4.0)]

    assert scores == sorted(scores)
    assert 0 <= scores[0] < scores[-1] <= 1


def test_blur_is_scikit_images_blur_effect_of_the_2x2_averaged_luminance():
    photo = PHOTOS["coffee"]  # 201 x 257: the odd last row and column are left out
    luminance = (photo[:200, :256].astype(np.float64) @ [0.299, 0.587, 0.114]) / 255
    averaged = luminance.reshape(100, 2, 128, 2).mean(axis=(1, 3))

    assert metrics.blur(photo) == pytest.approx(blur_effect(averaged), abs=1e-5)


def test_blur_of_a_big_photo_is_measured_on_bigger_blocks(monkeypatch):
    photo = PHOTOS["astronaut"]  # 256 x 200
    monkeypatch.setattr(metrics, "MEASURE_PIXELS", 256 * 200 / 9)  # blocks of 3 x 3
    luminance = (photo[:255, :198].astype(np.float64) @ [0.299, 0.587, 0.114]) / 255

    assert metrics.blur(photo) == pytest.approx(blur_effect(luminance.reshape(85, 3, 66, 3).mean(axis=(1, 3))), abs=1e-5)


def test_blur_needs_a_photo_big_enough_to_measure():
    with pytest.raises(ValueError, match="at least 32 pixels"):
        metrics.blur(PHOTOS["chelsea"][:30, :100])
