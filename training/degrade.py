"""Blur synthesis: (blurred, sharp) training pairs from sharp photos.

The physics, in order (DESIGN.md section 6): undo the sRGB gamma so that light adds up
linearly; optionally push near-saturated pixels over range, as real highlights are brighter
than the sensor's white and smear into long bright streaks; blur by a point-spread function
(PSF); clip at the sensor's white; add shot and read noise; redo the gamma; quantise to
8 bits; optionally re-encode as JPEG. Pairs made as GoPro made its blurred frames (averages
of encoded video frames, ``DegradeSettings.video_prob``) are blurred on the encoded values
instead, and get no noise and no JPEG.

Blur families:

- ``trajectory``: camera shake after Boracchi and Foi (2012), the kernels DeblurGAN trained on;
- ``linear``: straight motion (a pan, or a short exposure of any motion);
- ``defocus``: an out-of-focus disc;
- ``varying``: a moving object over a still or shaken background, blended by a soft mask;
- ``none``: a sharp input, so the model learns to leave sharp photos alone.

Everything is float32 numpy/scipy/Pillow: ``degrade`` runs once per training patch inside
``tf.data`` (through ``tf.numpy_function``), a few milliseconds for a 128x128 patch.
"""

from __future__ import annotations

import cmath
import io
import math
from dataclasses import dataclass, field

import numpy as np
from PIL import Image
from scipy.signal import fftconvolve

FAMILIES = ("trajectory", "linear", "defocus", "varying", "none")
_UNIFORM_FAMILIES = ("trajectory", "linear", "defocus", "none")

# Boracchi and Foi's trajectory: 2000 samples over a path of 60 px on a 64 px canvas.
_BORACCHI_STEPS = 2000
_BORACCHI_LENGTH = 60.0
# DeblurGAN's blur_image.py draws the "anxiety" (expl) from 0.001 ... 0.01.
_ANXIETY = (0.001, 0.01)


def _default_family_weights() -> dict[str, float]:
    # Straight pans carry weight too: real walking-camera blur (GoPro) is mostly long and
    # nearly straight, which curly shake trajectories of the same length do not reach.
    return {"trajectory": 0.35, "linear": 0.3, "defocus": 0.05, "varying": 0.25, "none": 0.05}


