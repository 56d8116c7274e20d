"""Training the deblurring generators (DESIGN.md section 5).

Stage 1 fits the generator with a content loss alone, which is what gives PSNR. Stage 2
(optional) fine-tunes it against a 70x70 PatchGAN critic with WGAN-GP, as DeblurGAN did.

A run lives in one folder:

    checkpoints/latest.keras   the stage 1 model, with its optimizer state
    checkpoints/adversarial.weights.h5   stage 2: generator, critic and both optimizers
    checkpoints/state.json     {stage, step, seconds, config}
    log.csv, log_gan.csv       stage 1 and 2 losses, psnr, lr: means over windows of `log_every` steps
    validation.csv             step, psnr, ssim on fixed validation pairs
    samples/step_NNNNNN.png    input | output | target strips at `sample_steps`
    tensorboard/               the same figures for TensorBoard
    generator.keras            the trained generator alone, for inference.registry
    summary.json               steps, time, hardware, final validation figures, photos, config

Every step is a pure function of (seed, step): the data stream restarts at any step and the
optimizer state (so the learning-rate schedule) is saved with the weights, so a run that was
stopped and resumed ends with the weights of a run that went straight through.
"""

import csv
import importlib.util
import json
import logging
import os
import platform
import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf
from keras import ops
from PIL import Image

from inference import metrics, nets
from training.config import TrainConfig
from training.critic import build_critic
from training.data import PhotoBank, list_photos, split_holdout, training_dataset, validation_pairs
from training.degrade import SYNTHESES

logger = logging.getLogger(__name__)

CONTENT_STAGE = "content"
ADVERSARIAL_STAGE = "adversarial"
CHECKPOINT_DIR = "checkpoints"
LATEST = "latest.keras"  # stage 1's model with its optimizer
ADVERSARIAL = "adversarial.weights.h5"  # stage 2's nets and optimizers
STATE = "state.json"
GENERATOR = "generator.keras"
SUMMARY = "summary.json"
SAMPLE_PAIRS = 3

# Settings that a resumed run may change: they decide what is written and how far the run
# goes after stage 1, never what stage 1 computes.
CHANGEABLE_ON_RESUME = {"out", "checkpoint_every", "validate_every", "log_every", "sample_steps", "gan_steps"}


@dataclass
class TrainingData:
    """What a run trains and validates on. `batches(start_step)` is an endless stream of
    (blurred, sharp) float32 NHWC batches in [0, 1] whose k-th batch is batch
    start_step + k of the stream started at 0."""

    batches: Callable[[int], tf.data.Dataset]
    validation: tuple[np.ndarray, np.ndarray]  # uint8 (N, P, P, 3) blurred, sharp
    photos: list[str] = field(default_factory=list)
    holdout: list[str] = field(default_factory=list)


@dataclass
class TrainResult:
    out: Path
    step: int  # stage 1 steps done
    gan_step: int  # stage 2 steps done
    seconds: float  # training time over all sessions of the run
    validation: dict[str, float]
    generator: Path


# --- Losses and metrics: keras.ops only, so that stage 1 runs on any Keras backend. ---


def charbonnier(y_true, y_pred, epsilon: float = 1e-3):
    """A smooth L1: sqrt(d^2 + eps^2), robust like L1 but differentiable at zero."""
    return ops.mean(ops.sqrt(ops.square(y_pred - y_true) + epsilon**2))


def fft_l1(y_true, y_pred):
    """L1 of the difference of the images' 2-D Fourier transforms, real and imaginary
    parts (MIMO-UNet's frequency loss, Cho et al. 2021). It weighs the fine detail that a
    pixel loss lets blur away. The transform is orthonormal (divided by sqrt(H*W)), so the
    weight means the same at every patch size. By linearity FFT(a) - FFT(b) = FFT(a - b)."""
    difference = ops.transpose(y_pred - y_true, (0, 3, 1, 2))  # fft2 works on the last two axes
    height, width = ops.shape(difference)[2], ops.shape(difference)[3]
    real, imag = ops.fft2((difference, ops.zeros_like(difference)))
    scale = ops.sqrt(ops.cast(height * width, real.dtype))
    return (ops.mean(ops.abs(real)) + ops.mean(ops.abs(imag))) / (2 * scale)


