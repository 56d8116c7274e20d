"""Benchmark images never reach training, whatever folder or dataset they came in by.

A benchmark image is any image of the shared benchmarks (BENCHMARKS_DIR/<name>/{blur,sharp}/*)
or a kept image of a dataset marked as a benchmark, both partners of a pair included. An image
matches one when it is the same file (SHA-256) or looks the same (pHash within
DATASET_NEAR_DUPLICATE_DISTANCE, as etl's near duplicates): a re-encoded or resized copy is
caught too."""

import json
import os
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import imagehash
from django.conf import settings

from training.ingestion import etl
from training.models import Dataset, DatasetImage

CACHE_NAME = "benchmark-fingerprints.json"
SIDES = ("blur", "sharp")


@dataclass(frozen=True)
class Fingerprint:
    label: str  # what a match reports: gopro-real/sharp/000100.png, dataset <name>/<source_id>
    sha256: str | None  # None: matched by pHash alone
    phash: int


def _bits(phash: imagehash.ImageHash | str) -> int:
    # XOR and bit_count is the Hamming distance ImageHash's `-` computes, thirty times faster:
    # training checks every row against every benchmark image.
    return int(str(phash), 16)


def match(benchmarks: list[Fingerprint], sha256: str, phash: imagehash.ImageHash) -> str | None:
    """The label of the benchmark image that is this same file, or else of the one that looks
    most alike within the near-duplicate distance; None when it matches none."""
    same = next((benchmark.label for benchmark in benchmarks if benchmark.sha256 == sha256), None)
    if same is not None:
        return same
    bits, limit = _bits(phash), settings.DATASET_NEAR_DUPLICATE_DISTANCE
    near = [(distance, b.label) for b in benchmarks if (distance := (bits ^ b.phash).bit_count()) <= limit]
    return min(near)[1] if near else None


def file_fingerprint(path: Path) -> tuple[str, imagehash.ImageHash]:
    """The file's SHA-256 and the pHash of its image, decoded as ingestion decodes it."""
    raw = path.read_bytes()
    try:
        image = etl.decode(raw)
    except etl.Rejected as exc:
        raise ValueError(f"{path}: {exc.detail}") from exc
    return etl.checksum(raw), etl.perceptual_hash(image)


def file_match(benchmarks: list[Fingerprint], path: Path) -> str | None:
    return match(benchmarks, *file_fingerprint(path))


def shared_files(root: Path) -> list[Path]:
    """The shared benchmarks' images, in the layout `evaluate` reads."""
    return sorted(
        path for side in SIDES for path in root.glob(f"*/{side}/*") if path.is_file() and not path.name.startswith(".")
    )


def _read_cache(path: Path) -> dict[str, dict]:
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        return {}


def _write_cache(path: Path, entries: dict[str, dict]) -> None:
    # Renamed into place, so that a worker reading it meanwhile never sees half a file.
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile("w", dir=path.parent, prefix=path.name, suffix=".partial", delete=False) as out:
        json.dump(entries, out)
    os.replace(out.name, path)


def _cache_entry(path: Path, cached: dict | None) -> dict:
    """The cached hashes while the file keeps its size and mtime; hashed again otherwise."""
    stat = path.stat()
    if cached is not None and (cached["size"], cached["mtime_ns"]) == (stat.st_size, stat.st_mtime_ns):
        return cached
    sha256, phash = file_fingerprint(path)
    return {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns, "sha256": sha256, "phash": str(phash)}


def shared_fingerprints() -> list[Fingerprint]:
    """The shared benchmarks' images. Hashing them all takes seconds, so the hashes are kept
    in VAR_DIR by path, size and mtime."""
    root = Path(settings.BENCHMARKS_DIR)
    cache = Path(settings.VAR_DIR) / CACHE_NAME
    cached = _read_cache(cache)
    entries = {str(path): _cache_entry(path, cached.get(str(path))) for path in shared_files(root)}
    if entries != cached:
        _write_cache(cache, entries)
    return [
        Fingerprint(str(Path(path).relative_to(root)), entry["sha256"], _bits(entry["phash"]))
        for path, entry in entries.items()
    ]


def _blur_phash(row: DatasetImage) -> str:
    """Pairs ingested before the blurred image's pHash was recorded get it once, from the
    processed copy (pHash does not change with the resizing)."""
    if not row.blur_phash:
        with row.processed_blur.open("rb") as file:
            row.blur_phash = str(etl.perceptual_hash(etl.decode(file.read())))
        row.save(update_fields=["blur_phash"])
    return row.blur_phash


def _row_fingerprints(row: DatasetImage) -> list[Fingerprint]:
    label = f"dataset {row.dataset.name}/{row.source_id}"
    if not row.processed_blur:
        return [Fingerprint(label, row.checksum, _bits(row.phash))]
    # A pair's checksum covers both files, so its images are matched by pHash alone; an exact
    # copy is at distance 0.
    return [
        Fingerprint(label, None, _bits(row.phash)),
        Fingerprint(f"{label} (blurred)", None, _bits(_blur_phash(row))),
    ]


def dataset_fingerprints(excluding: Dataset | None = None) -> list[Fingerprint]:
    """The kept images of every dataset marked as a benchmark, but `excluding`."""
    rows = DatasetImage.objects.filter(dataset__is_benchmark=True, status=DatasetImage.Status.KEPT)
    if excluding is not None:
        rows = rows.exclude(dataset=excluding)
    return [fingerprint for row in rows.select_related("dataset") for fingerprint in _row_fingerprints(row)]


def fingerprints(excluding: Dataset | None = None) -> list[Fingerprint]:
    return shared_fingerprints() + dataset_fingerprints(excluding)


def mark_matches(rows: Iterable[DatasetImage], benchmarks: list[Fingerprint]) -> None:
    """Rows that match a benchmark image become untrainable, with the reason."""
    for row in rows:
        label = match(benchmarks, row.checksum, imagehash.hex_to_hash(row.phash))
        if label is not None:
            row.trainable, row.benchmark_match = False, label
            row.save(update_fields=["trainable", "benchmark_match"])
