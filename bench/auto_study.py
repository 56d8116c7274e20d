"""Per photo, what Auto's decisions rest on: the kernel engine's outcome (full budget) and the
Best quality network's, each scored under the set's protocol, with the quarters' agreement,
the gate's figures, the noise sigma and the blur figures of the input and both results.
The figures behind inference.auto's thresholds (docs/decisions.md).

    .venv/bin/python bench/auto_study.py ../shared/benchmarks/kohler holdout --json var/study.json
"""

import argparse
import json
from pathlib import Path

import common  # noqa: F401  (Django set up, the project on the path)

from inference import auto, engine, kernels, metrics
from training import evaluate


def study(folder: Path, network) -> list[dict]:
    names, _ = evaluate.find_pairs(folder)
    align = evaluate.alignment(folder, names)
    rows = []
    for name in names:
        blurred = evaluate.read_rgb(folder / "blur" / name)
        sharp = evaluate.read_rgb(folder / "sharp" / name)
        grey = evaluate.is_grey(folder / "sharp" / name)
        target = evaluate.grey(sharp) if grey else sharp

        def psnr(image):
            return evaluate.score_image(evaluate.grey(image) if grey else image, target, align).psnr

        result = kernels.restore(blurred)
        restored = network(blurred)
        rows.append({
            "set": folder.name,
            "name": name,
            "input": psnr(blurred),
            "engine_gain": psnr(result.output) - psnr(blurred),
            "network_gain": psnr(restored) - psnr(blurred),
            "agreement": auto.regional_agreement(blurred),
            "engine_kept": result.verdict.passed,
            "sharp": result.verdict.sharp,
            "noise": result.noise,
            "blur_input": metrics.blur(blurred),
            "blur_engine": metrics.blur(result.output),
            "blur_network": metrics.blur(restored),
            "gate": result.verdict.figures,
        })
        row = rows[-1]
        agreement = "-" if row["agreement"] is None else f"{row['agreement']:.2f}"
        print(
            f"{folder.name:12} {name[:24]:24} input {row['input']:6.2f}  engine {row['engine_gain']:+6.2f}"
            f" ({'kept' if row['engine_kept'] else 'sharp' if row['sharp'] else 'rejected'})"
            f"  network {row['network_gain']:+6.2f}  quarters {agreement}  noise {row['noise']:.4f}"
            f"  blur {row['blur_input']:.3f} / {row['blur_engine']:.3f} / {row['blur_network']:.3f}",
            flush=True,
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folders", nargs="+", type=Path, help="benchmark folders (blur/ and sharp/)")
    parser.add_argument("--json", help="also write the rows here")
    args = parser.parse_args()
    version = engine.serving_version("best")
    model = engine.load_version(version)
    rows = [row for folder in args.folders for row in study(folder, lambda rgb: engine.deblur(model, rgb))]
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
