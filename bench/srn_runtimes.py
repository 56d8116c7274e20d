"""SRN-DeblurNet (authors' GoPro weights) on this CPU: what each runtime and precision gives.

Experiment-only code behind the "SRN-DeblurNet on this CPU" section of docs/benchmarks.md.
Every option runs the whole model on whole images at full resolution (no tiles, one call
per image): the gopro-real frames 000100, 000110 and 000120 (1280x720), then three kohler
pairs (800x800), optionally a 1024x1024 photo (`--big`). The first 720p call (frame 000100) is
the warm-up (graph building, XLA or ONNX Runtime set-up) and is not counted; the figure is
the best of the other two 720p calls, since the two cores are shared with other work (the
CPU seconds of all threads are recorded too: they stretch less than wall time under load).
Each option
writes its outputs (float32, before rounding) and timings under OUT/OPTION/; `compare`
then scores every option against float32 and against the ground truth.

The ONNX options need packages that stay out of the project's venv: tf2onnx and onnx as a
`--target` folder for the export, onnxruntime and openvino in a throwaway venv:

    .venv/bin/pip install --no-deps --target /tmp/tf2onnx-pkgs tf2onnx==1.17.0 onnx
    python3 -m venv /tmp/ortvenv && /tmp/ortvenv/bin/pip install onnxruntime openvino onnx pillow

The commands behind the figures in docs/benchmarks.md, from the repository root (OUT
defaults to /tmp/srnbench; the second round used --out /tmp/srnbench-t2, with the two ONNX
files linked into it), 2026-12-01:

    PYTHONPATH=.:/tmp/tf2onnx-pkgs .venv/bin/python bench/srn_runtimes.py export
    /tmp/ortvenv/bin/python bench/srn_runtimes.py quantize
    .venv/bin/python bench/srn_runtimes.py run fp32 --big
    .venv/bin/python bench/srn_runtimes.py run bf16
    .venv/bin/python bench/srn_runtimes.py run xla --quick      # and intra1, intra2 --quick
    /tmp/ortvenv/bin/python bench/srn_runtimes.py run ort-fp32   # and ort-int8, ov-fp32, ov-int8
    .venv/bin/python bench/srn_runtimes.py run nafnet-fp32 --quick   # and nafnet-engine --quick
    .venv/bin/python bench/srn_runtimes.py compare
    .venv/bin/python bench/srn_runtimes.py flops                # arithmetic per megapixel, SRN and NAFNet
    .venv/bin/python bench/srn_runtimes.py screen OPTION        # one 384x384 crop: a cheap look first
                                                                # (the ort-int8-dyn figure, fp32 at low load)

Options not run in full (no figures): engine, onednn-off, bf16-f32head, ort-int8-dyn.

Options:
    engine        fp32 through inference.engine.deblur with its tiling for SRN (1024-px tiles, 256 px
                  overlap: two 720x768 tiles for a 720p frame), output rounded to uint8 by the engine
    nafnet-engine the fast model the same way (512-px tiles, 32 px overlap)
    nafnet-fp32   the fast model (inference/weights/default.keras) as fp32 below, for the ratio
    fp32          keras.models.load_model, predict_on_batch, TF's default threads (2 intra, 2 inter)
    intra1/intra2 as fp32 with tf.config.threading intra-op 1 or 2 threads, inter-op 1
    onednn-off    as fp32 with TF_ENABLE_ONEDNN_OPTS=0 (Eigen kernels)
    xla           tf.function(model, jit_compile=True)
    bf16          keras.mixed_precision.set_dtype_policy("mixed_bfloat16"), nets.build_srn(), set_weights
    bf16-f32head  bf16, but the last conv (dec1_0, shared by the scales), the resizes and the crop in float32
    ort-fp32      ONNX Runtime 1.32 CPU, the tf2onnx export (opset 17), all graph optimisations
    ort-int8      ONNX Runtime, static QDQ int8 (per-channel weights, MinMax calibration on crops
                  of other gopro-real and kohler frames)
    ov-fp32       OpenVINO CPU plugin on the float32 ONNX file, LATENCY hint
    ov-int8       OpenVINO CPU plugin on the QDQ int8 ONNX file
"""

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image