@dataclass(frozen=True)
class DegradeSettings:
    """Distributions that ``degrade`` draws from. Lengths in pixels, light in linear units
    (0 = black, 1 = the sensor's white).

    family_weights: relative frequency of each blur family (keys from ``FAMILIES``).
    max_kernel: largest PSF support (odd); the caller's patch margin should be max_kernel // 2.
    motion_length: path length of motion blur (trajectory and linear), drawn uniformly.
    object_length: path length of the moving object in the ``varying`` family.
    defocus_radius: radius of the defocus disc, drawn uniformly.
    noise_read: standard deviation of Gaussian read noise.
    noise_shot: shot-noise gain g, the variance at signal x being g * x (Poisson-Gaussian model).
    jpeg_prob, jpeg_quality: chance of a JPEG re-encode and its quality range (inclusive).
    highlight_prob, highlight_boost, highlight_threshold: chance of boosting highlights, the
        over-range factor at white, and the linear level from which the boost ramps up.
    video_prob: chance that a pair is made as GoPro's blurred frames were made, by averaging
        encoded video frames: blurred on gamma-encoded sRGB values rather than in linear light,
        with no highlight boost (encoded values stop at white), no sensor noise and no JPEG
        (averaging frames averages their noise away). Measured on gopro-real: a box blur of
        the encoded sharp frame fits every blurred frame checked better than the same blur in
        linear light, which also brightens them by one to three levels where the real ones
        are not brighter (bench/blur_space.py).
    parallax_prob: in the ``varying`` family, chance that the background moves along the
        object's direction by another length (a moving camera: near and far things blur the
        same way, by different amounts), instead of being still or shaken.
    parallax_ratio: the background's path length over the object's, drawn uniformly.
    """

    family_weights: dict[str, float] = field(default_factory=_default_family_weights)
    # GoPro's real blur at 1280x720 spans 10 to 50 px; a model trained on shorter paths
    # leaves it untouched (measured: +0.0 dB on gopro-real with paths up to 39 px).
    max_kernel: int = 61
    motion_length: tuple[float, float] = (5.0, 59.0)
    object_length: tuple[float, float] = (5.0, 59.0)
    defocus_radius: tuple[float, float] = (1.0, 6.0)
    noise_read: tuple[float, float] = (0.0, 0.003)
    noise_shot: tuple[float, float] = (0.0, 0.001)
    jpeg_prob: float = 0.5
    jpeg_quality: tuple[int, int] = (60, 95)
    highlight_prob: float = 0.5
    highlight_boost: tuple[float, float] = (1.0, 3.0)
    highlight_threshold: float = 0.9
    video_prob: float = 0.0
    parallax_prob: float = 0.0
    parallax_ratio: tuple[float, float] = (0.25, 1.5)

    def __post_init__(self) -> None:
        if self.max_kernel < 3 or self.max_kernel % 2 == 0:
            raise ValueError(f"max_kernel must be odd and >= 3, got {self.max_kernel}")
        unknown = set(self.family_weights) - set(FAMILIES)
        if unknown:
            raise ValueError(f"unknown blur families {sorted(unknown)}; known: {FAMILIES}")
        weights = list(self.family_weights.values())
        if min(weights, default=0.0) < 0 or sum(weights) <= 0:
            raise ValueError("family_weights must be non-negative with a positive sum")
        if not (0 <= self.video_prob <= 1 and 0 <= self.parallax_prob <= 1):
            raise ValueError("video_prob and parallax_prob must lie in [0, 1]")
        if self.parallax_ratio[0] <= 0:
            raise ValueError("parallax_ratio must be above 0")
        # Every PSF must fit its support: a path of length L needs L + 2 px (see below).
        longest = max(self.motion_length[1], self.object_length[1])
        if longest > self.max_kernel - 2 or self.defocus_radius[1] > self.max_kernel // 2 - 0.5:
            raise ValueError(f"blur sizes exceed max_kernel={self.max_kernel}")


# Trajectories carry the most realistic shake (DeblurGAN's only family); a quarter of the
# pairs have a moving object, as most GoPro frames do; straight motion covers pans; defocus
# is rare in GoPro footage; a few sharp inputs teach the model not to over-sharpen.
# Noise is mild: GoPro's blurred frames are averages of several video frames, so less noisy
# than one frame; a read std of 0.003 is about 10 levels in the darkest sRGB shadows.
DEFAULT = DegradeSettings()

# Real motion blur as GoPro-style cameras record it: averaged video frames carry almost no
# sensor noise, so a model trained on noisy inputs learns to smooth and loses detail on clean
# ones (measured: -1.0 dB on clean 25 px camera-shake blur). Motion only, little noise, light
# compression.
CLEAN_MOTION = DegradeSettings(
    family_weights={"trajectory": 0.3, "linear": 0.35, "defocus": 0.0, "varying": 0.3, "none": 0.05},
    noise_read=(0.0, 0.001),
    noise_shot=(0.0, 0.0001),
    jpeg_prob=0.2,
    jpeg_quality=(80, 95),
)

# Video-averaged and camera blur in one model. Half the pairs are made as GoPro's frames
# (video_prob): a model trained on noisy linear-light pairs alone smooths those frames and
# darkens them by about two levels (-0.66 dB on gopro-real 000110). The other half keep the
# default physics, noise and JPEG, which photos from cameras and phones need (the held-out
# set). Moving objects carry more weight, and their background often moves along with them
# by another length, as depth makes it under a moving camera.
REAL_MOTION = DegradeSettings(
    family_weights={"trajectory": 0.2, "linear": 0.35, "defocus": 0.05, "varying": 0.35, "none": 0.05},
    video_prob=0.5,
    parallax_prob=0.6,
)

# Named so that a run's config (JSON) can say which one it trained on.
SYNTHESES = {"default": DEFAULT, "clean-motion": CLEAN_MOTION, "real-motion": REAL_MOTION}


