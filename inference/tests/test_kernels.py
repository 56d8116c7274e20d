"""The kernel engine (inference.kernels) and the Camera shake choice (inference.auto) on
real photos blurred by known kernels: the estimator recovers the kernel, deconvolution by
the true kernel gains, the gate tells right kernels from wrong ones and sharp photos from
blurred ones, and bad input comes back as it was, with a reason.

The photos are scikit-image's bundled astronaut and camera, at 256 px so that the file runs
in seconds. The kernels are the training data's (training.degrade). Every bound sits a
little below the figure measured when it was set, which the comment beside it gives."""

from functools import cache

import numpy as np
import pytest
from scipy import ndimage
from scipy.signal import fftconvolve
from skimage import data, transform

from inference import auto, kernels, metrics
from inference.kernels import deconvolve, estimate, fourier, gate
from inference.models import Method, NoModelInstalled, Verdict
from training import degrade

SIDE = 256
# A Boracchi camera shake 11 px across (radius of gyration 3.1 px): seed 2 on 19 px.
SHAKE_SEED, SHAKE_SUPPORT = 2, 19
# Sensor noise added before the uint8 quantisation, 0 to 1.
NOISE = 0.005


# Helpers ---------------------------------------------------------------------------------


@cache
def photo(name: str, side: int = SIDE) -> np.ndarray:
    """A scikit-image photo resized to side x side, float32 RGB in [0, 1]."""
    image = getattr(data, name)().astype(np.float32) / 255
    if image.ndim == 2:
        image = np.repeat(image[..., np.newaxis], 3, axis=2)
    resized = transform.resize(image, (side, side, 3), anti_aliasing=True).astype(np.float32)
    resized.flags.writeable = False
    return resized


def grey(image: np.ndarray) -> np.ndarray:
    return kernels.luminance(image).astype(np.float32)


def shake_kernel() -> np.ndarray:
    return degrade.trajectory_kernel(np.random.default_rng(SHAKE_SEED), SHAKE_SUPPORT, exposure=1.0)


def blurred_by(image: np.ndarray, kernel: np.ndarray, *, valid: bool = False) -> np.ndarray:
    """The image (H, W) or (H, W, C) blurred by the kernel. By default reflect-padded to
    keep its size; `valid` gives only the pixels whose whole neighbourhood is real, as a
    camera sees a scene that goes on beyond the frame."""
    reach = kernel.shape[0] // 2
    channels = ((0, 0),) * (image.ndim - 2)
    if not valid:
        image = np.pad(image, ((reach, reach), (reach, reach), *channels), mode="reflect")
    weights = kernel.reshape(kernel.shape + (1,) * (image.ndim - 2))
    return fftconvolve(image, weights, mode="valid", axes=(0, 1)).astype(np.float32)


def to_uint8(image: np.ndarray, noise: float = 0.0, seed: int = 0) -> np.ndarray:
    """Quantised as a camera stores it, after Gaussian noise of `noise` (0 to 1)."""
    if noise:
        image = image + np.random.default_rng(seed).normal(0, noise, image.shape)
    return np.clip(np.rint(image * 255), 0, 255).astype(np.uint8)


def padded(kernel: np.ndarray, size: int) -> np.ndarray:
    """The kernel centred in a larger odd support, as restore's kernels are (31 and up)."""
    margin = (size - kernel.shape[0]) // 2
    return np.pad(kernel, margin)


def centre_of_mass(kernel: np.ndarray) -> tuple[float, float]:
    rows, columns = np.indices(kernel.shape)
    return float((rows * kernel).sum()), float((columns * kernel).sum())


def assert_is_a_kernel(kernel: np.ndarray, size: int | None = None) -> None:
    """Odd square support, non-negative, sums to 1, centre of mass on the middle pixel."""
    assert kernel.ndim == 2 and kernel.shape[0] == kernel.shape[1] and kernel.shape[0] % 2 == 1, kernel.shape
    if size is not None:
        assert kernel.shape[0] == size
    assert kernel.dtype == np.float32
    assert np.isfinite(kernel).all() and kernel.min() >= 0
    assert kernel.sum() == pytest.approx(1, abs=1e-4)
    middle = kernel.shape[0] // 2
    row, column = centre_of_mass(kernel)
    assert abs(row - middle) <= 0.5 and abs(column - middle) <= 0.5, (row, column)