@keras.saving.register_keras_serializable(package="deblur")
class ContentLoss(keras.losses.Loss):
    """Charbonnier (eps 1e-3) + fft_weight * frequency L1."""

    def __init__(self, fft_weight: float = 0.05, name: str = "content_loss", **kwargs):
        super().__init__(name=name, **kwargs)
        self.fft_weight = fft_weight

    def call(self, y_true, y_pred):
        loss = charbonnier(y_true, y_pred)
        if self.fft_weight:
            loss = loss + self.fft_weight * fft_l1(y_true, y_pred)
        return loss

    def get_config(self):
        return {**super().get_config(), "fft_weight": self.fft_weight}


@keras.saving.register_keras_serializable(package="deblur")
def psnr(y_true, y_pred):
    """PSNR in dB of each image in [0, 1], the output clipped as inference clips it."""
    y_pred = ops.clip(y_pred, 0.0, 1.0)
    mse = ops.mean(ops.square(y_pred - y_true), axis=(1, 2, 3))
    return -10.0 * ops.log10(ops.maximum(mse, 1e-10))


# --- The generator and its optimizer. ---


def build_generator(config: TrainConfig) -> keras.Model:
    if config.init is not None:
        # Fine-tuning: the trained model itself, so its size need not be restated.
        model = keras.models.load_model(config.init, compile=False)
        if model.name != config.arch:
            raise ValueError(f"{config.init} is a {model.name} model, not {config.arch}.")
        return model
    if config.arch == nets.NAFNET:
        return nets.build_nafnet(config.width, config.enc_blocks, config.middle_blocks, config.dec_blocks)
    if config.arch == nets.DEBLURGAN:
        return nets.build_deblurgan(config.deblurgan_filters, config.deblurgan_blocks)
    if config.arch == nets.SRN:
        return nets.build_srn()
    expected = ", ".join(repr(name) for name in nets.ARCHITECTURES)
    raise ValueError(f"Unknown architecture {config.arch!r}: expected one of {expected}.")


def learning_rate(config: TrainConfig) -> keras.optimizers.schedules.LearningRateSchedule:
    decay_steps = max(config.steps - config.warmup_steps, 1)
    alpha = config.min_lr / config.lr
    if config.warmup_steps:
        return keras.optimizers.schedules.CosineDecay(
            0.0, decay_steps, alpha=alpha, warmup_target=config.lr, warmup_steps=config.warmup_steps
        )
    return keras.optimizers.schedules.CosineDecay(config.lr, decay_steps, alpha=alpha)


def compile_generator(model: keras.Model, config: TrainConfig) -> None:
    # beta_2 = 0.9 as NAFNet: the second moment follows the fast-changing early gradients.
    optimizer = keras.optimizers.AdamW(learning_rate(config), weight_decay=config.weight_decay, beta_2=0.9)
    model.compile(
        optimizer=optimizer, loss=ContentLoss(config.fft_weight), metrics=[psnr], jit_compile=config.jit_compile
    )


# --- Data from a folder of photos. ---


def check_not_benchmark(photos: list[Path], benchmark_of: Callable[[Path], str | None] | None = None) -> None:
    """Benchmarks measure what a model learnt elsewhere; training on them makes the figures
    meaningless. A photo inside a folder named `benchmarks` is refused for where it is (a
    benchmark not known to `benchmark_of` yet); with `benchmark_of` (a photo -> the benchmark
    image it is or looks like, or None), a photo is refused for what it is, wherever it is."""
    for photo in photos:
        if "benchmarks" in photo.resolve().parts[:-1]:
            raise ValueError(f"{photo} is inside a 'benchmarks' folder: never train on benchmark photos.")
        match = benchmark_of(photo) if benchmark_of else None
        if match is not None:
            raise ValueError(f"{photo} is benchmark image {match} (or a copy of it): never train on benchmark photos.")


