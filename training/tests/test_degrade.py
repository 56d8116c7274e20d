"""Blur synthesis: kernels, linear light, noise, JPEG and the whole degrade() pipeline."""

import numpy as np
import pytest

from training.degrade import (
    CLEAN_MOTION,
    DEFAULT,
    REAL_MOTION,
    DegradeSettings,
    add_sensor_noise,
    blur,
    blur_patch,
    defocus_kernel,
    degrade,
    jpeg_reencode,
    layered_blur,
    linear_motion_kernel,
    linear_to_srgb,
    parallax_kernel,
    random_kernel,
    spatially_varying_blur,
    srgb_to_linear,
    trajectory_kernel,
)

# Every step that changes pixels switched off: degrade() must then be an exact crop.
IDENTITY = DegradeSettings(
    family_weights={"none": 1.0}, noise_read=(0.0, 0.0), noise_shot=(0.0, 0.0), jpeg_prob=0.0, highlight_prob=0.0
)


def quiet(family: str, **changes) -> DegradeSettings:
    """One blur family, no noise, no JPEG, no highlight boost unless changed."""
    return DegradeSettings(
        family_weights={family: 1.0},
        **{"noise_read": (0.0, 0.0), "noise_shot": (0.0, 0.0), "jpeg_prob": 0.0, "highlight_prob": 0.0, **changes},
    )


