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


def cubic_shift(image: np.ndarray, shift: tuple[float, float]) -> np.ndarray:
    """The literature's move of a frame, written out with scipy: cubic spline, edge repeated,
    rounded to uint8."""
    channels = [image] if image.ndim == 2 else [image[..., c] for c in range(image.shape[2])]
    moved = [ndimage.shift(channel.astype(float), shift, order=3, mode="nearest") for channel in channels]
    return np.clip(np.rint(np.stack(moved, axis=-1)), 0, 255).astype(np.uint8).reshape(image.shape)


def as_grey(image: np.ndarray) -> np.ndarray:
    return np.rint(image @ [0.299, 0.587, 0.114]).astype(np.uint8)


@pytest.mark.parametrize("colour", ["rgb", "grey"])
@pytest.mark.parametrize("strip_rows", [37, 512])
def test_shifted_is_scipys_cubic_shift(colour, strip_rows, monkeypatch):
    monkeypatch.setattr(metrics, "ALIGN_STRIP_ROWS", strip_rows)
    photo = PHOTOS["coffee"] if colour == "rgb" else as_grey(PHOTOS["coffee"])

    for shift in [(2.25, -3.5), (0.0, 0.0), (-7.75, 0.5), (14.0, 3.0)]:
        assert np.array_equal(metrics.shifted(photo, shift), cubic_shift(photo, shift))


@pytest.mark.parametrize("colour", ["rgb", "grey"])
def test_aligned_finds_a_sub_pixel_shift(colour):
    sharp = PHOTOS["astronaut"] if colour == "rgb" else as_grey(PHOTOS["astronaut"])
    truth = (2.25, -3.5)
    # The blurred photo of a camera that moved: a centred blur leaves the shift where it was.
    moved = cubic_shift(sharp, truth)
    image = add_noise(ndimage.gaussian_filter(moved, sigma=(1.0, 1.0, 0)[: moved.ndim]), 2.0)

    scored = metrics.aligned(image, sharp, radius=6, border=8)

    assert abs(scored.shift[0] - truth[0]) <= 0.25 and abs(scored.shift[1] - truth[1]) <= 0.25
    crop = (slice(8, -8), slice(8, -8))
    assert scored.psnr > psnr(image[crop], sharp[crop]) + 5
    assert scored.ssim > ssim(image[crop], sharp[crop]) + 0.1
    # The figures are the project's PSNR and SSIM of the image against the sharp frame so
    # moved, both cropped.
    reference = cubic_shift(sharp, scored.shift)[crop]
    assert (scored.psnr, scored.ssim) == (psnr(image[crop], reference), ssim(image[crop], reference))


def test_aligned_of_an_image_identical_to_its_reference():
    photo = PHOTOS["chelsea"]

    scored = metrics.aligned(photo, photo.copy(), radius=5, border=8)

    assert scored.shift == (0.0, 0.0)
    assert scored.psnr == float("inf") and scored.ssim == pytest.approx(1.0)


def test_aligned_ignores_the_border_and_looks_no_further_than_the_radius():
    sharp = PHOTOS["coffee"]
    image = blur(cubic_shift(sharp, (5.0, -1.0)), 1.0)
    spoiled = image.copy()
    spoiled[:10] = 0
    spoiled[:, -10:] = 255

    scored = metrics.aligned(image, sharp, radius=8, border=10)

    assert metrics.aligned(spoiled, sharp, radius=8, border=10) == scored
    assert scored.shift == (5.0, -1.0)
    near = metrics.aligned(image, sharp, radius=2, border=10)
    assert max(abs(near.shift[0]), abs(near.shift[1])) <= 2 and near.psnr < scored.psnr - 3


def test_aligned_searches_a_large_photo_on_a_central_crop(monkeypatch):
    monkeypatch.setattr(metrics, "ALIGN_SEARCH_SIDE", 64)
    sharp = PHOTOS["coffee"]  # 201 x 257, searched on its central 64 x 64
    image = cubic_shift(sharp, (-1.75, 3.25))

    scored = metrics.aligned(image, sharp, radius=5, border=6)

    assert scored.shift == (-1.75, 3.25) and scored.psnr == float("inf")


def test_psnr_and_ssim_of_grey_images_are_those_of_their_three_equal_channels():
    sharp = as_grey(PHOTOS["coffee"])
    degraded = add_noise(ndimage.gaussian_filter(sharp, 1.5), 4.0)

    assert psnr(sharp, degraded) == pytest.approx(psnr(np.dstack([sharp] * 3), np.dstack([degraded] * 3)), abs=1e-12)
    assert ssim(sharp, degraded) == pytest.approx(ssim(np.dstack([sharp] * 3), np.dstack([degraded] * 3)), abs=1e-12)
    with pytest.raises(ValueError, match="differ in size"):
        psnr(sharp, np.dstack([degraded] * 3))


def test_aligned_refuses_a_border_that_leaves_nothing_to_score():
    with pytest.raises(ValueError, match="leaves too little"):
        metrics.aligned(PHOTOS["chelsea"], PHOTOS["chelsea"], radius=5, border=75)