REPO = Path(__file__).resolve().parent.parent
BENCHMARKS = REPO.parent / "shared" / "benchmarks"
SRN_KERAS = "/tmp/srn/srn-gopro.keras"
GOPRO = ["000100", "000110", "000120"]
KOHLER = ["kohler_im1_kernel1", "kohler_im2_kernel2", "kohler_im3_kernel3"]
# Calibration images for int8: other frames and scenes than the scored ones.
CALIBRATION = [("gopro-real", "000105"), ("gopro-real", "000115"), ("gopro-real", "000125"), ("kohler", "kohler_im4_kernel1")]
NAFNET_KERAS = str(REPO / "inference" / "weights" / "default.keras")
KERAS_OPTIONS = ["nafnet-fp32", "nafnet-engine", "fp32", "engine", "intra1", "intra2", "onednn-off", "xla", "bf16", "bf16-f32head"]
ONNX_OPTIONS = ["ort-fp32", "ort-int8", "ort-int8-dyn", "ov-fp32", "ov-int8"]


def load_rgb(path: Path) -> np.ndarray:
    return np.asarray(Image.open(path).convert("RGB"))


def big_photo() -> np.ndarray:
    """A 1024x1024 photo: the middle 720x720 of gopro-real 000100, resized (Lanczos)."""
    image = Image.open(BENCHMARKS / "gopro-real" / "blur" / "000100.png").convert("RGB")
    left = (image.width - image.height) // 2
    image = image.crop((left, 0, left + image.height, image.height)).resize((1024, 1024), Image.Resampling.LANCZOS)
    return np.asarray(image)


def images(big: bool, quick: bool = False) -> list[tuple[str, np.ndarray]]:
    named = [(f"gopro-{name}", load_rgb(BENCHMARKS / "gopro-real" / "blur" / f"{name}.png")) for name in GOPRO]
    if not quick:
        named += [(name, load_rgb(BENCHMARKS / "kohler" / "blur" / f"{name}.png")) for name in KOHLER]
    if big:
        named.append(("big-1024", big_photo()))
    return named


# ---------------------------------------------------------------------------------------
# Runners: each returns a function from a float32 NHWC batch in [0, 1] to a float32 array.


def keras_runner(option: str, model_path: str):
    if option == "onednn-off":
        os.environ["TF_ENABLE_ONEDNN_OPTS"] = "0"
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import tensorflow as tf

    if option in ("intra1", "intra2"):
        tf.config.threading.set_intra_op_parallelism_threads(int(option[-1]))
        tf.config.threading.set_inter_op_parallelism_threads(1)
    import keras

    sys.path.insert(0, str(REPO))
    from inference import nets  # noqa: F401  (registers the custom layers)

    model = keras.models.load_model(NAFNET_KERAS if option.startswith("nafnet") else model_path, compile=False)
    if option.endswith("engine"):
        # Through the engine, as the workers run it: the architecture's tiles and overlap
        # (engine.tiling), feathered, rounded to uint8 (the engine needs Django).
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "deblursite.settings")
        import django

        django.setup()
        from inference.engine import deblur

        return lambda batch: deblur(model, np.rint(batch[0] * 255.0).astype(np.uint8))[np.newaxis].astype(np.float32) / 255.0
    if option == "bf16":
        keras.mixed_precision.set_dtype_policy("mixed_bfloat16")
        low = nets.build_srn()
        low.set_weights(model.get_weights())
        keras.mixed_precision.set_dtype_policy("float32")
        model = low
    elif option == "bf16-f32head":
        # Convolutions in bfloat16, except the last one (its output is the image, and
        # bfloat16 has 8 bits of mantissa: steps of 1/256 near 1, one uint8 level);
        # resizing, padding and cropping stay in float32 too.
        keep = {"dec1_0"}

        def clone(layer):
            config = layer.get_config()
            low_precision = isinstance(layer, keras.layers.Conv2D) and layer.name not in keep
            config["dtype"] = "mixed_bfloat16" if low_precision else "float32"
            return layer.__class__.from_config(config)

        low = keras.models.clone_model(model, clone_function=clone)
        low.set_weights(model.get_weights())
        model = low
    if option == "xla":
        compiled = tf.function(lambda x: model(x, training=False), jit_compile=True)
        return lambda batch: np.asarray(compiled(tf.constant(batch)), np.float32)
    return lambda batch: np.asarray(model.predict_on_batch(batch), np.float32)


def onnx_runner(option: str, out: Path):
    path = out / ("srn-int8.onnx" if option.endswith("int8") else "srn-int8-dyn.onnx" if option.endswith("dyn") else "srn.onnx")
    if option.startswith("ort"):
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        name = session.get_inputs()[0].name
        return lambda batch: session.run(None, {name: batch})[0]
    import openvino as ov

    core = ov.Core()
    compiled = core.compile_model(core.read_model(str(path)), "CPU", {"PERFORMANCE_HINT": "LATENCY"})
    request = compiled.create_infer_request()
    return lambda batch: np.array(request.infer({0: batch})[compiled.output(0)], np.float32)