def srgb_to_linear(x: np.ndarray) -> np.ndarray:
    """IEC 61966-2-1 sRGB decoding: encoded values in [0, 1] to linear light in [0, 1]."""
    x = np.asarray(x, dtype=np.float32)
    power = ((x + np.float32(0.055)) / np.float32(1.055)) ** np.float32(2.4)
    return np.where(x <= 0.04045, x / np.float32(12.92), power)


def linear_to_srgb(x: np.ndarray) -> np.ndarray:
    """IEC 61966-2-1 sRGB encoding: linear light in [0, 1] to encoded values in [0, 1]."""
    x = np.asarray(x, dtype=np.float32)
    # np.maximum keeps the power's argument non-negative: np.where evaluates both branches.
    power = np.float32(1.055) * np.maximum(x, 0) ** np.float32(1 / 2.4) - np.float32(0.055)
    return np.where(x <= 0.0031308, x * np.float32(12.92), power)


# uint8 -> linear by table lookup: exact, and ten times faster than the power law.
_SRGB8_TO_LINEAR = srgb_to_linear(np.arange(256, dtype=np.float32) / np.float32(255))


def _splat(points: np.ndarray, size: int) -> np.ndarray:
    """Accumulates equal masses at complex positions (x + iy, pixels from the centre, y down)
    onto a (size, size) grid by bilinear weights, and normalises the sum to 1.

    Bilinear splatting keeps the mass's mean, so the PSF's centre of mass is the points' mean.
    Every point must satisfy -size//2 <= x, y < size//2."""
    half = size // 2
    x = points.real + half
    y = points.imag + half
    x0 = np.floor(x)
    y0 = np.floor(y)
    fx = x - x0
    fy = y - y0
    index = y0.astype(np.intp) * size + x0.astype(np.intp)
    indices = np.concatenate([index, index + 1, index + size, index + size + 1])
    weights = np.concatenate([(1 - fx) * (1 - fy), fx * (1 - fy), (1 - fx) * fy, fx * fy])
    psf = np.bincount(indices, weights, minlength=size * size)[: size * size]
    return (psf / psf.sum()).reshape(size, size).astype(np.float32)


def _boracchi_trajectory(rng: np.random.Generator, steps: int) -> np.ndarray:
    """First ``steps`` positions (complex, pixels) of a Boracchi-Foi random camera path of
    60 px over 2000 samples: a particle whose velocity gets Gaussian kicks, a centripetal pull
    back to the start (the hand steadying the camera) and, rarely, an impulsive near-reversal
    (pressing the button); the speed is renormalised each sample, so equal exposure times make
    equal path lengths."""
    step = _BORACCHI_LENGTH / (_BORACCHI_STEPS - 1)
    anxiety = rng.uniform(*_ANXIETY)
    centripetal = 0.7 * rng.uniform()
    gaussian = 10.0 * rng.uniform()
    big_shake = 0.2 * rng.uniform()
    # Fixed (DeblurGAN issue #178): the port, like the Matlab code, starts at v0 * anxiety
    # rather than at the step length v0 * L / (M - 1) of the paper's Algorithm 1, which
    # makes the first impulsive shake's size depend on the anxiety.
    velocity = cmath.exp(2j * math.pi * rng.uniform()) * step
    kicks = (rng.standard_normal(steps - 1) + 1j * rng.standard_normal(steps - 1)).tolist()
    shakes = (rng.uniform(size=steps - 1) < big_shake * anxiety).tolist()
    turns = (rng.uniform(size=steps - 1) - 0.5).tolist()
    # A Python loop over Python complex numbers: the recurrence is nonlinear (renormalised
    # speed), so it does not vectorise, and numpy scalars would be several times slower.
    position = 0j
    path = [position]
    for kick, shake, turn in zip(kicks, shakes, turns):
        impulse = 2 * velocity * cmath.exp(1j * (math.pi + turn)) if shake else 0j
        velocity += impulse + anxiety * (gaussian * kick - centripetal * position) * step
        velocity *= step / abs(velocity)
        position += velocity
        path.append(position)
    return np.asarray(path)


