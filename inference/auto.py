"""What each user-facing choice does to a photo, and what Auto decides for it.

Choices (Choice): "shake" runs the kernel engine; "best" the network that an administrator
set to serve it; "auto" decides per photo, and "fast" too, with fewer deconvolution steps and the
fast network. A photo whose blur is one kernel everywhere (camera shake, focus) goes to the
kernel engine, which beats the networks there; a photo whose blur differs from place to
place (things moving, a camera moving through a street) goes to the network. Every outcome says which method made it, how it went
(Verdict) and why, in words for the person.

No TensorFlow here: the network is a callable that the worker passes in, loaded only when
it is used."""

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from inference import kernels, metrics
from inference.kernels import estimate, fourier, gate
from inference.models import Choice, Method, NoModelInstalled, Verdict

# A network: (uint8 RGB, progress) -> uint8 RGB, and the name of the model behind it.
Network = Callable[[np.ndarray, Callable[[float], None] | None], np.ndarray]
NetworkLoader = Callable[[str], tuple[Network, str]]

KERNEL_ENGINE = "kernel-engine"
# Blur figures (0 sharp to 1 blurred) closer than this are "little change".
LITTLE_CHANGE = 0.02
# Kernels estimated in the photo's quadrants whose least alike pair agrees this well
# (normalised correlation at the best shift) are one blur everywhere. Measured on the full
# budget with flat quadrants left out (2026-12-06, on an AVX2 machine): real camera shake
# (kohler) 0.74 to 0.98, 15 of 16 at 0.75 or more; the project's held-out set 0.74 to 0.99,
# three photos too flat to tell; street scenes with moving things and a moving camera
# (gopro-real) 0.29 to 0.84, 26 of 30 frames under 0.75.
UNIFORM_AGREEMENT = 0.75
# Quadrant windows smaller than this teach the estimator too little to compare.
REGION_MIN_SIDE = 160
# Where the kernel engine kept its result or found no blur, Auto also runs the network on
# photos cleaner than this (the noise sigma of the engine's working copy, 0 to 1), and keeps
# the network's result where its blur figure is lower than the engine's by CLEARLY_SHARPER.
# The blur figure reads noise as detail, so a network that sharpens noise looks sharper: on
# noisier photos the results are not compared. Measured (2026-12-07): real camera shake
# (kohler's JPEG copies) 0.0001-0.0010, street scenes (gopro-real) 0.0004-0.0005, the
# project's held-out set 0.0004-0.0054, where every photo on which SRN lost 1 to 6 dB while
# its blur figure fell is at 0.0015 or more.
CLEAN_NOISE = 0.0012
# On kohler's real shakes SRN's result was at most 0.03 sharper by the blur figure than the
# engine's, which gained 1.4 dB more there; on the two street frames whose quarters' kernels
# agreed by chance, 0.07 and 0.12 sharper, where SRN gains 7 dB and the engine nothing.
CLEARLY_SHARPER = 0.05
# How far each choice's network must lower the blur figure for its result to be kept; the
# others, LITTLE_CHANGE. Each of the fast network's results that lowered it by less than
# CLEARLY_SHARPER lost (2026-12-08, AVX2 machine, Fast on every set: five photos at 0.023 to
# 0.037, -0.07 to -0.67 dB, on gopro-real and levin): it darkens real photos by a few grey
# levels and adds fine texture that the blur figure reads as sharpness (docs/decisions.md).
NETWORK_MARGIN = {Choice.FAST: CLEARLY_SHARPER}


@dataclass(frozen=True)
class Outcome:
    output: np.ndarray  # uint8 RGB, the input's shape
    method: str  # Method
    verdict: str  # Verdict
    reason: str  # what was done and why, a sentence or two for the person
    model_name: str  # the network's model, KERNEL_ENGINE, or "" when the photo was left as it was
    kernel: np.ndarray | None = None  # the kernel the engine estimated, for the photo at full size
    decision: str = ""  # Auto's choice of method and why; empty for the other choices
    noise: float | None = None  # the photo's noise sigma (0 to 1), where the kernel engine measured it


def kernel_agreement(a: np.ndarray, b: np.ndarray) -> float:
    """How alike two kernels are whatever their position: the peak of their normalised
    cross-correlation, 1 for the same shape."""
    from scipy.signal import fftconvolve

    correlation = fftconvolve(a, b[::-1, ::-1], mode="full")
    return float(correlation.max() / max(np.sqrt((a * a).sum() * (b * b).sum()), 1e-12))