def runner(option: str, out: Path, model_path: str):
    if option in KERAS_OPTIONS:
        return keras_runner(option, model_path)
    if option in ONNX_OPTIONS:
        return onnx_runner(option, out)
    raise SystemExit(f"Unknown option {option!r}: one of {', '.join(KERAS_OPTIONS + ONNX_OPTIONS)}")


def as_batch(rgb: np.ndarray) -> np.ndarray:
    return rgb[np.newaxis].astype(np.float32) / 255.0


def timed(run, batch) -> tuple[np.ndarray, float, float]:
    start_wall, start_cpu = time.perf_counter(), time.process_time()
    result = run(batch)
    return result, time.perf_counter() - start_wall, time.process_time() - start_cpu


def load_average() -> str:
    return Path("/proc/loadavg").read_text().split(" ", 3)[:3].__str__()


def command_run(args) -> None:
    """The first gopro-real frame is the warm-up (its output is kept: it does not depend on
    the call); the figure is the best of the other 720p calls."""
    folder = args.out / args.option
    folder.mkdir(parents=True, exist_ok=True)
    run = runner(args.option, args.out, args.model)
    named = images(args.big, args.quick)
    record = {"option": args.option, "load_before": load_average(), "started": time.strftime("%Y-%m-%d %H:%M:%S %Z"), "calls": []}
    for index, (name, rgb) in enumerate(named):
        megapixels = rgb.shape[0] * rgb.shape[1] / 1e6
        if name == "big-1024":  # a new shape: its own warm-up
            _, wall, cpu = timed(run, as_batch(rgb))
            record["calls"].append({"image": name + " (warm-up)", "megapixels": megapixels, "wall": wall, "cpu": cpu})
        result, wall, cpu = timed(run, as_batch(rgb))
        label = name + (" (warm-up)" if index == 0 else "")
        record["calls"].append({"image": label, "megapixels": megapixels, "wall": wall, "cpu": cpu})
        print(f"{args.option}: {label} {wall:.2f} s ({wall / megapixels:.2f} s/MP, {cpu:.2f} CPU s)", flush=True)
        np.save(folder / f"{name}.npy", np.asarray(result, np.float32)[0])
    record["load_after"] = load_average()
    counted = [call for call in record["calls"] if call["image"].startswith("gopro-") and "warm" not in call["image"]]
    record["best_s_per_mp_720p"] = min(call["wall"] / call["megapixels"] for call in counted)
    record["best_cpu_s_per_mp_720p"] = min(call["cpu"] / call["megapixels"] for call in counted)
    print(
        f"{args.option}: best 720p {record['best_s_per_mp_720p']:.2f} s/MP ({record['best_cpu_s_per_mp_720p']:.1f} CPU s/MP); "
        f"load {record['load_before']} -> {record['load_after']}"
    )
    (folder / "timings.json").write_text(json.dumps(record, indent=1))


def command_screen(args) -> None:
    """One 384x384 crop, warm-up then two calls: a cheap look before a full run."""
    run = runner(args.option, args.out, args.model)
    crop = as_batch(load_rgb(BENCHMARKS / "gopro-real" / "blur" / "000100.png")[168:552, 448:832])
    reference = run(crop)
    calls = [timed(run, crop)[1:] for _ in range(2)]
    wall, cpu = min(calls)
    print(
        f"screen {args.option}: 384x384 best {wall:.2f} s ({wall / 0.147456:.2f} s/MP, {cpu:.2f} CPU s); "
        f"output mean {float(np.mean(reference)):.4f}; load {load_average()}"
    )


# ---------------------------------------------------------------------------------------
# Export and quantisation.


def command_export(args) -> None:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras
    import tensorflow as tf
    import tf2onnx

    sys.path.insert(0, str(REPO))
    from inference import nets  # noqa: F401

    model = keras.models.load_model(args.model, compile=False)
    spec = [tf.TensorSpec((1, None, None, 3), tf.float32, name="image")]
    function = tf.function(lambda x: model(x, training=False), input_signature=spec)
    args.out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    tf2onnx.convert.from_function(function, input_signature=spec, opset=17, output_path=str(args.out / "srn.onnx"))
    print(f"exported {args.out / 'srn.onnx'} in {time.perf_counter() - start:.1f} s")