def trajectory_kernel(rng: np.random.Generator, size: int, exposure: float | None = None) -> np.ndarray:
    """Camera-shake PSF after Boracchi and Foi (2012), as DeblurGAN (Kupyn et al. 2018) made
    them: the image of a point integrated along a random camera path over the exposure.

    size: odd support in pixels; the full path is size - 2 px long (Boracchi: 60 on 64) and is
        shrunk when its shape does not fit.
    exposure: fraction of the path integrated (Boracchi's exposure time T in (0, 1]); None
        draws it uniformly from [0.5, 1].
    Returns a non-negative float32 (size, size) PSF that sums to 1 and whose centre of mass
    is the centre pixel.

    Quirks of DeblurGAN's port (motion_blur/) fixed here:
    - its PSF is divided by the sample count, not by its sum, and blur_image.py then
      min-max normalises the kernel and the blurred image (brightness and contrast change);
      here the PSF sums to 1 and the blurred image is not rescaled;
    - the path is centred by its bounding box with a ceil, so the PSF's centre of mass, and
      with it the blurred image, is shifted off the sharp one by up to several pixels
      (issue #218); here the time-average position is put on the centre pixel, so the pair
      is aligned on average;
    - the bilinear splat clamps indices to [1, canvas - 1], Matlab's 1-based range in 0-based
      Python: row and column 0 are never used, the clamp distorts the weights of points near
      the border and index canvas overflows; here the path is scaled to fit and never clamped;
    - the initial velocity (see ``_boracchi_trajectory``);
    - the PSF is blurred in gamma-encoded sRGB with zero padding ('same'); here in linear
      light on real pixels (``blur_patch``).
    """
    if size < 3 or size % 2 == 0:
        raise ValueError(f"size must be odd and >= 3, got {size}")
    if exposure is None:
        exposure = rng.uniform(0.5, 1.0)
    if not 0 < exposure <= 1:
        raise ValueError(f"exposure must be in (0, 1], got {exposure}")
    path = _boracchi_trajectory(rng, max(2, round(exposure * _BORACCHI_STEPS)))
    # Each sample is an equal slice of the exposure, so the plain mean is the PSF's centroid.
    path = path - path.mean()
    half = size // 2
    reach = max(np.abs(path.real).max(), np.abs(path.imag).max())
    scale = (size - 2) / _BORACCHI_LENGTH
    if reach * scale > half - 0.5:
        scale = (half - 0.5) / reach
    return _splat(path * scale, size)


def linear_motion_kernel(length: float, angle_deg: float, size: int) -> np.ndarray:
    """Straight-motion PSF: a segment of ``length`` px through the centre at ``angle_deg``
    (counter-clockwise on screen from the +x axis), anti-aliased by bilinear splatting of
    densely, evenly spaced points. Float32 (size, size), sums to 1."""
    if size % 2 == 0 or not 0 <= length <= size - 2:
        raise ValueError(f"need an odd size >= length + 2, got length={length}, size={size}")
    # Midpoints of n equal pieces, a quarter pixel or less apart, so the density is uniform.
    n = max(1, math.ceil(4 * length))
    t = (np.arange(n) + 0.5) / n * length - length / 2
    # Rows grow downwards, so counter-clockwise on screen is a negative imaginary part.
    return _splat(t * cmath.exp(-1j * math.radians(angle_deg)), size)


def defocus_kernel(radius: float, size: int) -> np.ndarray:
    """Defocus PSF: a uniform disc of ``radius`` px (geometric optics: the aperture's image),
    anti-aliased by a one-pixel linear ramp of coverage at its rim, so its area is about
    pi * radius**2. Float32 (size, size), sums to 1."""
    if size % 2 == 0 or not 0 <= radius <= size // 2 - 0.5:
        raise ValueError(f"need an odd size >= 2 * radius + 2, got radius={radius}, size={size}")
    offsets = np.arange(size, dtype=np.float32) - size // 2
    distance = np.hypot(offsets[:, None], offsets[None, :])
    disc = np.clip(radius + 0.5 - distance, 0, 1)
    return (disc / disc.sum()).astype(np.float32)


