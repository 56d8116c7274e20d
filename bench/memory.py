"""Peak memory of deblurring a 12-megapixel photo (4000x3000) with a model (default: the
default NAFNet with random weights; `--model var/srn-gopro.keras` for SRN-DeblurNet).

The work runs in a fresh subprocess, so that nothing this process loaded counts; its
peak resident set size is the kernel's (getrusage of the children). Run from the
repository root: .venv/bin/python bench/memory.py [--model PATH]
"""

import argparse
import json
import resource
import subprocess
import sys
import time

WIDTH, HEIGHT = 4000, 3000
TARGET_GB = 2.5


def peak_rss_bytes(who: int) -> int:
    return resource.getrusage(who).ru_maxrss * 1024  # Linux reports KiB


def child(model_path: str | None, tile: int) -> None:
    """Load the model, deblur the photo, print a JSON line of figures."""
    from common import nafnet, photo

    from inference.engine import deblur

    model = nafnet(model_path)
    rgb, source = photo(WIDTH, HEIGHT)
    loaded = peak_rss_bytes(resource.RUSAGE_SELF)
    start = time.perf_counter()
    deblur(model, rgb, tile=tile or None)
    seconds = time.perf_counter() - start
    print(json.dumps({"source": source, "seconds": seconds, "loaded_bytes": loaded}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", help="a .keras file (default: the default NAFNet, random weights)")
    parser.add_argument("--tile", type=int, default=0, help="tile size in pixels (default: the engine's for the architecture)")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.model, args.tile)
        return

    command = [sys.executable, __file__, "--child", "--tile", str(args.tile)]
    if args.model:
        command += ["--model", args.model]
    result = subprocess.run(command, capture_output=True, text=True, check=True)
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    peak = peak_rss_bytes(resource.RUSAGE_CHILDREN)
    megapixels = WIDTH * HEIGHT / 1e6
    print(f"Photo: {figures['source']}, {WIDTH}x{HEIGHT} ({megapixels:.0f} MP); tile {args.tile or 'per architecture'}")
    print(f"Peak RSS after loading TensorFlow, the model and the photo: {figures['loaded_bytes'] / 1e9:.2f} GB")
    print(f"Peak RSS of the whole run: {peak / 1e9:.2f} GB (target < {TARGET_GB:g} GB: {'met' if peak / 1e9 < TARGET_GB else 'MISSED'})")
    print(f"Deblurring: {figures['seconds']:.1f} s ({figures['seconds'] / megapixels:.2f} s/MP)")


if __name__ == "__main__":
    main()