def command_flops(args) -> None:
    """Floating-point operations per megapixel (TF's profiler: 2 per multiply-add) of SRN
    and of the fast NAFNet on a 1280x720 input, from their frozen graphs; nothing runs."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras
    import tensorflow as tf
    from tensorflow.python.framework.convert_to_constants import convert_variables_to_constants_v2

    sys.path.insert(0, str(REPO))
    from inference import nets  # noqa: F401

    for path in (args.model, NAFNET_KERAS):
        model = keras.models.load_model(path, compile=False)
        function = tf.function(lambda x, model=model: model(x, training=False))
        graph = convert_variables_to_constants_v2(function.get_concrete_function(tf.TensorSpec((1, 720, 1280, 3), tf.float32))).graph
        options = tf.compat.v1.profiler.ProfileOptionBuilder.float_operation()
        options["output"] = "none"
        total = tf.compat.v1.profiler.profile(graph=graph, options=options).total_float_ops
        print(f"{Path(path).name}: {total / 0.9216 / 1e12:.3f} TFLOP per megapixel")


def calibration_crops(size: int = 256) -> list[np.ndarray]:
    """Four crops of each calibration image (corners inset by a quarter), float32 batches."""
    crops = []
    for folder, name in CALIBRATION:
        rgb = load_rgb(BENCHMARKS / folder / "blur" / f"{name}.png")
        height, width = rgb.shape[:2]
        for top in (height // 4 - size // 2, 3 * height // 4 - size // 2):
            for left in (width // 4 - size // 2, 3 * width // 4 - size // 2):
                crops.append(as_batch(rgb[top : top + size, left : left + size]))
    return crops


def command_quantize(args) -> None:
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_dynamic, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    source, prepared = args.out / "srn.onnx", args.out / "srn-prep.onnx"
    quant_pre_process(str(source), str(prepared), skip_symbolic_shape=True)

    class Reader(CalibrationDataReader):
        def __init__(self):
            self.batches = iter(calibration_crops())

        def get_next(self):
            batch = next(self.batches, None)
            return None if batch is None else {"image": batch}

    start = time.perf_counter()
    quantize_static(
        str(prepared),
        str(args.out / "srn-int8.onnx"),
        Reader(),
        quant_format=QuantFormat.QDQ,
        per_channel=True,
        activation_type=QuantType.QUInt8,
        weight_type=QuantType.QInt8,
        op_types_to_quantize=["Conv", "Add", "Concat"],
    )
    print(f"static int8 in {time.perf_counter() - start:.1f} s")
    quantize_dynamic(str(prepared), str(args.out / "srn-int8-dyn.onnx"), weight_type=QuantType.QUInt8, op_types_to_quantize=["Conv"])
    print("dynamic int8 written")


# ---------------------------------------------------------------------------------------
# Scores.


def to_uint8(image: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(np.clip(image, 0.0, 1.0) * 255.0), 0, 255).astype(np.uint8)


def ground_truth(name: str) -> tuple[np.ndarray, int]:
    """The sharp image for an output name, aligned as the benchmarks' README says, and the
    border to crop before scoring."""
    from scipy import ndimage

    if name.startswith("gopro-"):
        return load_rgb(BENCHMARKS / "gopro-real" / "sharp" / f"{name[6:]}.png"), 0
    shifts = {}
    for line in (BENCHMARKS / "kohler" / "shifts.tsv").read_text().splitlines()[1:]:
        key, dy, dx = line.split("\t")[:3]
        shifts[key] = (float(dy), float(dx))
    sharp = load_rgb(BENCHMARKS / "kohler" / "sharp" / f"{name}.png").astype(np.float64)
    shifted = np.stack([ndimage.shift(sharp[..., c], shifts[name], order=3, mode="nearest") for c in range(3)], axis=-1)
    return np.clip(np.rint(shifted), 0, 255).astype(np.uint8), 16


def command_compare(args) -> None:
    sys.path.insert(0, str(REPO))
    from inference.metrics import psnr

    names = [name for name in [f"gopro-{name}" for name in GOPRO] + KOHLER if (args.out / "fp32" / f"{name}.npy").exists()]
    truths = {name: ground_truth(name) for name in names}
    crop = lambda image, border: image[border : image.shape[0] - border, border : image.shape[1] - border] if border else image  # noqa: E731
    base = {name: np.load(args.out / "fp32" / f"{name}.npy") for name in names}
    base_psnr = {name: psnr(crop(to_uint8(base[name]), truths[name][1]), crop(*truths[name])) for name in names}
    rows = []
    for option in KERAS_OPTIONS + ONNX_OPTIONS:
        if option.startswith("nafnet"):
            continue
        folder = args.out / option
        if not (folder / "timings.json").exists():
            continue
        timing = json.loads((folder / "timings.json").read_text())
        max_float, max_levels, gains = 0.0, 0, {"gopro": [], "kohler": []}
        agree = []
        present = [name for name in names if (folder / f"{name}.npy").exists()]
        for name in present:
            output = np.load(folder / f"{name}.npy")
            max_float = max(max_float, float(np.max(np.abs(output - base[name]))))
            levels = np.abs(to_uint8(output).astype(np.int16) - to_uint8(base[name]))
            max_levels = max(max_levels, int(levels.max()))
            agree.append(psnr(to_uint8(output), to_uint8(base[name])))
            score = psnr(crop(to_uint8(output), truths[name][1]), crop(*truths[name]))
            gains["gopro" if name.startswith("gopro") else "kohler"].append(score - base_psnr[name])
        best = timing["best_s_per_mp_720p"]
        mean = lambda values: float(np.mean(values)) if values else float("nan")  # noqa: E731
        rows.append((option, best, max_float, max_levels, min(agree), mean(gains["gopro"]), mean(gains["kohler"]), timing, len(present)))
    fp32 = next(row[1] for row in rows if row[0] == "fp32")
    fp32_cpu = next(row[7]["best_cpu_s_per_mp_720p"] for row in rows if row[0] == "fp32")
    gopro_mean = np.mean([base_psnr[f"gopro-{name}"] for name in GOPRO])
    kohler_mean = np.mean([base_psnr[name] for name in KOHLER if name in base_psnr])
    print(f"fp32 scores: gopro-real {gopro_mean:.2f} dB (3 frames), kohler aligned {kohler_mean:.2f} dB (3 pairs)")
    print("option         s/MP  speed-up  CPU s/MP  CPU speed-up  max|d| float  max|d| levels  PSNR vs fp32 (min)  dPSNR gopro  dPSNR kohler")
    for option, best, max_float, max_levels, agree, gopro, kohler, timing, count in rows:
        cpu = timing["best_cpu_s_per_mp_720p"]
        walls = [f"{call['wall']:.1f}" for call in timing["calls"] if call["image"].startswith("gopro-")]
        print(
            f"{option:12} {best:6.2f}  {fp32 / best:7.2f}x  {cpu:8.1f}  {fp32_cpu / cpu:11.2f}x  {max_float:12.2e}  {max_levels:13d}"
            f"  {agree:18.2f}  {gopro:+11.3f}  {kohler:+12.3f}   {count} images; 720p walls {'/'.join(walls)} s; load {timing['load_before']}"
        )
        big = [call for call in timing["calls"] if call["image"] == "big-1024"]
        if big:
            print(f"{'':12} 1024x1024: {big[0]['wall'] / big[0]['megapixels']:.2f} s/MP ({big[0]['cpu'] / big[0]['megapixels']:.1f} CPU s/MP)")
    srn = {row[0]: row[1] for row in rows}
    for option, how, same in (("nafnet-fp32", "whole frame", "fp32"), ("nafnet-engine", "through the engine", "engine")):
        nafnet = args.out / option / "timings.json"
        if nafnet.exists():
            best = json.loads(nafnet.read_text())["best_s_per_mp_720p"]
            ratio = f"; SRN {same} / NAFNet: {srn[same] / best:.0f}x" if same in srn else ""
            print(f"NAFNet (default.keras) fp32, {how}: {best:.2f} s/MP{ratio}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["run", "screen", "export", "quantize", "compare", "flops"])
    parser.add_argument("option", nargs="?", default="fp32")
    parser.add_argument("--out", type=Path, default=Path("/tmp/srnbench"))
    parser.add_argument("--model", default=SRN_KERAS, help=f"the SRN .keras file (default {SRN_KERAS})")
    parser.add_argument("--big", action="store_true", help="also time a 1024x1024 photo")
    parser.add_argument("--quick", action="store_true", help="the three gopro-real frames only (warm-up and two timed), no kohler")
    args = parser.parse_args()
    {"run": command_run, "screen": command_screen, "export": command_export, "quantize": command_quantize, "compare": command_compare, "flops": command_flops}[args.command](args)


if __name__ == "__main__":
    main()
