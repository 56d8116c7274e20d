"""Every user-facing choice on every benchmark, as the site runs it (inference.auto, gate
and all): PSNR/SSIM under each set's protocol (kohler and levin aligned per image), the
gain over the input, seconds per megapixel, how often the kernel engine's gate accepted
its result (the methods' counts: "kernel" where it accepted, "none" where it left the photo
as it was) and what Auto decided. The figures of docs/benchmarks.md's "Choices" table.

    .venv/bin/python bench/choices.py --holdout holdout --json var/choices.json
    .venv/bin/python bench/choices.py --sets levin --choices shake auto

gopro-real holds consecutive frames of one scene: --gopro-step 3 scores every third frame,
a third of the time for much the same mean (README of the benchmarks: one data point).
"""

import argparse
import json
import statistics
import tempfile
from collections import Counter
from pathlib import Path

import common  # noqa: F401  (Django set up, the project on the path)
from django.conf import settings

from inference.models import Choice
from training.evaluate import choice_method, evaluate

SETS = ("levin", "kohler", "gopro-real")


def subsample(folder: Path, step: int) -> Path:
    """A folder of every `step`-th pair of `folder`, by links."""
    if step == 1:
        return folder
    out = Path(tempfile.mkdtemp(prefix=f"{folder.name}-"))
    for part in ("blur", "sharp"):
        (out / part).mkdir()
        for path in sorted((folder / part).iterdir())[::step]:
            (out / part / path.name).symlink_to(path)
    # The protocol is chosen by the folder's layout (training.evaluate.alignment).
    if (folder / "shifts.tsv").exists():
        (out / "shifts.tsv").symlink_to(folder / "shifts.tsv")
    return out


def score(folder: Path, choice: str) -> dict:
    outcomes: list = []
    report = evaluate(folder, choice_method(choice, outcomes=outcomes), model_label=choice)
    inputs = [image.input for image in report.images]
    outputs = [image.model for image in report.images]
    megapixels = sum(image.megapixels for image in report.images)
    return {
        "set": folder.name,
        "choice": choice,
        "pairs": len(report.images),
        "input_psnr": statistics.fmean(s.psnr for s in inputs),
        "input_ssim": statistics.fmean(s.ssim for s in inputs),
        "psnr": statistics.fmean(s.psnr for s in outputs),
        "ssim": statistics.fmean(s.ssim for s in outputs),
        "better": sum(o.psnr > i.psnr + 0.05 for o, i in zip(outputs, inputs)),
        "worse": sum(o.psnr < i.psnr - 0.05 for o, i in zip(outputs, inputs)),
        "seconds_per_megapixel": sum(s.seconds for s in outputs) / megapixels,
        "methods": dict(Counter(str(o.method) for o in outcomes)),
        "verdicts": dict(Counter(str(o.verdict) for o in outcomes)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sets", nargs="+", default=list(SETS), help="benchmark folders under BENCHMARKS_DIR")
    parser.add_argument("--holdout", help="the project's synthetic held-out set (manage.py make_holdout --out ...)")
    parser.add_argument("--choices", nargs="+", default=list(Choice.values), choices=Choice.values)
    parser.add_argument("--gopro-step", type=int, default=3)
    parser.add_argument("--json", help="also write the rows here")
    args = parser.parse_args()

    folders = [Path(settings.BENCHMARKS_DIR) / name for name in args.sets]
    if args.holdout:
        folders.append(Path(args.holdout))
    rows = []
    print(f"{'set':12} {'choice':6} {'pairs':>5} {'input':>13} {'output':>13} {'gain':>6} {'better':>6} {'worse':>5} {'s/MP':>6}  methods; verdicts")
    for folder in folders:
        folder = subsample(folder, args.gopro_step) if folder.name == "gopro-real" else folder
        for choice in args.choices:
            row = score(folder, choice)
            row["set"] = folder.name.split("-")[0] + ("-real" if folder.name.startswith("gopro-real") else "")
            rows.append(row)
            print(
                f"{row['set']:12} {choice:6} {row['pairs']:5d} {row['input_psnr']:6.2f}/{row['input_ssim']:.3f} "
                f"{row['psnr']:6.2f}/{row['ssim']:.3f} {row['psnr'] - row['input_psnr']:+6.2f} {row['better']:6d} "
                f"{row['worse']:5d} {row['seconds_per_megapixel']:6.2f}  {row['methods']}; {row['verdicts']}",
                flush=True,
            )
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