def odd_support(extent: float, max_kernel: int) -> int:
    """Smallest odd size >= extent, at most max_kernel."""
    size = math.ceil(extent)
    return min(size + 1 - size % 2, max_kernel)


def _trim(kernel: np.ndarray) -> np.ndarray:
    """Crops all-zero borders symmetrically, so the kernel stays odd and centred (a smaller
    support means a smaller FFT)."""
    half = kernel.shape[0] // 2
    rows, cols = np.nonzero(kernel)
    reach = max(np.abs(rows - half).max(), np.abs(cols - half).max())
    return kernel[half - reach : half + reach + 1, half - reach : half + reach + 1]


def random_kernel(
    rng: np.random.Generator, settings: DegradeSettings = DEFAULT, family: str | None = None
) -> np.ndarray:
    """A random spatially uniform PSF of ``family`` (trajectory, linear, defocus or none); None
    draws the family by ``settings.family_weights`` among those four. Trimmed to its smallest
    odd centred support (``none`` is the 1x1 identity)."""
    if family is None:
        weights = np.array([settings.family_weights.get(name, 0.0) for name in _UNIFORM_FAMILIES])
        family = _UNIFORM_FAMILIES[rng.choice(len(weights), p=weights / weights.sum())]
    if family == "trajectory":
        length = rng.uniform(*settings.motion_length)
        kernel = trajectory_kernel(rng, odd_support(length + 2, settings.max_kernel))
    elif family == "linear":
        length = rng.uniform(*settings.motion_length)
        kernel = linear_motion_kernel(length, rng.uniform(0, 180), odd_support(length + 2, settings.max_kernel))
    elif family == "defocus":
        radius = rng.uniform(*settings.defocus_radius)
        kernel = defocus_kernel(radius, odd_support(2 * radius + 2, settings.max_kernel))
    elif family == "none":
        return np.ones((1, 1), np.float32)
    else:
        raise ValueError(f"{family!r} is not a spatially uniform family {_UNIFORM_FAMILIES}")
    return _trim(kernel)