def judged(blurred: np.ndarray, kernel: np.ndarray) -> gate.Verdict:
    """The gate's verdict on a uint8 photo deconvolved by the kernel."""
    gray = grey(blurred.astype(np.float32) / 255)
    noise = kernels.noise_sigma(gray)
    return gate.check(gray, grey(kernels.deblur(blurred, kernel, noise)), kernel, noise)


def no_network(key: str):
    raise AssertionError(f"the Camera shake choice must not load a network (asked for {key!r})")


def psnr_gain(before: np.ndarray, after: np.ndarray, sharp: np.ndarray, where=np.s_[:]) -> float:
    return metrics.psnr(after[where], sharp[where]) - metrics.psnr(before[where], sharp[where])


@cache
def shaken_astronaut() -> tuple[np.ndarray, np.ndarray]:
    """(sharp, blurred) uint8 RGB, SIDE x SIDE: the astronaut shaken by shake_kernel(), as a
    camera would record it (valid blur of a larger view, noise, quantisation)."""
    kernel = shake_kernel()
    reach = kernel.shape[0] // 2
    view = photo("astronaut", SIDE + 2 * reach)
    sharp = to_uint8(view[reach:-reach, reach:-reach])
    blurred = to_uint8(blurred_by(view, kernel, valid=True), NOISE)
    assert sharp.shape == blurred.shape == (SIDE, SIDE, 3)
    return sharp, blurred


# Kernel estimation -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "kernel", "min_agreement"),
    [
        # Measured agreement 0.94 (a point kernel: 0.33).
        ("camera", shake_kernel(), 0.85),
        # Measured 0.93 (a point: 0.35).
        ("astronaut", degrade.linear_motion_kernel(11, 30, 15), 0.85),
        # Measured 0.95 (a point: 0.20).
        ("camera", degrade.defocus_kernel(3, 9), 0.85),
    ],
    ids=["shake", "linear-motion", "defocus"],
)
def test_the_estimator_recovers_a_known_kernel_from_a_synthetic_blur(name, kernel, min_agreement):
    blurred = to_uint8(blurred_by(grey(photo(name)), kernel), NOISE).astype(np.float32) / 255

    found = estimate.estimate(blurred, 25)

    assert_is_a_kernel(found, size=25)
    agreement = auto.kernel_agreement(found, kernel)
    assert agreement > min_agreement
    # And far more like the blur than "no blur" is.
    assert agreement > auto.kernel_agreement(estimate.delta(25), kernel) + 0.4
    assert gate.kernel_figures(found)["radius"] >= gate.SHARP_RADIUS


def test_the_kernel_size_follows_the_photo_within_bounds():
    assert kernels.kernel_size(256) == kernels.KERNEL_MIN == 31
    assert kernels.kernel_size(1024) == 41
    assert kernels.kernel_size(20_000) == kernels.KERNEL_MAX == 61
    assert all(kernels.kernel_size(side) % 2 == 1 for side in range(100, 3000, 37))


def test_a_kernel_scaled_up_to_full_size_is_still_a_centred_kernel():
    kernel = padded(degrade.linear_motion_kernel(9, 35, 11), 31)
    kernel = estimate.centre(np.roll(kernel, (2, -3), axis=(0, 1)))  # off-centre, then centred
    assert_is_a_kernel(kernel, size=31)

    full = kernels.full_size_kernel(kernel, 0.4)

    assert_is_a_kernel(full, size=estimate.odd(31 / 0.4))
    assert auto.kernel_agreement(estimate.resize_kernel(full, 31), kernel) > 0.9
    assert kernels.full_size_kernel(kernel, 1.0) is kernel