def regional_agreement(rgb: np.ndarray) -> float | None:
    """How alike the kernels estimated in the textured quadrants of the photo are (the
    agreement of the least alike pair), or None when the photo is too small, or flat in all
    but one quadrant, to tell. A moving car or person changes the blur in one quadrant
    only, so the least alike pair is what tells."""
    gray, _ = kernels.working_copy(kernels.luminance(rgb.astype(np.float32) / 255))
    height, width = gray.shape
    if min(height, width) // 2 < REGION_MIN_SIDE:
        return None
    size = estimate.odd(kernels.kernel_size(max(height, width)) * 0.75)
    windows = []
    for rows in (slice(0, height // 2), slice(height // 2, height)):
        for columns in (slice(0, width // 2), slice(width // 2, width)):
            quadrant = gray[rows, columns]
            window = quadrant[kernels.select_window(quadrant, kernels.WINDOW // 2)]
            # Flat quadrants are left out (gate.TEXTURED_EDGE): with them, uniform blur of
            # photos with flat sky looked like blur varying from place to place (held-out
            # set: 0.26 and 0.34 for two uniform blurs, which the kernel engine improves).
            if gate.textured(window):
                windows.append(window)
    if len(windows) < 2:
        return None
    # The quadrants' estimates are independent: one per core (NumPy and the FFTs release
    # the GIL), 2.3x faster on 2 cores than one after the other.
    with ThreadPoolExecutor(min(len(windows), fourier.CORES)) as pool:
        found = list(pool.map(lambda window: estimate.estimate(window, size), windows))
    agreements = [kernel_agreement(a, b) for i, a in enumerate(found) for b in found[i + 1 :]]
    return min(agreements)


def _varies(agreement: float | None) -> bool:
    return agreement is not None and agreement < UNIFORM_AGREEMENT


def _with_decision(outcome: Outcome, decision: str) -> Outcome:
    return Outcome(**{**outcome.__dict__, "decision": decision})


def _judged(rgb: np.ndarray, output: np.ndarray, margin: float = LITTLE_CHANGE) -> tuple[str, str]:
    """(verdict, reason) for an output that no gate rejected, from the blur figure: "little
    change" where it fell by less than `margin`."""
    before, after = metrics.blur(rgb), metrics.blur(output)
    if before - after < margin:
        return Verdict.LITTLE_CHANGE, (
            f"The photo's blur figure went from {before:.2f} to {after:.2f}: a fall under {margin:.2f} does not count as sharper."
        )
    return Verdict.SHARPER, f"The blur figure fell from {before:.2f} to {after:.2f}."


def run_kernel_engine(rgb: np.ndarray, progress=None, budget: kernels.Budget = kernels.FULL) -> Outcome:
    """The kernel engine, gated: first on one blur everywhere (the quarters' kernels agree),
    since one kernel cannot undo a blur that changes from place to place (measured on
    gopro-real's street scenes: -0.47 dB without this check), then on its result."""
    gray = kernels.luminance(rgb.astype(np.float32) / 255)
    with ThreadPoolExecutor(1) as pool:
        # The photo's kernel is estimated while its quarters are compared: both take
        # seconds, on a core each, and most photos pass the comparison.
        estimated = None if kernels.unusable(gray) else pool.submit(kernels.estimate_kernel, gray)
        agreement = regional_agreement(rgb)
    if _varies(agreement):
        return Outcome(
            rgb, Method.NONE, Verdict.NOT_IMPROVED,
            f"We could not improve this photo: its blur differs from place to place (the kernels of its quarters "
            f"agree {agreement:.0%}), as when things move, and one kernel cannot undo that. It was left as it was; "
            "Best quality handles such photos.",
            "",
        )
    result = kernels.restore(rgb, progress=progress, budget=budget, estimated=estimated and estimated.result())
    if result.verdict.sharp:
        return Outcome(
            rgb, Method.NONE, Verdict.LITTLE_CHANGE,
            "We found no shake or focus blur to undo: the photo looks sharp already, so it was left as it was.",
            "", result.kernel, noise=result.noise,
        )
    if not result.verdict.passed:
        why = "; ".join(result.verdict.reasons)
        return Outcome(
            rgb, Method.NONE, Verdict.NOT_IMPROVED,
            f"We could not improve this photo: {why}. It was left as it was.",
            "", result.kernel,
        )
    verdict, reason = _judged(rgb, result.output)
    size = int(kernels.gate.kernel_figures(result.kernel)["extent"])
    uniform = "" if agreement is None else f" (the kernels of its quarters agree {agreement:.0%})"
    return Outcome(
        result.output, Method.KERNEL, verdict,
        f"Undid a camera blur {size} px across{uniform} by deconvolution. {reason}",
        KERNEL_ENGINE, result.kernel, noise=result.noise,
    )


def run_network(rgb: np.ndarray, key: str, load: NetworkLoader, progress=None) -> Outcome:
    """The network serving the choice, gated like the kernel engine: an output whose blur
    figure moved less than the choice's margin (NETWORK_MARGIN) is no better than the photo,
    only different (measured: the fast model moved real shake and street blur by -0.01 to
    -0.13 dB), so the photo is kept."""
    network, name = load(key)
    output = network(rgb, progress)
    verdict, reason = _judged(rgb, output, NETWORK_MARGIN.get(key, LITTLE_CHANGE))
    if verdict == Verdict.LITTLE_CHANGE:
        return Outcome(rgb, Method.NONE, verdict, f"The {name} network changed the photo little. {reason} It was left as it was.", name)
    return Outcome(output, Method.NETWORK, verdict, f"Deblurred by the {name} network. {reason}", name)


def _rival(rgb: np.ndarray, outcome: Outcome, found: str, network: str, load: NetworkLoader, progress) -> Outcome:
    """The kernel engine's outcome (its result, or the photo where it found no blur), or the
    network's result where that is clearly sharper on a clean photo (CLEAN_NOISE)."""
    if outcome.noise is None or outcome.noise >= CLEAN_NOISE:
        return _with_decision(outcome, found)
    try:
        rival = run_network(rgb, network, load, progress)
    except NoModelInstalled:
        # The comparison is a second opinion: without a network the engine's outcome stands.
        return _with_decision(outcome, found)
    ours, theirs = metrics.blur(outcome.output), metrics.blur(rival.output)
    if rival.method == Method.NETWORK and theirs < ours - CLEARLY_SHARPER:
        return _with_decision(rival, f"{found} But on this clean photo the {rival.model_name} network's result was "
                                     f"clearly sharper (blur figure {theirs:.2f} against {ours:.2f}), so Auto kept it.")
    return _with_decision(outcome, f"{found} The {rival.model_name} network's result was not clearly sharper "
                                   f"(blur figure {theirs:.2f} against {ours:.2f}).")


def run_auto(rgb: np.ndarray, load: NetworkLoader, progress=None, *, budget=kernels.FULL, network=Choice.BEST) -> Outcome:
    """The kernel engine where the photo has one blur everywhere, else (or where the engine's
    gate rejects its result) the network serving `network`. On a clean photo the network
    also runs where the engine kept its result or found no blur, and is kept where clearly
    sharper (_rival): the quarters' kernels can agree on a street scene by chance. Auto
    spends the full budget and falls back to Best quality; Fast deconvolves in fewer steps
    (kernels.QUICK) and falls back to its own network."""
    outcome = run_kernel_engine(rgb, progress, budget)
    if outcome.method == Method.KERNEL:
        found = "The photo shows one blur everywhere, as camera shake or focus blur does, which the kernel engine handles best."
        return _rival(rgb, outcome, found, network, load, progress)
    if outcome.verdict == Verdict.LITTLE_CHANGE:
        return _rival(rgb, outcome, "We looked for camera shake and focus blur first, and found none.", network, load, progress)
    why = outcome.reason.removeprefix("We could not improve this photo: ").partition(". It was left")[0]
    fallback = run_network(rgb, network, load, progress)
    return _with_decision(fallback, f"The kernel engine could not undo this blur: {why}. A network tried instead.")


def restore(choice: str, rgb: np.ndarray, load: NetworkLoader, progress=None) -> Outcome:
    """Deblur a uint8 RGB photo as the choice says. `load(key)` gives the network that
    serves a learned choice ("best", "fast") and its model's name; NoModelInstalled from it
    goes up to the caller."""
    if choice == Choice.SHAKE:
        return run_kernel_engine(rgb, progress)
    if choice == Choice.AUTO:
        return run_auto(rgb, load, progress)
    if choice == Choice.FAST:
        return run_auto(rgb, load, progress, budget=kernels.QUICK, network=Choice.FAST)
    return run_network(rgb, choice, load, progress)