def blur(image: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """Convolves each channel of a float32 (H, W, C) linear-light image with an odd (k, k)
    PSF, 'valid' mode: the (H - k + 1, W - k + 1, C) pixels whose whole neighbourhood is real.
    Output pixel (i, j) is centred on input pixel (i + k // 2, j + k // 2)."""
    if kernel.size == 1:
        # The identity (the "none" family): no FFT round-off, so a sharp input comes back exact.
        return image * kernel[0, 0]
    return fftconvolve(image, kernel[:, :, None], mode="valid", axes=(0, 1))


def blur_patch(image: np.ndarray, kernel: np.ndarray, margin: int) -> np.ndarray:
    """Blurs the interior of a patch that has ``margin`` extra pixels on each side: returns
    (H - 2 margin, W - 2 margin, C). The margin beyond the kernel's reach is cropped before the
    FFT; a margin shorter than the kernel's reach is made up by reflection (an approximation
    of the unseen scene, only then)."""
    reach = kernel.shape[0] // 2
    if margin >= reach:
        cut = margin - reach
        image = image[cut : image.shape[0] - cut, cut : image.shape[1] - cut]
    else:
        pad = reach - margin
        image = np.pad(image, ((pad, pad), (pad, pad), (0, 0)), mode="reflect")
    return blur(image, kernel)


def layered_blur(
    image: np.ndarray, mask: np.ndarray, object_kernel: np.ndarray, background_kernel: np.ndarray, margin: int
) -> np.ndarray:
    """Two-layer blur of a moving object (opacity ``mask``, (H, W) in [0, 1]) over a
    background, with occlusion: B = k_o * (m I) + (1 - k_o * m) (k_b * I). The object smears
    its own colours along k_o and hides the background where its smeared opacity k_o * m is
    1; where k_o * m = 0 the background blur k_b * I is all there is. Returns the interior
    (H - 2 margin, W - 2 margin, C), as ``blur_patch``."""
    alpha = mask[:, :, None].astype(np.float32)
    smeared = blur_patch(image * alpha, object_kernel, margin)
    coverage = blur_patch(alpha, object_kernel, margin)
    return smeared + (1 - coverage) * blur_patch(image, background_kernel, margin)


def _random_ellipse_mask(rng: np.random.Generator, height: int, width: int, margin: int) -> np.ndarray:
    """Soft mask of a random ellipse (the moving object) with its centre inside the patch
    interior, semi-axes 10-40 % of the interior's side, and a 1-4 px soft rim."""
    side = min(height, width) - 2 * margin
    cy = rng.uniform(margin, height - margin)
    cx = rng.uniform(margin, width - margin)
    a, b = rng.uniform(0.1, 0.4, size=2) * side
    theta = rng.uniform(0, math.pi)
    rim = rng.uniform(1.0, 4.0)
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    u = (x - cx) * math.cos(theta) + (y - cy) * math.sin(theta)
    v = (y - cy) * math.cos(theta) - (x - cx) * math.sin(theta)
    # Normalised radius 1 on the ellipse; (1 - r) * mean semi-axis approximates the distance.
    radius = np.sqrt((u / a) ** 2 + (v / b) ** 2)
    return np.clip(0.5 + (1 - radius) * (a + b) / (2 * rim), 0, 1)


def parallax_kernel(rng: np.random.Generator, length: float, angle_deg: float, settings: DegradeSettings) -> np.ndarray:
    """The background's PSF behind an object moving ``length`` px at ``angle_deg`` under a
    moving camera: straight, within 10 degrees of the object's direction, and
    ``settings.parallax_ratio`` times as long (at most ``settings.max_kernel`` - 2 px)."""
    background_length = min(length * rng.uniform(*settings.parallax_ratio), settings.max_kernel - 2)
    background_angle = angle_deg + rng.uniform(-10, 10)
    support = odd_support(background_length + 2, settings.max_kernel)
    return _trim(linear_motion_kernel(background_length, background_angle, support))


def spatially_varying_blur(
    image: np.ndarray, rng: np.random.Generator, settings: DegradeSettings = DEFAULT, *, margin: int = 0
) -> np.ndarray:
    """A moving object over a background (``layered_blur``): the object moves in a straight
    line (short exposures of a moving object are close to straight). With chance
    ``settings.parallax_prob`` the background moves within 10 degrees of the object's direction
    by ``settings.parallax_ratio`` times its length (parallax); otherwise it is still half the
    time (a camera on a tripod or a stabilised GoPro) and shaken the other half. Returns the
    interior (H - 2 margin, W - 2 margin, C)."""
    mask = _random_ellipse_mask(rng, image.shape[0], image.shape[1], margin)
    length = rng.uniform(*settings.object_length)
    size = odd_support(length + 2, settings.max_kernel)
    angle = rng.uniform(0, 180)
    object_kernel = _trim(linear_motion_kernel(length, angle, size))
    # Drawn only where parallax is on, so that the other settings' streams stay as they were.
    if settings.parallax_prob and rng.uniform() < settings.parallax_prob:
        background_kernel = parallax_kernel(rng, length, angle, settings)
    else:
        background = "none" if rng.uniform() < 0.5 else "trajectory"
        background_kernel = random_kernel(rng, settings, background)
    return layered_blur(image, mask, object_kernel, background_kernel, margin)


def boost_highlights(image: np.ndarray, boost: float, threshold: float) -> np.ndarray:
    """Over-range highlights: the sensor clipped them at 1, the scene was brighter. Pixels
    whose brightest channel is above ``threshold`` are scaled by a factor ramping linearly
    from 1 at the threshold to ``boost`` at 1 (all channels alike, keeping the hue), so that
    blurring smears them into bright streaks that clip, as in real blurred photos."""
    peak = image.max(axis=2, keepdims=True)
    ramp = np.clip((peak - threshold) / (1 - threshold), 0, 1)
    return image * (1 + (boost - 1) * ramp)


def add_sensor_noise(image: np.ndarray, rng: np.random.Generator, read_std: float, shot_gain: float) -> np.ndarray:
    """Poisson-Gaussian sensor noise on linear light, in its usual Gaussian approximation:
    variance shot_gain * x (photon counts) + read_std**2 (electronics). Clipped to [0, 1]."""
    if read_std == 0 and shot_gain == 0:
        return image
    std = np.sqrt(shot_gain * image + np.float32(read_std**2))
    noisy = image + std * rng.standard_normal(image.shape, dtype=np.float32)
    return np.clip(noisy, 0, 1)


def jpeg_reencode(image: np.ndarray, quality: int) -> np.ndarray:
    """Encodes a uint8 (H, W, 3) image as JPEG (Pillow, 4:2:0 chroma as cameras and the web
    use) in memory and decodes it back."""
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="JPEG", quality=quality)
    with Image.open(buffer) as decoded:
        return np.asarray(decoded.convert("RGB"))