def photo_data(config: TrainConfig) -> TrainingData:
    """Training patches from the photos in config.photos, validation pairs from the
    photos held out of training."""
    photos = list_photos(config.photos)
    check_not_benchmark(photos)
    if len(photos) <= config.n_holdout:
        raise ValueError(
            f"{config.photos} holds {len(photos)} photos; training needs more than the {config.n_holdout} held out."
        )
    # The split's own default seed, not the run's: every run, whatever its seed, holds out
    # the same photos, which the held-out benchmark is made from.
    training, holdout = split_holdout(photos, config.n_holdout)
    settings = SYNTHESES[config.synthesis]
    bank = PhotoBank(training)
    validation = validation_pairs(PhotoBank(holdout), patch=config.validation_patch, count=config.validation_count)

    def batches(start_step: int) -> tf.data.Dataset:
        return training_dataset(
            bank, patch=config.patch, batch=config.batch, seed=config.seed, start_step=start_step, settings=settings
        )

    return TrainingData(batches, validation, bank.names, [p.name for p in holdout])


# --- Validation and samples. ---


def restore(model: keras.Model, blurred: np.ndarray) -> np.ndarray:
    """The model's uint8 output for uint8 NHWC images, rounded as inference rounds it."""
    output = model.predict_on_batch(blurred.astype(np.float32) / 255.0)
    return np.clip(np.rint(np.asarray(output) * 255.0), 0, 255).astype(np.uint8)


def mean_quality(images: np.ndarray, references: np.ndarray) -> dict[str, float]:
    """Mean PSNR and SSIM (inference.metrics, the project's one definition)."""
    return {
        "psnr": float(np.mean([metrics.psnr(a, b) for a, b in zip(images, references)])),
        "ssim": float(np.mean([metrics.ssim(a, b) for a, b in zip(images, references)])),
    }


def sample_strip(blurred: np.ndarray, restored: np.ndarray, sharp: np.ndarray) -> np.ndarray:
    """One row per pair: input | output | target."""
    rows = [np.concatenate(images, axis=1) for images in zip(blurred, restored, sharp)]
    return np.concatenate(rows, axis=0)


# --- Stage 2: adversarial fine-tuning. ---


def vgg_features(weights: Path) -> keras.Model:
    """VGG19 conv3_3 features of [0, 1] RGB images (DeblurGAN's perceptual loss), frozen.
    Keras's ImageNet VGG19 takes BGR on the 0-255 scale less the ImageNet mean."""
    vgg = keras.applications.VGG19(weights=str(weights), include_top=False)
    conv3_3 = keras.Model(vgg.input, vgg.get_layer("block3_conv3").output)
    inputs = keras.Input(shape=(None, None, 3))
    bgr = ops.flip(inputs, axis=-1) * 255.0 - ops.convert_to_tensor([103.939, 116.779, 123.68])
    features = keras.Model(inputs, conv3_3(bgr), name="vgg19_conv3_3")
    features.trainable = False
    return features