def test_restore_estimates_the_shake_and_undoes_it():
    sharp, blurred = shaken_astronaut()
    steps = []

    result = kernels.restore(blurred, progress=steps.append)

    assert result.verdict.passed and not result.verdict.sharp, result.verdict
    # After the estimation (its share of the modelled cost), then after the deconvolution.
    assert steps == [kernels.estimation_share(blurred.shape, kernels.FULL), 1.0]
    assert result.output.dtype == np.uint8 and result.output.shape == blurred.shape
    assert_is_a_kernel(result.kernel, size=kernels.kernel_size(SIDE))
    assert auto.kernel_agreement(result.kernel, shake_kernel()) > 0.85  # measured 0.93
    assert psnr_gain(blurred, result.output, sharp) > 3.0  # measured +4.3 dB (21.6 -> 25.9)
    assert 0 < result.noise < 0.02


def test_the_camera_shake_choice_says_it_made_the_photo_sharper():
    _, blurred = shaken_astronaut()

    outcome = auto.restore("shake", blurred, no_network)

    assert outcome.method == Method.KERNEL and outcome.model_name == auto.KERNEL_ENGINE
    assert outcome.verdict == Verdict.SHARPER
    assert "px across" in outcome.reason and "fell" in outcome.reason
    assert outcome.kernel is not None and not np.array_equal(outcome.output, blurred)
    # The kernel estimated on a thread beside the quarters check is the one restore finds.
    np.testing.assert_array_equal(outcome.output, kernels.restore(blurred).output)


# Non-blind deconvolution ----------------------------------------------------------------


@pytest.mark.parametrize(
    # Measured: astronaut +5.2 dB over the photo, +3.0 on its 16 px border, worst side -1.0
    # (the outermost 4 columns on the left, where the blur brought in what the frame does
    # not show); camera +4.4, +3.9 on its border, worst side +1.7.
    ("name", "min_gain"),
    [("astronaut", 4.5), ("camera", 3.8)],
)
def test_deconvolution_by_the_true_kernel_gains_and_its_border_does_not_ring(name, min_gain):
    kernel = shake_kernel()
    reach = kernel.shape[0] // 2
    view = photo(name, SIDE + 2 * reach)
    sharp = to_uint8(view[reach:-reach, reach:-reach])
    blurred = to_uint8(blurred_by(view, kernel, valid=True), NOISE)
    noise = kernels.noise_sigma(grey(blurred.astype(np.float32) / 255))

    restored = kernels.deblur(blurred, kernel, noise)

    assert restored.dtype == np.float32 and restored.shape == blurred.shape
    assert restored.min() >= 0 and restored.max() <= 1
    output = to_uint8(restored)
    assert psnr_gain(blurred, output, sharp) > min_gain
    band = 16
    border = np.ones(blurred.shape[:2], bool)
    border[band:-band, band:-band] = False
    assert psnr_gain(blurred, output, sharp, border) > 1.5
    for side in (np.s_[:band], np.s_[-band:], np.s_[:, :band], np.s_[:, -band:]):
        assert psnr_gain(blurred, output, sharp, side) > -2.0


def test_deconvolution_in_luma_and_chroma_gives_a_grey_photo_back_grey_and_as_its_luma_alone():
    """The channels are deconvolved as YCbCr and turned back into RGB: a grey photo has no
    chroma, so its result must be its luma's deconvolution in all three channels."""
    kernel = shake_kernel()
    luma = blurred_by(grey(photo("camera")), kernel)
    rgb = np.repeat(luma[..., np.newaxis], 3, axis=2)

    restored = deconvolve.deconvolve(rgb, kernel, 2000.0)

    alone = deconvolve.deconvolve_channel(luma, kernel, 2000.0)
    for channel in range(3):
        np.testing.assert_allclose(restored[..., channel], alone, atol=2e-5)


# The gate ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "crop"),
    # Estimated radius of gyration: 0.98 and 1.07 px, under SHARP_RADIUS (1.6).
    [("astronaut", False), ("camera", True)],
)
def test_a_sharp_photo_is_called_sharp_and_left_as_it_was(name, crop):
    if crop:  # the camera's own pixels: resized, its fine texture reads as a 3.7 px blur
        original = getattr(data, name)()
        top = (original.shape[0] - SIDE) // 2
        middle = original[top : top + SIDE, top : top + SIDE]
        rgb = np.repeat(middle[..., np.newaxis], 3, axis=2)
    else:
        rgb = to_uint8(photo(name))

    result = kernels.restore(rgb)

    assert result.verdict.sharp and not result.verdict.passed
    assert np.array_equal(result.output, rgb)
    assert gate.kernel_figures(result.kernel)["radius"] < gate.SHARP_RADIUS


