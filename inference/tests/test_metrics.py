import numpy as np
import pytest
from scipy import ndimage
from skimage import data
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

from inference.metrics import psnr, sharpness, ssim


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
    assert sharpness(degraded, strip_rows=strip_rows) == pytest.approx(
        sharpness(degraded, strip_rows=10_000), rel=1e-9
    )


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
def test_sharpness_falls_as_blur_grows(photo):
    sharp = PHOTOS[photo]
    scores = [sharpness(sharp)] + [sharpness(blur(sharp, sigma)) for sigma in (0.8, 1.5, 3.0)]

    assert scores == sorted(scores, reverse=True)
    assert scores[-1] < scores[0] / 10


def test_sharpness_of_a_flat_image_is_zero():
    assert sharpness(np.full((20, 30, 3), 128, np.uint8)) == 0.0


def test_sharpness_uses_luminance():
    # A pure-blue edge is a much weaker luminance edge than a pure-green one.
    blue_edge = np.zeros((16, 16, 3), np.uint8)
    blue_edge[:, 8:, 2] = 255
    green_edge = np.zeros((16, 16, 3), np.uint8)
    green_edge[:, 8:, 1] = 255

    assert sharpness(green_edge) == pytest.approx(sharpness(blue_edge) * (0.587 / 0.114) ** 2)


@pytest.mark.parametrize(
    "a, b",
    [
        (np.zeros((20, 20, 3), np.uint8), np.zeros((20, 21, 3), np.uint8)),
        (np.zeros((20, 20, 3), np.float32), np.zeros((20, 20, 3), np.float32)),
        (np.zeros((20, 20), np.uint8), np.zeros((20, 20), np.uint8)),
    ],
)
def test_mismatched_or_non_rgb_inputs_are_refused(a, b):
    with pytest.raises(ValueError):
        psnr(a, b)
    with pytest.raises(ValueError):
        ssim(a, b)


def test_ssim_refuses_images_smaller_than_its_window():
    tiny = np.zeros((10, 40, 3), np.uint8)
    with pytest.raises(ValueError, match="11x11"):
        ssim(tiny, tiny)