class WassersteinGAN(keras.Model):
    """DeblurGAN's adversarial stage: a WGAN-GP critic and L = L_GAN + lambda * L_content.

    Each step updates the critic `critic_steps` times on the batch, then the generator once.
    The critic's score of an image is the mean of its PatchGAN map, and the gradient penalty
    holds the gradient norm of that score near 1 at random mixes of real and fake images.

    TensorFlow backend only: the penalty is a gradient of a gradient, taken with nested
    tf.GradientTape. The mixing weights are stateless random numbers of (seed, step), so a
    resumed run draws the ones the interrupted run would have drawn.
    """

    def __init__(
        self,
        generator: keras.Model,
        critic: keras.Model,
        *,
        content_loss: keras.losses.Loss,
        perceptual: keras.Model | None = None,
        critic_steps: int = 5,
        gp_weight: float = 10.0,
        content_weight: float = 100.0,
        seed: int = 0,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.generator = generator
        self.critic = critic
        self.content_loss = content_loss
        self.perceptual = perceptual
        self.critic_steps = critic_steps
        self.gp_weight = gp_weight
        self.content_weight = content_weight
        self.seed = seed
        self.trackers = {
            name: keras.metrics.Mean(name=name)
            for name in ("critic_loss", "gradient_penalty", "generator_loss", "content_loss", "psnr")
        }
        self.built = True  # both nets are built

    @property
    def metrics(self):
        # Listed here, Keras resets them at each epoch (each log window).
        return list(self.trackers.values())

    def compile(
        self,
        generator_optimizer: keras.optimizers.Optimizer,
        critic_optimizer: keras.optimizers.Optimizer,
        jit_compile: bool | str = "auto",
    ):
        super().compile(jit_compile=jit_compile)
        self.generator_optimizer = generator_optimizer
        self.critic_optimizer = critic_optimizer
        # Built now, so that a checkpoint's optimizer state can load before the first step.
        generator_optimizer.build(self.generator.trainable_variables)
        critic_optimizer.build(self.critic.trainable_variables)

    def score(self, images):
        return tf.reduce_mean(self.critic(images, training=True), axis=[1, 2, 3])

    def gradient_penalty(self, real, fake, alpha):
        """mean over samples of (|grad score(x)| - 1)^2 at x = alpha * real + (1 - alpha) * fake."""
        mixed = fake + alpha * (real - fake)
        with tf.GradientTape() as tape:
            tape.watch(mixed)
            scores = self.score(mixed)
        # Each sample's score depends on that sample alone, so the gradient of the sum is
        # every sample's own gradient.
        gradients = tape.gradient(scores, mixed)
        norms = tf.sqrt(tf.reduce_sum(tf.square(gradients), axis=[1, 2, 3]) + 1e-12)
        return tf.reduce_mean(tf.square(norms - 1.0))

    def critic_step(self, real, fake, alpha):
        with tf.GradientTape() as tape:
            wasserstein = tf.reduce_mean(self.score(fake)) - tf.reduce_mean(self.score(real))
            penalty = self.gradient_penalty(real, fake, alpha)
            loss = wasserstein + self.gp_weight * penalty
        variables = self.critic.trainable_variables
        self.critic_optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables))
        return loss, penalty

    def content(self, sharp, fake):
        loss = self.content_loss(sharp, fake)
        if self.perceptual is not None:
            loss += tf.reduce_mean(tf.square(self.perceptual(fake) - self.perceptual(sharp)))
        return loss

    def train_step(self, data):
        blurred, sharp = data
        batch = tf.shape(sharp)[0]
        step = tf.cast(self.generator_optimizer.iterations, tf.int32)
        with tf.GradientTape() as generator_tape:
            fake = self.generator(blurred, training=True)
            # As DeblurGAN: one generator pass, the critic trained on its output.
            with generator_tape.stop_recording():
                for k in range(self.critic_steps):
                    seed = tf.stack([self.seed, step * self.critic_steps + k])
                    alpha = tf.random.stateless_uniform((batch, 1, 1, 1), seed=seed)
                    critic_loss, penalty = self.critic_step(sharp, tf.stop_gradient(fake), alpha)
            content = self.content(sharp, fake)
            generator_loss = -tf.reduce_mean(self.score(fake)) + self.content_weight * content
        variables = self.generator.trainable_variables
        self.generator_optimizer.apply_gradients(zip(generator_tape.gradient(generator_loss, variables), variables))

        for name, value in (
            ("critic_loss", critic_loss),
            ("gradient_penalty", penalty),
            ("generator_loss", generator_loss),
            ("content_loss", content),
            ("psnr", psnr(sharp, fake)),
        ):
            self.trackers[name].update_state(value)
        return {name: tracker.result() for name, tracker in self.trackers.items()}