def test_the_camera_shake_choice_says_a_sharp_photo_changed_little():
    rgb = to_uint8(photo("astronaut"))

    outcome = auto.restore("shake", rgb, no_network)

    assert outcome.method == Method.NONE and outcome.verdict == Verdict.LITTLE_CHANGE
    assert "sharp" in outcome.reason and "left as it was" in outcome.reason
    assert outcome.model_name == "" and np.array_equal(outcome.output, rgb)


def test_a_noise_image_is_left_as_it_was():
    # The estimator finds a point in pure noise (radius 1.1 px): nothing to undo.
    rgb = np.random.default_rng(1).integers(0, 256, (SIDE, SIDE, 3), dtype=np.uint8)

    outcome = auto.restore("shake", rgb, no_network)

    assert outcome.method == Method.NONE and outcome.verdict != Verdict.SHARPER
    assert np.array_equal(outcome.output, rgb) and "left as it was" in outcome.reason


def test_the_gate_calls_a_point_kernel_sharp():
    gray = grey(photo("camera"))

    verdict = gate.check(gray, gray, estimate.delta(31), 0.01)

    assert verdict.sharp and not verdict.passed


def test_the_gate_rejects_a_kernel_spread_over_its_whole_support():
    gray = grey(photo("camera"))
    spread = np.full((31, 31), 1 / 31**2, np.float32)

    verdict = gate.check(gray, gray, spread, 0.01)

    assert not verdict.passed and not verdict.sharp
    assert any("camera's path" in reason for reason in verdict.reasons)


LINEAR = degrade.linear_motion_kernel(15, 20, 17)


@pytest.mark.parametrize("name", ["astronaut", "camera"])
@pytest.mark.parametrize(
    "wrong",
    # Measured reblur (MAX_REBLUR 2.0) on astronaut and camera: the true kernel 0.35 and
    # 0.42; turned by 90 degrees 3.1 and 3.6 (PSNR -5.6 and -5.8 dB); 27 px long 5.7 and 3.4.
    [np.rot90(LINEAR).copy(), degrade.linear_motion_kernel(27, 20, 29)],
    ids=["turned-90-degrees", "far-too-long"],
)
def test_the_gate_rejects_a_wrong_kernel_by_its_reblur_and_accepts_the_true_one(name, wrong):
    blurred = to_uint8(blurred_by(photo(name), LINEAR), NOISE)
    size = kernels.kernel_size(SIDE)

    right = judged(blurred, padded(LINEAR, size))
    assert right.passed and not right.sharp, right
    assert right.figures["reblur"] < 0.7

    verdict = judged(blurred, padded(wrong, size))
    assert not verdict.passed and not verdict.sharp
    assert verdict.figures["reblur"] > gate.MAX_REBLUR
    assert any("blurring the result again" in reason for reason in verdict.reasons)


def test_the_gate_rejects_one_kernel_for_a_blur_that_differs_from_place_to_place():
    """A thing that moved across the camera's path: its part of the photo is blurred
    across the line that blurred the rest. The line's kernel explains the rest of the
    photo and not that part, so the gate rejects it by the spread of its residuals."""
    image = photo("astronaut", 640)
    line = padded(LINEAR, 31)
    shake = padded(shake_kernel(), 31)

    one_blur = judged(to_uint8(blurred_by(image, shake), NOISE), shake)
    assert one_blur.passed, one_blur
    assert one_blur.figures["reblur_spread"] < gate.MAX_REBLUR_SPREAD  # measured 2.42

    moved = np.concatenate([blurred_by(image, np.rot90(line))[:, :200], blurred_by(image, line)[:, 200:]], axis=1)
    verdict = judged(to_uint8(moved, NOISE), line)
    assert not verdict.passed and not verdict.sharp
    assert verdict.figures["reblur_spread"] > gate.MAX_REBLUR_SPREAD  # measured 9.49
    assert any("differs from place to place" in reason for reason in verdict.reasons)

    # Too small a photo to compare its parts (blocks of 85 px): no spread is judged.
    small = judged(to_uint8(blurred_by(photo("astronaut"), shake), NOISE), shake)
    assert small.passed and "reblur_spread" not in small.figures