def _blur_by_family(
    image: np.ndarray, family: str, rng: np.random.Generator, settings: DegradeSettings, margin: int
) -> np.ndarray:
    if family == "varying":
        return spatially_varying_blur(image, rng, settings, margin=margin)
    return blur_patch(image, random_kernel(rng, settings, family), margin)


def degrade(
    sharp: np.ndarray, rng: np.random.Generator, settings: DegradeSettings = DEFAULT, *, margin: int = 0
) -> np.ndarray:
    """Synthesises the blurred uint8 sRGB image of a sharp uint8 sRGB (H, W, 3) patch.

    The caller passes a patch with ``margin`` extra pixels on each side (``settings.max_kernel
    // 2`` keeps the blur on real pixels) and gets (H - 2 margin, W - 2 margin, 3); the
    training target is the same crop of the sharp patch,
    ``sharp[margin:H - margin, margin:W - margin]``.

    Every random parameter is drawn whether or not it is used, in a fixed order, so two
    settings that differ only in a probability give the same blur for the same seed. The
    exceptions are ``video_prob`` and ``parallax_prob``, drawn only where they are above 0, so
    that settings without them kept the streams (and the held-out set) they had.
    """
    if sharp.dtype != np.uint8 or sharp.ndim != 3 or sharp.shape[2] != 3:
        raise ValueError(f"sharp must be uint8 (H, W, 3), got {sharp.dtype} {sharp.shape}")
    if margin < 0 or min(sharp.shape[:2]) <= 2 * margin:
        raise ValueError(f"margin {margin} leaves nothing of a {sharp.shape[:2]} patch")
    highlight = rng.uniform() < settings.highlight_prob
    boost = rng.uniform(*settings.highlight_boost)
    weights = np.array(list(settings.family_weights.values()))
    family = list(settings.family_weights)[rng.choice(len(weights), p=weights / weights.sum())]
    read_std = rng.uniform(*settings.noise_read)
    shot_gain = rng.uniform(*settings.noise_shot)
    jpeg = rng.uniform() < settings.jpeg_prob
    quality = int(rng.integers(settings.jpeg_quality[0], settings.jpeg_quality[1], endpoint=True))
    # Drawn only where video pairs are on, so that the other settings' streams stay as they were.
    if settings.video_prob and rng.uniform() < settings.video_prob:
        blurred = _blur_by_family(sharp.astype(np.float32) / np.float32(255), family, rng, settings, margin)
        return np.rint(np.clip(blurred, 0, 1) * 255).astype(np.uint8)

    linear = _SRGB8_TO_LINEAR[sharp]
    if highlight:
        linear = boost_highlights(linear, boost, settings.highlight_threshold)
    blurred = _blur_by_family(linear, family, rng, settings, margin)
    blurred = add_sensor_noise(np.clip(blurred, 0, 1), rng, read_std, shot_gain)
    out = np.rint(linear_to_srgb(blurred) * 255).astype(np.uint8)
    return jpeg_reencode(out, quality) if jpeg else out