def build_gan(generator: keras.Model, config: TrainConfig) -> WassersteinGAN:
    if config.vgg_weights is None:
        logger.warning("Perceptual loss off: no VGG19 weights file.")
        perceptual = None
    else:
        perceptual = vgg_features(config.vgg_weights)
    gan = WassersteinGAN(
        # A fresh functional model over the generator's layers: without stage 1's compile
        # state, a checkpoint of the GAN holds stage 2's optimizers only.
        keras.Model(generator.inputs, generator.outputs, name=generator.name),
        build_critic(),
        content_loss=ContentLoss(config.fft_weight),
        perceptual=perceptual,
        critic_steps=config.critic_steps,
        gp_weight=config.gp_weight,
        content_weight=config.content_weight,
        seed=config.seed,
    )
    # DeblurGAN's Adam settings, for both nets.
    gan.compile(
        keras.optimizers.Adam(config.gan_lr, beta_1=0.5, beta_2=0.999),
        keras.optimizers.Adam(config.gan_lr, beta_1=0.5, beta_2=0.999),
        jit_compile=config.jit_compile,
    )
    return gan


# --- Stages, checkpoints and the run folder. ---


@dataclass
class Stage:
    """A stage of a run: a model that model.fit trains from global step first_step to
    last_step. Its optimizer's iteration count, saved in checkpoints, is its step count."""

    name: str
    model: keras.Model
    generator: keras.Model
    optimizer: keras.optimizers.Optimizer
    first_step: int
    last_step: int
    checkpoint: str  # the file name in checkpoints/
    save: Callable[[Path], None]
    log: str  # the CSV file of the log windows

    def step(self) -> int:
        return self.first_step + int(self.optimizer.iterations)


def content_stage(model: keras.Model, config: TrainConfig) -> Stage:
    return Stage(CONTENT_STAGE, model, model, model.optimizer, 0, config.steps, LATEST, model.save, "log.csv")


def adversarial_stage(gan: WassersteinGAN, config: TrainConfig) -> Stage:
    return Stage(
        ADVERSARIAL_STAGE,
        gan,
        gan.generator,
        gan.generator_optimizer,
        config.steps,
        config.steps + config.gan_steps,
        ADVERSARIAL,
        gan.save_weights,
        "log_gan.csv",
    )


def _write_atomically(path: Path, write: Callable[[Path], None]) -> None:
    # Write aside then rename, so a run killed while saving keeps its previous checkpoint.
    # The prefix keeps the suffix that Keras's savers check.
    part = path.with_name(f".part-{path.name}")
    write(part)
    os.replace(part, path)


def read_state(out: Path) -> dict | None:
    path = out / CHECKPOINT_DIR / STATE
    return json.loads(path.read_text()) if path.exists() else None


def check_resumable(config: TrainConfig, saved: dict) -> None:
    current = config.to_json()
    changed = [name for name in current if name not in CHANGEABLE_ON_RESUME and current[name] != saved.get(name)]
    if changed:
        details = ", ".join(f"{name}: {saved.get(name)!r} -> {current[name]!r}" for name in changed)
        raise ValueError(f"The run in {config.out} was started with other settings ({details}); it cannot resume.")


def append_csv(path: Path, row: dict) -> None:
    new = not path.exists()
    with path.open("a", newline="") as file:
        writer = csv.DictWriter(file, fieldnames=list(row))
        if new:
            writer.writeheader()
        writer.writerow(row)


def hardware() -> str:
    """The CPU model, core count and GPUs, for the summary and the model card."""
    cpu = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        lines = cpuinfo.read_text().splitlines()
        cpu = next((line.split(":", 1)[1].strip() for line in lines if line.startswith("model name")), cpu)
    gpus = [
        tf.config.experimental.get_device_details(gpu).get("device_name", gpu.name)
        for gpu in tf.config.list_physical_devices("GPU")
    ]
    return ", ".join([cpu, f"{os.cpu_count()} cores", *gpus])


class Terminated(KeyboardInterrupt):
    """SIGTERM arrived while training."""


@contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """SIGTERM (a stopped container or Celery worker) raises Terminated, a KeyboardInterrupt,
    so that it takes the same save-then-exit path as Ctrl-C. Signal handlers can only be set from
    the main thread; elsewhere this does nothing."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum, frame):
        raise Terminated(f"signal {signum}")

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


class Run:
    """What outlives one stage: the run folder, the validation pairs, the clock, the last
    validation figures."""

    def __init__(self, config: TrainConfig, data: TrainingData, progress, seconds: float):
        self.config = config
        self.data = data
        self.progress = progress
        self.seconds_before = seconds
        self.started = time.monotonic()
        self.validation: dict[str, float] = {}
        self.saved_step = -1

    @property
    def total_steps(self) -> int:
        return self.config.steps + self.config.gan_steps

    def seconds(self) -> float:
        return self.seconds_before + time.monotonic() - self.started

    def observe(self, generator: keras.Model, step: int) -> None:
        """Validation and samples, when the step calls for them."""
        config = self.config
        validate = step % config.validate_every == 0 or step == self.total_steps
        sample = step in config.sample_steps
        if not (validate or sample):
            return
        blurred, sharp = self.data.validation
        restored = restore(generator, blurred)
        if validate:
            self.validation = mean_quality(restored, sharp)
            append_csv(config.out / "validation.csv", {"step": step, **self.validation})
        if sample:
            folder = config.out / "samples"
            folder.mkdir(exist_ok=True)
            strip = sample_strip(*(images[:SAMPLE_PAIRS] for images in (blurred, restored, sharp)))
            Image.fromarray(strip).save(folder / f"step_{step:06d}.png")

    def checkpoint(self, stage: Stage) -> None:
        step = stage.step()
        if step == self.saved_step:
            return
        folder = self.config.out / CHECKPOINT_DIR
        folder.mkdir(parents=True, exist_ok=True)
        _write_atomically(folder / stage.checkpoint, stage.save)
        state = {"stage": stage.name, "step": step, "seconds": self.seconds(), "config": self.config.to_json()}
        _write_atomically(folder / STATE, lambda path: path.write_text(json.dumps(state, indent=2)))
        self.saved_step = step

    def report(self, step: int, logs: dict[str, float]) -> None:
        if self.progress is not None:
            self.progress(step, self.total_steps, logs)


class RunMonitor(keras.callbacks.Callback):
    """Everything keyed to the global step, which a resumed run restores with the optimizer:
    validation, samples, checkpoints, the CSV log, the progress hook, and the stop at the
    stage's last step."""

    def __init__(self, run: Run, stage: Stage):
        super().__init__()
        self.run = run
        self.stage = stage

    def on_train_begin(self, logs=None):
        if self.stage.step() == 0:
            self.run.observe(self.stage.generator, 0)

    def on_train_batch_end(self, batch, logs=None):
        step = self.stage.step()
        self.run.observe(self.stage.generator, step)
        if step % self.run.config.checkpoint_every == 0:
            self.run.checkpoint(self.stage)
        self.run.report(step, {name: float(value) for name, value in (logs or {}).items()})
        # A resumed run may start mid-window, so fit may have more batches planned.
        if step >= self.stage.last_step:
            self.model.stop_training = True

    def on_epoch_end(self, epoch, logs=None):
        # An epoch is one log window: Keras resets its running means at each epoch, so
        # these are the means over the window.
        row = {"step": self.stage.step(), **{name: float(value) for name, value in (logs or {}).items()}}
        row["lr"] = float(self.stage.optimizer.learning_rate)
        append_csv(self.run.config.out / self.stage.log, row)


def tensorboard_installed() -> bool:
    # tf.summary writes nothing without it, and Keras's callback fails.
    return importlib.util.find_spec("tensorboard") is not None


