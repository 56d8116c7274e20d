"""The settings of a training run, without TensorFlow: `manage.py train`, the staff pages and
the trainer share them, and the web processes never import TensorFlow."""

import dataclasses
from dataclasses import dataclass
from pathlib import Path

from inference import architectures


@dataclass
class TrainConfig:
    out: Path
    photos: Path | None = None  # a folder of sharp photos
    arch: str = architectures.NAFNET  # or DEBLURGAN, SRN
    steps: int = 20000  # stage 1 (content loss)
    gan_steps: int = 0  # stage 2 (adversarial fine-tuning); 0 = off
    batch: int = 8
    patch: int = 128
    # The blur synthesis of the training pairs (training.degrade.SYNTHESES). Validation always
    # uses the default one: it is the project's fixed validation set.
    synthesis: str = "default"
    # AdamW with a cosine decay from lr to min_lr over `steps`, after an optional linear
    # warm-up. NAFNet needs no warm-up: its blocks start as the identity.
    lr: float = 1e-3
    min_lr: float = 1e-6
    warmup_steps: int = 0
    weight_decay: float = 1e-4
    # Content loss = Charbonnier + fft_weight * L1 of the difference of the 2-D spectra.
    fft_weight: float = 0.05
    # XLA: Keras decides ("auto"); False saves its compile time, which dominates tiny runs.
    jit_compile: bool | str = "auto"
    checkpoint_every: int = 500
    validate_every: int = 500
    log_every: int = 50
    sample_steps: tuple[int, ...] = (0, 1000, 5000, 10000, 20000)
    seed: int = 0
    # Start from this generator (a .keras file of architecture `arch`; its size settings
    # below are then ignored) instead of a random initialisation: fine-tuning.
    init: Path | None = None
    # NAFNet size (inference.nets.build_nafnet's defaults).
    width: int = 16
    enc_blocks: tuple[int, ...] = (1, 1, 2)
    middle_blocks: int = 2
    dec_blocks: tuple[int, ...] = (1, 1, 1)
    # DeblurGAN generator size (inference.nets.build_deblurgan's defaults).
    deblurgan_filters: int = 64
    deblurgan_blocks: int = 9
    # Stage 2, as DeblurGAN: critic updates per generator update, gradient-penalty weight,
    # lambda on the content loss, Adam(1e-4, 0.5, 0.999) for both nets.
    critic_steps: int = 5
    gp_weight: float = 10.0
    content_weight: float = 100.0
    gan_lr: float = 1e-4
    vgg_weights: Path | None = None  # an ImageNet VGG19 .h5 without top; no file, no perceptual term
    # Validation pairs: from the held-out photos, fixed for the whole run.
    n_holdout: int = 4
    validation_patch: int = 192
    validation_count: int = 8

    def to_json(self) -> dict:
        return {
            name: str(value) if isinstance(value, Path) else list(value) if isinstance(value, tuple) else value
            for name, value in dataclasses.asdict(self).items()
        }
