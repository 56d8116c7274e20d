import argparse
from functools import partial
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from inference import nets
from training.ingestion import benchmark_guard
from training.data import list_photos
from training.ingestion.datasets import DatasetUnusable, training_photos
from training.degrade import SYNTHESES
from training.trainer import TrainConfig, check_not_benchmark, read_state, train


def block_counts(text: str) -> tuple[int, ...]:
    """'1,1,2' -> (1, 1, 2): blocks per level, each at least 1."""
    try:
        counts = tuple(int(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated block counts such as 1,1,2, got {text!r}")
    if not counts or min(counts) < 1:
        raise argparse.ArgumentTypeError(f"every level needs at least one block, got {text!r}")
    return counts


class Command(BaseCommand):
    help = (
        "Train a deblurring generator on a folder of sharp photos; writes checkpoints, logs, samples "
        "and generator.keras into --out."
    )

    def add_arguments(self, parser) -> None:
        defaults = TrainConfig(out=Path("."))
        source = parser.add_mutually_exclusive_group(required=True)
        source.add_argument("--photos", help="a folder of sharp photos")
        source.add_argument("--dataset", help="an ingested photo dataset (its trainable photos)")
        parser.add_argument("--out", required=True, help="the run folder")
        parser.add_argument("--arch", choices=[nets.NAFNET, nets.DEBLURGAN], default=defaults.arch)
        parser.add_argument("--steps", type=int, default=defaults.steps, help="content-loss steps")
        parser.add_argument("--gan-steps", type=int, default=defaults.gan_steps, help="adversarial steps after them")
        parser.add_argument("--batch", type=int, default=defaults.batch)
        parser.add_argument("--patch", type=int, default=defaults.patch, help="training patch size in pixels")
        parser.add_argument("--lr", type=float, default=defaults.lr)
        parser.add_argument(
            "--synthesis", choices=list(SYNTHESES), default=defaults.synthesis, help="the blur synthesis of training pairs"
        )
        size = parser.add_argument_group("NAFNet size (ignored by --arch deblurgan)")
        size.add_argument("--width", type=int, default=defaults.width, help="channels at full resolution")
        size.add_argument(
            "--enc-blocks", type=block_counts, default=defaults.enc_blocks, help="blocks per encoder level, e.g. 1,1,1,1"
        )
        size.add_argument("--middle-blocks", type=int, default=defaults.middle_blocks, help="blocks at the coarsest level")
        size.add_argument(
            "--dec-blocks", type=block_counts, default=defaults.dec_blocks, help="blocks per decoder level, coarsest first"
        )
        parser.add_argument("--seed", type=int, default=defaults.seed)
        parser.add_argument("--checkpoint-every", type=int, default=defaults.checkpoint_every)
        parser.add_argument("--validate-every", type=int, default=defaults.validate_every)
        parser.add_argument("--vgg-weights", help="an ImageNet VGG19 .h5 (no top) for the perceptual term of stage 2")
        parser.add_argument("--init", help="a trained generator (.keras) of the same architecture to start from")
        parser.add_argument("--resume", action="store_true", help="continue the run in --out from its last checkpoint")

    def handle(self, *args, **options) -> None:
        config = self.config(options)
        # A resumed run's bar starts at its step, so the rate and ETA count this session only.
        state = read_state(config.out) if options["resume"] else None
        initial = state["step"] if state else 0
        with tqdm(total=config.steps + config.gan_steps, initial=initial, unit="step", dynamic_ncols=True) as bar:

            def progress(step: int, total: int, logs: dict) -> None:
                bar.update(step - bar.n)
                bar.set_postfix({name: f"{value:.4g}" for name, value in logs.items()}, refresh=False)

            try:
                result = train(config, resume=options["resume"], progress=progress)
            except KeyboardInterrupt:
                raise CommandError(f"Stopped; a checkpoint is saved. Continue with --resume --out {config.out}.")
            except ValueError as exc:
                raise CommandError(str(exc)) from exc
        figures = ", ".join(f"{name} {value:.4f}" for name, value in result.validation.items())
        minutes = result.seconds / 60
        self.stdout.write(f"Trained {result.step} + {result.gan_step} steps in {minutes:.1f} min; validation {figures}.")
        self.stdout.write(f"Generator: {result.generator}")

    def photos(self, options: dict) -> Path:
        if options["dataset"]:
            try:
                chosen = training_photos(options["dataset"])
            except DatasetUnusable as exc:
                raise CommandError(str(exc)) from exc
            if chosen.left_out:
                self.stderr.write(chosen.left_out)
            self.stdout.write(f"Training on {chosen.used} photos of dataset {options['dataset']} ({chosen.folder}).")
            return chosen.folder
        photos = Path(options["photos"])
        if not photos.is_dir():
            raise CommandError(f"{photos} is not a folder.")
        # A dataset's photos were checked by training_photos; a folder's are checked here, by content.
        benchmark_of = partial(benchmark_guard.file_match, benchmark_guard.shared_fingerprints())
        try:
            check_not_benchmark(list_photos(photos), benchmark_of)
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        return photos

    def config(self, options: dict) -> TrainConfig:
        photos = self.photos(options)
        for name in ("steps", "batch", "patch", "checkpoint_every", "validate_every", "width", "middle_blocks"):
            if options[name] < 1:
                raise CommandError(f"--{name.replace('_', '-')} must be at least 1.")
        if len(options["enc_blocks"]) != len(options["dec_blocks"]):
            raise CommandError("--enc-blocks and --dec-blocks need one count per level.")
        if options["gan_steps"] < 0:
            raise CommandError("--gan-steps must be 0 or more.")
        vgg_weights = Path(options["vgg_weights"]) if options["vgg_weights"] else None
        if vgg_weights is not None and not vgg_weights.is_file():
            raise CommandError(f"No VGG19 weights file at {vgg_weights}.")
        init = Path(options["init"]) if options["init"] else None
        if init is not None and not init.is_file():
            raise CommandError(f"No generator to start from at {init}.")
        return TrainConfig(
            out=Path(options["out"]),
            photos=photos,
            arch=options["arch"],
            steps=options["steps"],
            gan_steps=options["gan_steps"],
            batch=options["batch"],
            patch=options["patch"],
            lr=options["lr"],
            synthesis=options["synthesis"],
            seed=options["seed"],
            checkpoint_every=options["checkpoint_every"],
            validate_every=options["validate_every"],
            vgg_weights=vgg_weights,
            init=init,
            width=options["width"],
            enc_blocks=options["enc_blocks"],
            middle_blocks=options["middle_blocks"],
            dec_blocks=options["dec_blocks"],
        )