def fit_stage(stage: Stage, run: Run) -> None:
    """model.fit from the stage's current step to its last. Interrupted (Ctrl-C, SIGTERM),
    it saves a checkpoint, then re-raises."""
    config = run.config
    start = stage.step()
    if start >= stage.last_step:
        return
    callbacks = [RunMonitor(run, stage)]
    if tensorboard_installed():
        log_dir = config.out / "tensorboard" / stage.name
        callbacks.append(keras.callbacks.TensorBoard(log_dir, write_graph=False))
    else:
        logger.warning("TensorBoard logs off: the tensorboard package is not installed.")
    try:
        stage.model.fit(
            run.data.batches(start),
            steps_per_epoch=config.log_every,
            epochs=-(-(stage.last_step - stage.first_step) // config.log_every),
            initial_epoch=(start - stage.first_step) // config.log_every,
            callbacks=callbacks,
            shuffle=False,  # the stream is already in its deterministic order
            verbose=0,
        )
    finally:
        run.checkpoint(stage)


def save_generator(model: keras.Model, path: Path) -> None:
    """The generator alone, without optimizer or loss: a fresh functional model over the
    same layers has no compile state to save."""
    keras.Model(model.inputs, model.outputs, name=model.name).save(path)


def train(
    config: TrainConfig,
    *,
    resume: bool = False,
    data: TrainingData | None = None,
    progress: Callable[[int, int, dict], None] | None = None,
) -> TrainResult:
    """Train a generator as `config` says and write the run folder (see the module
    docstring). `resume` continues the run in config.out from its last checkpoint;
    without it, a folder that already holds a run is refused. `data` defaults to patches
    of the photos in config.photos. `progress(step, total, logs)` is called after every
    step. Ctrl-C or SIGTERM saves a checkpoint, then raises KeyboardInterrupt.

    Stage 1 runs on any Keras backend; stage 2 (config.gan_steps > 0) needs TensorFlow.
    """
    out = Path(config.out)
    state = read_state(out)
    if resume and state is None:
        raise ValueError(f"{out} holds no checkpoint to resume from.")
    if not resume and state is not None:
        raise ValueError(f"{out} already holds a training run: resume it, or choose another folder.")
    if resume:
        check_resumable(config, state["config"])
    out.mkdir(parents=True, exist_ok=True)

    # Seeds the weight initialisation and dropout; the data stream has its own seed.
    keras.utils.set_random_seed(config.seed)
    if resume:
        model = keras.models.load_model(out / CHECKPOINT_DIR / LATEST)
    else:
        model = build_generator(config)
        compile_generator(model, config)
    multiple = nets.size_multiple(model)
    if config.patch % multiple or config.validation_patch % multiple:
        raise ValueError(f"The patch sizes must be multiples of {multiple} for {config.arch}.")
    if data is None:
        data = photo_data(config)
    run = Run(config, data, progress, seconds=state["seconds"] if resume else 0.0)

    with sigterm_as_interrupt():
        fit_stage(content_stage(model, config), run)
        generator = model
        gan_step = 0
        if config.gan_steps:
            gan = build_gan(model, config)
            if resume and state["stage"] == ADVERSARIAL_STAGE:
                gan.load_weights(out / CHECKPOINT_DIR / ADVERSARIAL)
            stage = adversarial_stage(gan, config)
            fit_stage(stage, run)
            generator = gan.generator
            gan_step = stage.step() - stage.first_step

    generator_path = out / GENERATOR
    save_generator(generator, generator_path)
    if not run.validation:
        blurred, sharp = data.validation
        run.validation = mean_quality(restore(generator, blurred), sharp)
    result = TrainResult(out, int(model.optimizer.iterations), gan_step, run.seconds(), run.validation, generator_path)
    write_summary(result, config, data)
    return result


def write_summary(result: TrainResult, config: TrainConfig, data: TrainingData) -> None:
    blurred, sharp = data.validation
    summary = {
        "steps": result.step,
        "gan_steps": result.gan_step,
        "seconds": round(result.seconds, 1),
        "hardware": hardware(),
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "validation": result.validation,
        "validation_input": mean_quality(blurred, sharp),
        "photos": data.photos,
        "holdout": data.holdout,
        "seed": config.seed,
        "config": config.to_json(),
    }
    (config.out / SUMMARY).write_text(json.dumps(summary, indent=2))