def photo(seed: int, size: int) -> np.ndarray:
    """A smooth random uint8 image with edges, more photo-like than white noise."""
    rng = np.random.default_rng(seed)
    coarse = rng.integers(0, 256, (size // 8 + 1, size // 8 + 1, 3), dtype=np.uint8)
    return np.repeat(np.repeat(coarse, 8, axis=0), 8, axis=1)[:size, :size].copy()


def centre_of_mass(kernel: np.ndarray) -> tuple[float, float]:
    rows, cols = np.indices(kernel.shape)
    return float((kernel * rows).sum()), float((kernel * cols).sum())


KERNELS = {
    "trajectory": lambda: trajectory_kernel(np.random.default_rng(3), 31),
    "linear": lambda: linear_motion_kernel(17.5, 30.0, 21),
    "defocus": lambda: defocus_kernel(6.5, 15),
}


@pytest.mark.parametrize("family", sorted(KERNELS))
def test_a_blurred_point_is_the_kernel(family):
    kernel = KERNELS[family]()
    size = kernel.shape[0]
    point = np.zeros((2 * size - 1, 2 * size - 1, 3), np.float32)
    point[size - 1, size - 1] = 1.0
    blurred = blur(point, kernel)
    assert blurred.shape == (size, size, 3)
    for channel in range(3):
        np.testing.assert_allclose(blurred[:, :, channel], kernel, atol=1e-6)


@pytest.mark.parametrize("family", ["trajectory", "linear", "defocus"])
def test_random_kernels_are_normalised_odd_and_centred(family):
    rng = np.random.default_rng(11)
    for _ in range(40):
        kernel = random_kernel(rng, DEFAULT, family)
        size = kernel.shape[0]
        assert kernel.dtype == np.float32
        assert kernel.shape == (size, size) and size % 2 == 1 and size <= DEFAULT.max_kernel
        assert kernel.min() >= 0
        assert abs(float(kernel.sum(dtype=np.float64)) - 1) < 1e-6
        # Trajectories are centred on their time-average position by construction, the
        # others are symmetric: the blurred image stays aligned with the sharp target.
        np.testing.assert_allclose(centre_of_mass(kernel), (size // 2, size // 2), atol=1e-3)


def bounding_box(kernel: np.ndarray) -> tuple[int, int]:
    rows, cols = np.nonzero(kernel)
    return int(np.ptp(rows)) + 1, int(np.ptp(cols)) + 1


@pytest.mark.parametrize("seed", range(5))
def test_trajectory_exposure_integrates_part_of_the_path(seed):
    # The full path is size - 2 = 39 px long; a tenth of it, 3.9 px, touches at most 5 pixels
    # across (ceil(3.9) + 1 for the bilinear splat) in either direction.
    short = trajectory_kernel(np.random.default_rng(seed), 41, exposure=0.1)
    full = trajectory_kernel(np.random.default_rng(seed), 41, exposure=1.0)
    assert max(bounding_box(short)) <= 5
    assert max(bounding_box(full)) > 5


def test_trajectory_kernel_rejects_bad_arguments():
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError):
        trajectory_kernel(rng, 40)
    with pytest.raises(ValueError):
        trajectory_kernel(rng, 41, exposure=0.0)


def test_the_none_family_is_the_identity():
    assert random_kernel(np.random.default_rng(0), DEFAULT, "none").tolist() == [[1.0]]


@pytest.mark.parametrize("length", [3.0, 9.0, 20.5, 38.0])
def test_linear_motion_has_its_length(length):
    horizontal = linear_motion_kernel(length, 0.0, 41)
    # One row only, and the length is the mass over the plateau height.
    assert np.count_nonzero(horizontal.sum(axis=1)) == 1
    profile = horizontal.sum(axis=0)
    assert profile.sum() / profile.max() == pytest.approx(length, abs=0.05)
    vertical = linear_motion_kernel(length, 90.0, 41)
    assert np.count_nonzero(vertical.sum(axis=0)) == 1
    np.testing.assert_allclose(vertical, horizontal.T, atol=1e-6)


def test_linear_motion_angle_is_counter_clockwise_on_screen():
    kernel = linear_motion_kernel(10.0, 45.0, 13)
    # Up and to the right: the top-right quadrant has mass, the top-left none.
    assert kernel[:6, 7:].sum() > 0.4
    assert kernel[:6, :6].sum() == 0


@pytest.mark.parametrize("radius", [2.5, 4.0, 7.3, 12.0])
def test_defocus_disc_has_area_pi_r_squared(radius):
    kernel = defocus_kernel(radius, 2 * int(np.ceil(radius)) + 3)
    assert kernel.sum() / kernel.max() == pytest.approx(np.pi * radius**2, rel=0.01)
    assert kernel[kernel.shape[0] // 2, 0] == 0  # nothing beyond the rim


def test_srgb_curve_known_values_and_round_trip():
    # IEC 61966-2-1: mid-grey 0.5 encodes 21.4 % of white; the linear toe below 0.04045.
    assert float(srgb_to_linear(np.float32(0.5))) == pytest.approx(0.214041, abs=1e-6)
    assert float(linear_to_srgb(np.float32(0.18))) == pytest.approx(0.461356, abs=1e-6)
    assert float(srgb_to_linear(np.float32(0.04))) == pytest.approx(0.04 / 12.92, rel=1e-6)
    values = np.concatenate([np.arange(256) / 255, np.linspace(0, 1, 100_001)]).astype(np.float32)
    assert np.abs(linear_to_srgb(srgb_to_linear(values)) - values).max() < 1e-6


@pytest.mark.parametrize("margin", [0, 7])
def test_degrade_with_everything_off_returns_the_input(margin):
    sharp = np.random.default_rng(1).integers(0, 256, (48, 40, 3), dtype=np.uint8)
    out = degrade(sharp, np.random.default_rng(2), IDENTITY, margin=margin)
    np.testing.assert_array_equal(out, sharp[margin : 48 - margin, margin : 40 - margin])


def test_every_uint8_value_survives_the_linear_round_trip():
    sharp = np.broadcast_to(np.arange(256, dtype=np.uint8)[:, None, None], (256, 2, 3)).copy()
    np.testing.assert_array_equal(degrade(sharp, np.random.default_rng(0), IDENTITY), sharp)


def test_blur_patch_uses_real_pixels_when_the_margin_allows():
    rng = np.random.default_rng(4)
    image = rng.random((60, 60, 3), dtype=np.float32)
    kernel = linear_motion_kernel(7.0, 20.0, 9)  # reach 4
    # A margin wider than the reach is cropped: the result is the plain 'valid' blur's interior.
    np.testing.assert_allclose(blur_patch(image, kernel, 10), blur(image, kernel)[6:-6, 6:-6], atol=1e-6)
    # A margin narrower than the reach is reflected: same size, inner part still exact.
    narrow = blur_patch(image, kernel, 1)
    assert narrow.shape == (58, 58, 3)
    np.testing.assert_allclose(narrow[3:-3, 3:-3], blur(image, kernel), atol=1e-6)


def test_linear_light_blur_brightens_an_edge_midpoint():
    edge = np.zeros((1, 41, 3), np.float32)
    edge[:, 20:] = 1.0  # black | white, in sRGB
    image = np.repeat(edge, 21, axis=0)
    kernel = linear_motion_kernel(11.0, 0.0, 13)
    in_srgb = blur(image, kernel)
    in_linear = linear_to_srgb(blur(srgb_to_linear(image), kernel))
    # The midpoint is half the light: 0.5 linear is 0.735 in sRGB, not 0.5.
    middle = 20 - 6
    assert in_srgb[4, middle, 0] == pytest.approx(0.5, abs=0.05)
    assert in_linear[4, middle, 0] == pytest.approx(0.735, abs=0.05)


def test_degrade_blurs_in_linear_light():
    sharp = np.zeros((80, 80, 3), np.uint8)
    sharp[:, 40:] = 255
    out = degrade(sharp, np.random.default_rng(0), quiet("defocus"), margin=20)
    # The two columns at the edge share its light, a + (1 - a) = 1 linear; encoded, their
    # mean is well above the 127.5 that blurring sRGB values would give.
    assert out[:, 19:21].mean() > 150


def test_highlight_boost_smears_bright_points_wider_and_brighter():
    sharp = np.full((80, 80, 3), 20, np.uint8)
    sharp[38:42, 38:42] = 255  # a small light source
    plain = degrade(sharp, np.random.default_rng(9), quiet("linear"), margin=20)
    boost = quiet("linear", highlight_prob=1.0, highlight_boost=(3.0, 3.0))
    boosted = degrade(sharp, np.random.default_rng(9), boost, margin=20)
    assert boosted.astype(int).sum() > plain.astype(int).sum() * 1.05
    assert np.count_nonzero(boosted > 100) > np.count_nonzero(plain > 100)
    # Dark pixels are not boosted: far from the light both are the background.
    np.testing.assert_array_equal(boosted[:5, :5], plain[:5, :5])


def test_shot_noise_grows_with_signal_and_read_noise_does_not():
    rng = np.random.default_rng(6)
    gain = 1e-3
    for level in (0.05, 0.5):
        flat = np.full((256, 256, 3), level, np.float32)
        assert add_sensor_noise(flat, rng, 0.0, gain).std() == pytest.approx(np.sqrt(gain * level), rel=0.03)
        assert add_sensor_noise(flat, rng, 0.01, 0.0).std() == pytest.approx(0.01, rel=0.03)


def test_noise_off_is_a_no_op():
    image = np.random.default_rng(0).random((8, 8, 3), dtype=np.float32)
    assert add_sensor_noise(image, np.random.default_rng(0), 0.0, 0.0) is image


def test_jpeg_reencode_keeps_the_size_and_approximates_the_image():
    rows, cols = np.mgrid[0:72, 0:70]
    image = np.stack([rows * 3, cols * 3, np.full_like(rows, 128)], axis=2).astype(np.uint8)  # smooth ramps
    decoded = jpeg_reencode(image, 90)
    assert decoded.shape == image.shape and decoded.dtype == np.uint8
    assert 0 < np.abs(decoded.astype(int) - image).mean() < 2
    out = degrade(photo(1, 90), np.random.default_rng(0), quiet("none", jpeg_prob=1.0), margin=5)
    assert out.shape == (80, 80, 3) and out.dtype == np.uint8


def test_layered_blur_far_from_the_object_is_the_background_blur():
    rng = np.random.default_rng(8)
    image = rng.random((100, 100, 3), dtype=np.float32)
    object_kernel = linear_motion_kernel(15.0, 10.0, 17)
    background_kernel = trajectory_kernel(rng, 21)
    mask = np.zeros((100, 100), np.float32)
    mask[60:90, 60:90] = 1.0
    out = layered_blur(image, mask, object_kernel, background_kernel, margin=10)
    background = blur_patch(image, background_kernel, 10)
    # The object smears at most 8 px from its mask: the top-left is untouched by it.
    np.testing.assert_allclose(out[:35, :35], background[:35, :35], atol=1e-5)
    assert np.abs(out[55:75, 55:75] - background[55:75, 55:75]).max() > 0.05
    # An object covering everything is all one sees.
    everywhere = layered_blur(image, np.ones_like(mask), object_kernel, background_kernel, margin=10)
    np.testing.assert_allclose(everywhere, blur_patch(image, object_kernel, 10), atol=1e-5)


def test_spatially_varying_blur_shape_and_determinism():
    image = np.random.default_rng(2).random((168, 168, 3), dtype=np.float32)
    first = spatially_varying_blur(image, np.random.default_rng(3), DEFAULT, margin=20)
    again = spatially_varying_blur(image, np.random.default_rng(3), DEFAULT, margin=20)
    assert first.shape == (128, 128, 3)
    np.testing.assert_array_equal(first, again)


@pytest.mark.parametrize("seed", range(6))
def test_degrade_is_deterministic_per_seed(seed):
    sharp = photo(seed, 168)
    first = degrade(sharp, np.random.default_rng(seed), margin=20)
    again = degrade(sharp, np.random.default_rng(seed), margin=20)
    assert first.shape == (128, 128, 3) and first.dtype == np.uint8
    np.testing.assert_array_equal(first, again)
    other = degrade(sharp, np.random.default_rng(seed + 100), margin=20)
    assert not np.array_equal(first, other)


def test_every_family_runs_with_and_without_enough_margin():
    sharp = photo(3, 100)
    for family in ("trajectory", "linear", "defocus", "varying", "none"):
        settings = DegradeSettings(family_weights={family: 1.0})
        for margin in (0, 20):
            out = degrade(sharp, np.random.default_rng(1), settings, margin=margin)
            assert out.shape == (100 - 2 * margin, 100 - 2 * margin, 3)


def test_clean_motion_pairs_carry_a_fraction_of_the_default_noise():
    # A flat patch: blur cannot change it, so what varies is noise (and JPEG's rounding).
    flat = np.full((64, 64, 3), 118, np.uint8)

    def mean_noise(settings: DegradeSettings) -> float:
        outputs = [degrade(flat, np.random.default_rng(seed), settings, margin=8) for seed in range(40)]
        return float(np.mean([out.astype(np.float64).std() for out in outputs]))

    assert mean_noise(CLEAN_MOTION) < 0.5 * mean_noise(DEFAULT)


def test_clean_motion_pairs_are_motion_blurred_or_sharp_never_defocused():
    assert CLEAN_MOTION.family_weights["defocus"] == 0
    assert CLEAN_MOTION.motion_length == DEFAULT.motion_length


def test_settings_are_validated():
    with pytest.raises(ValueError):
        DegradeSettings(max_kernel=40)
    with pytest.raises(ValueError):
        DegradeSettings(family_weights={"rain": 1.0})
    with pytest.raises(ValueError):
        DegradeSettings(max_kernel=21)  # the default motion lengths need 41
    with pytest.raises(ValueError):
        degrade(np.zeros((10, 10, 3), np.uint8), np.random.default_rng(0), margin=5)


def segment_of(kernel: np.ndarray) -> tuple[float, float]:
    """(length, angle in degrees counter-clockwise on screen) of a straight PSF, from its
    second moments: a uniform segment of length L has variance L^2 / 12 along itself."""
    rows, cols = np.indices(kernel.shape, dtype=np.float64)
    y0, x0 = centre_of_mass(kernel)
    x, y = cols - x0, -(rows - y0)  # y up, so that angles read counter-clockwise
    covariance = np.array(
        [[(kernel * x * x).sum(), (kernel * x * y).sum()], [(kernel * x * y).sum(), (kernel * y * y).sum()]]
    )
    values, vectors = np.linalg.eigh(covariance)
    major = vectors[:, 1]
    return float(np.sqrt(12 * values[1])), float(np.degrees(np.arctan2(major[1], major[0])) % 180)


def test_segment_of_reads_a_linear_kernel():
    length, angle = segment_of(linear_motion_kernel(30.0, 40.0, 33))
    assert length == pytest.approx(30.0, abs=1.0) and angle == pytest.approx(40.0, abs=1.0)


@pytest.mark.parametrize("seed", range(8))
def test_parallax_background_moves_along_the_object_by_another_length(seed):
    settings = DegradeSettings(parallax_ratio=(0.5, 1.5))
    kernel = parallax_kernel(np.random.default_rng(seed), 30.0, 60.0, settings)
    assert kernel.sum() == pytest.approx(1.0, abs=1e-5)
    length, angle = segment_of(kernel)
    assert 0.5 * 30 - 1.0 <= length <= 1.5 * 30 + 1.0
    assert abs(angle - 60.0) <= 10.5


def test_parallax_background_never_outgrows_the_kernel_support():
    settings = DegradeSettings(parallax_ratio=(3.0, 4.0))
    kernel = parallax_kernel(np.random.default_rng(0), 50.0, 0.0, settings)
    assert kernel.shape[0] <= settings.max_kernel
    assert segment_of(kernel)[0] == pytest.approx(settings.max_kernel - 2, abs=1.0)


def test_spatially_varying_blur_with_parallax_blurs_the_background_too():
    # An image whose left half is white and right half black. A still background would keep
    # the vertical edge a step in the rows that the object does not cover.
    image = np.zeros((168, 168, 3), np.float32)
    image[:, :84] = 1.0
    always = DegradeSettings(parallax_prob=1.0, parallax_ratio=(1.0, 1.0), object_length=(30.0, 30.0))
    out = spatially_varying_blur(image, np.random.default_rng(5), always, margin=20)
    ramp = out[:, 40:90, 0]
    # Every row crosses the edge in a ramp, never a step: nothing is still.
    assert np.all(np.abs(np.diff(ramp, axis=1)).max(axis=1) < 0.5)


def test_video_pairs_get_no_noise_and_no_jpeg():
    flat = np.full((64, 64, 3), 118, np.uint8)
    noisy = DegradeSettings(family_weights={"none": 1.0}, noise_read=(0.01, 0.02), jpeg_prob=1.0)
    video = DegradeSettings(family_weights={"none": 1.0}, noise_read=(0.01, 0.02), jpeg_prob=1.0, video_prob=1.0)
    for seed in range(5):
        assert degrade(flat, np.random.default_rng(seed), noisy, margin=8).std() > 0
        np.testing.assert_array_equal(degrade(flat, np.random.default_rng(seed), video, margin=8), flat[8:-8, 8:-8])


def test_video_pairs_are_blurred_on_encoded_values_and_camera_pairs_in_light():
    # Black and white halves blurred across the edge: halfway along the ramp an average of
    # encoded values is mid-grey (128), an average of light is half the light (188 encoded).
    edge = np.zeros((80, 80, 3), np.uint8)
    edge[:, 40:] = 255
    # Drawing the video coin too (and never winning it), the camera pair gets the same kernel.
    camera = quiet("linear", motion_length=(20.0, 20.0), video_prob=1e-12)
    video = quiet("linear", motion_length=(20.0, 20.0), video_prob=1.0)

    assert np.isclose(linear_to_srgb(np.float32(0.5)) * 255, 188, atol=1)
    camera_out = degrade(edge, np.random.default_rng(1), camera, margin=11).astype(np.float64)
    video_out = degrade(edge, np.random.default_rng(1), video, margin=11).astype(np.float64)
    # The encoded average is darker than the light average all along the ramp, and equal away
    # from it.
    ramp = (camera_out > 2) & (camera_out < 253)
    assert ramp.any()
    assert np.all(video_out[ramp] <= camera_out[ramp] + 1)
    assert (camera_out[ramp] - video_out[ramp]).max() > 40
    np.testing.assert_array_equal(video_out[~ramp & (camera_out <= 2)], 0)


def test_real_motion_pairs_are_half_video_and_half_camera():
    flat = np.full((64, 64, 3), 118, np.uint8)
    outputs = [degrade(flat, np.random.default_rng(seed), REAL_MOTION, margin=8) for seed in range(200)]
    unchanged = sum(np.array_equal(out, flat[8:-8, 8:-8]) for out in outputs)
    # A camera pair changes a flat patch unless its noise draws are tiny: most do.
    assert 70 <= unchanged <= 130
    assert REAL_MOTION.parallax_prob > 0 and REAL_MOTION.family_weights["varying"] > DEFAULT.family_weights["varying"]


@pytest.mark.parametrize("changes", [{"video_prob": 1.5}, {"parallax_prob": -0.1}, {"parallax_ratio": (0.0, 1.0)}])
def test_probabilities_and_ratios_are_validated(changes):
    with pytest.raises(ValueError):
        DegradeSettings(**changes)