# Bad input -----------------------------------------------------------------------------


def smooth_gradient(height: int = 200, width: int = 300) -> np.ndarray:
    rows, columns = np.mgrid[0:height, 0:width].astype(np.float32)
    ramps = [columns / width * 200 + 20, rows / height * 150 + 50, (rows + columns) / (height + width) * 100 + 60]
    return np.stack(ramps, axis=-1).astype(np.uint8)


def textured(height: int, width: int) -> np.ndarray:
    """A real photo's texture tiled out to any size."""
    tile = to_uint8(photo("astronaut"))
    reps = (-(-height // SIDE), -(-width // SIDE), 1)
    return np.ascontiguousarray(np.tile(tile, reps)[:height, :width])


BAD_INPUT = {
    "flat-grey": (lambda: np.full((128, 128, 3), 128, np.uint8), "too little detail"),
    "smooth-gradient": (smooth_gradient, "too little detail"),
    "tiny-20": (lambda: textured(20, 20), "too small"),
    "tiny-40": (lambda: textured(40, 40), "too small"),
    "just-under-min-side": (lambda: textured(kernels.MIN_SIDE - 1, 300), "too small"),
    "one-pixel-high": (lambda: textured(1, SIDE), "too small"),
    "one-pixel-wide": (lambda: textured(SIDE, 1), "too small"),
    "one-pixel": (lambda: textured(1, 1), "too small"),
}


@pytest.mark.parametrize(("make", "words"), BAD_INPUT.values(), ids=BAD_INPUT.keys())
def test_bad_input_is_left_as_it_was_with_a_reason(make, words):
    rgb = make()

    result = kernels.restore(rgb)
    outcome = auto.restore("shake", rgb, no_network)

    assert np.array_equal(result.output, rgb) and result.output.shape == rgb.shape
    assert not result.verdict.passed and not result.verdict.sharp and result.kernel is None
    assert any(words in reason for reason in result.verdict.reasons)
    assert outcome.method == Method.NONE and outcome.verdict == Verdict.NOT_IMPROVED
    assert np.array_equal(outcome.output, rgb) and outcome.model_name == ""
    assert words in outcome.reason and "left as it was" in outcome.reason


def test_a_photo_of_huge_aspect_is_left_as_it_was():
    # 48 x 3000: its working copy is 16 px high, less than the kernel's 41.
    rgb = textured(kernels.MIN_SIDE, 3000)

    outcome = auto.restore("shake", rgb, no_network)

    assert (outcome.method, outcome.verdict, outcome.kernel) == (Method.NONE, Verdict.NOT_IMPROVED, None)
    assert np.array_equal(outcome.output, rgb)
    assert "too narrow" in outcome.reason and "left as it was" in outcome.reason


# Fourier helpers --------------------------------------------------------------------------


def test_fourier_convolution_agrees_with_scipy_for_an_off_centre_kernel():
    rng = np.random.default_rng(0)
    image = rng.random((64, 80), dtype=np.float32)
    kernel = np.zeros((9, 9), np.float32)
    kernel[1:4, 5:8] = rng.random((3, 3))  # its mass up and to the right of the middle
    kernel /= kernel.sum()
    inner = np.s_[9:-9, 9:-9]  # circular and zero-padded convolution differ near the edges

    expected = fftconvolve(image, kernel, mode="same")

    np.testing.assert_allclose(fourier.convolve(image, kernel)[inner], expected[inner], atol=1e-5)
    by_otf = fourier.irfft2(fourier.rfft2(image) * fourier.otf(kernel, image.shape), image.shape)
    np.testing.assert_allclose(by_otf[inner], expected[inner], atol=1e-5)
    wide = rng.random((5, 11)).astype(np.float32)  # not square either
    np.testing.assert_allclose(fourier.convolve(image, wide)[inner], fftconvolve(image, wide, mode="same")[inner], atol=1e-4)


def test_fourier_gradients_are_the_operator_of_gradient_otfs():
    image = np.random.default_rng(1).random((48, 70), dtype=np.float32)
    dx, dy = fourier.gradient_otfs(image.shape)
    spectrum = fourier.rfft2(image)

    gx, gy = fourier.gradients(image)

    np.testing.assert_allclose(fourier.irfft2(spectrum * dx, image.shape), gx, atol=1e-5)
    np.testing.assert_allclose(fourier.irfft2(spectrum * dy, image.shape), gy, atol=1e-5)
    assert gx[5, 7] == pytest.approx(image[5, 8] - image[5, 7])
    assert gy[5, 7] == pytest.approx(image[6, 7] - image[5, 7])


def test_padding_keeps_the_photo_in_place_and_the_taper_leaves_it_alone():
    image = np.random.default_rng(2).random((50, 70), dtype=np.float32)
    kernel = padded(shake_kernel(), 21)

    padded_image, (top, left) = fourier.pad_for(image, 21)
    tapered = fourier.taper(padded_image, kernel, (top, left), image.shape)

    assert padded_image.shape[0] >= 50 + 2 * 21 and padded_image.shape[1] >= 70 + 2 * 21
    assert top >= 21 and left >= 21
    np.testing.assert_array_equal(padded_image[top : top + 50, left : left + 70], image)
    np.testing.assert_allclose(tapered[top : top + 50, left : left + 70], image, atol=1e-6)


# Kernel agreement --------------------------------------------------------------------------


def test_kernel_agreement_is_one_for_the_same_kernel_anywhere_and_lower_for_others():
    shake = padded(shake_kernel(), 31)
    moved = np.roll(shake, (4, -6), axis=(0, 1))
    line = padded(LINEAR, 31)

    assert auto.kernel_agreement(shake, moved) == pytest.approx(1, abs=1e-5)
    assert auto.kernel_agreement(shake, shake_kernel()) == pytest.approx(1, abs=1e-5)  # other support
    assert auto.kernel_agreement(line, np.rot90(line)) < 0.3  # measured 0.11
    assert auto.kernel_agreement(shake, line) < 0.5  # measured 0.32
    assert auto.kernel_agreement(line, estimate.delta(31)) < 0.4  # measured 0.30
    assert auto.kernel_agreement(shake, line) == pytest.approx(auto.kernel_agreement(line, shake), abs=1e-6)


def test_one_shake_everywhere_is_told_from_a_blur_that_differs_from_place_to_place():
    image = photo("astronaut", 640)
    line = padded(LINEAR, 23)
    one_blur = to_uint8(blurred_by(image, shake_kernel()), NOISE)
    # The left half shaken along a line, the right half across it: two blurs.
    two_blurs = np.concatenate(
        [blurred_by(image, line)[:, :320], blurred_by(image, np.rot90(line))[:, 320:]], axis=1
    )

    assert auto.regional_agreement(one_blur) >= auto.UNIFORM_AGREEMENT  # measured 0.94
    assert auto.regional_agreement(to_uint8(two_blurs, NOISE)) < auto.UNIFORM_AGREEMENT  # measured 0.30


def test_flat_quadrants_are_left_out_of_the_comparison():
    """Sky teaches the estimator nothing: a shake of a photo whose top half is flat is
    still one blur (measured 0.98), and a photo with detail in one quadrant only cannot be
    told."""
    image = photo("astronaut", 640).copy()
    image[:320] = 0.6
    assert auto.regional_agreement(to_uint8(blurred_by(image, shake_kernel()), NOISE)) >= auto.UNIFORM_AGREEMENT
    card = np.full_like(image, 0.6)
    card[400:560, 400:560] = image[400:560, 400:560]
    assert auto.regional_agreement(to_uint8(blurred_by(card, shake_kernel()), NOISE)) is None


# Auto's second opinion on clean photos ------------------------------------------------------


def softened(sigma: float) -> np.ndarray:
    """The astronaut slightly out of focus, clean (no noise added): a photo Auto compares."""
    return to_uint8(ndimage.gaussian_filter(photo("astronaut"), (sigma, sigma, 0)))


def boosted(image: np.ndarray) -> np.ndarray:
    """A float RGB image with its edges boosted, as a sharpening network gives it."""
    return to_uint8(image + 1.5 * (image - ndimage.gaussian_filter(image, (1, 1, 0))))


def crisp() -> np.ndarray:
    """What a network that sharpens well gives: the astronaut with its edges boosted (blur
    figure 0.29 against 0.37 to 0.45 for softened)."""
    return boosted(photo("astronaut"))


def network_giving(output: np.ndarray, asked: list | None = None):
    def load(key: str):
        if asked is not None:
            asked.append(key)
        return (lambda rgb, progress: output), "stub"

    return load


@pytest.mark.parametrize(
    # sigma 1.0: the engine finds a point kernel; 1.5: it deconvolves and its gate passes.
    ("sigma", "engine_method"),
    [(1.0, Method.NONE), (1.5, Method.KERNEL)],
)
def test_auto_keeps_a_clearly_sharper_network_result_on_a_clean_photo(sigma, engine_method):
    rgb, asked = softened(sigma), []
    assert auto.run_kernel_engine(rgb).method == engine_method

    outcome = auto.restore("auto", rgb, network_giving(crisp(), asked))

    assert asked == ["best"]
    assert outcome.method == Method.NETWORK and outcome.model_name == "stub" and outcome.kernel is None
    assert np.array_equal(outcome.output, crisp())
    assert "clearly sharper" in outcome.decision and "so Auto kept it" in outcome.decision


def test_auto_keeps_the_kernel_engines_result_where_the_network_is_not_clearly_sharper():
    rgb = softened(1.5)
    engine = auto.run_kernel_engine(rgb)
    # A network that gives the engine's own result back is no sharper than it.
    outcome = auto.restore("auto", rgb, network_giving(engine.output))

    assert outcome.method == Method.KERNEL and outcome.kernel is not None
    np.testing.assert_array_equal(outcome.output, engine.output)
    assert "was not clearly sharper" in outcome.decision


def test_auto_does_not_ask_a_network_about_a_noisy_photo():
    """The blur figure reads noise as detail: on a noisy photo a network that sharpens the
    noise would look sharper, so the engine's outcome stands without a comparison."""
    _, blurred = shaken_astronaut()

    outcome = auto.restore("auto", blurred, no_network)

    assert outcome.noise > auto.CLEAN_NOISE and outcome.method == Method.KERNEL
    assert "clearly sharper" not in outcome.decision


@pytest.mark.parametrize(("key", "kept"), [("best", True), ("fast", False)])
def test_the_fast_networks_result_is_kept_only_where_clearly_sharper(key, kept):
    """A result that lowers the blur figure by 0.02 to 0.05 is "sharper" from Best quality's
    network, but from the fast network, whose such results all lost on real blur, the photo
    is kept as it was."""
    rgb = softened(1.5)
    mildly_sharpened = boosted(rgb.astype(np.float32) / 255)
    drop = metrics.blur(rgb) - metrics.blur(mildly_sharpened)
    assert auto.LITTLE_CHANGE < drop < auto.CLEARLY_SHARPER

    outcome = auto.run_network(rgb, key, network_giving(mildly_sharpened))

    assert np.array_equal(outcome.output, mildly_sharpened if kept else rgb)
    assert outcome.method == (Method.NETWORK if kept else Method.NONE)
    assert outcome.verdict == (Verdict.SHARPER if kept else Verdict.LITTLE_CHANGE)
    assert kept or "left as it was" in outcome.reason


def test_auto_without_a_network_keeps_the_kernel_engines_outcome():
    def none_installed(key: str):
        raise NoModelInstalled('No model serves "Best quality" yet.')

    outcome = auto.restore("auto", softened(1.5), none_installed)

    assert outcome.method == Method.KERNEL and "network" not in outcome.decision
