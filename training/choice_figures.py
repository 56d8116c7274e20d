"""The figures of every user-facing choice on each benchmark, for the staff models page.

`bench/choices.py --json` measures them; the committed copy is FIGURES_PATH (the same rows as
docs/benchmarks.md's "Choices" table). This module reads that file and lays it out as one row
per benchmark set and one column per choice (inference.models.Choice)."""

import json
import logging
from dataclasses import dataclass
from pathlib import Path

from inference.models import Choice

logger = logging.getLogger(__name__)

FIGURES_PATH = Path(__file__).with_name("choice_figures.json")

# Real-blur benchmarks first, in the order of docs/benchmarks.md; any other set (the synthetic
# held-out one) after them, by name.
SET_ORDER = ("levin", "kohler", "gopro-real")
SET_NOTES = {
    "levin": "aligned per image, as the literature scores them",
    "kohler": "aligned per image, as the literature scores them",
    "gopro-real": "seen in training for Best quality (SRN-DeblurNet's GoPro weights)",
}
SYNTHETIC_NOTE = "the project's synthetic held-out set"

REQUIRED = {
    "set": str,
    "choice": str,
    "pairs": int,
    "input_psnr": (int, float),
    "input_ssim": (int, float),
    "psnr": (int, float),
    "ssim": (int, float),
    "seconds_per_megapixel": (int, float),
    "methods": dict,
}


@dataclass(frozen=True)
class Cell:
    """One choice on one set."""

    psnr: float
    ssim: float
    gain: float
    seconds_per_megapixel: float
    pairs: int
    better: int | None
    worse: int | None


@dataclass(frozen=True)
class SetRow:
    """One benchmark set: its input's figures, a cell per choice (None where not measured) and
    the share of its photos whose kernel-engine result passed the gate (shake's methods)."""

    name: str
    note: str
    input_psnr: float
    input_ssim: float
    cells: list[Cell | None]
    gate_accepted: int | None
    gate_pairs: int | None

    @property
    def gate_rate(self) -> float | None:
        if self.gate_accepted is None or not self.gate_pairs:
            return None
        return 100.0 * self.gate_accepted / self.gate_pairs


@dataclass(frozen=True)
class ChoiceTable:
    choices: list[tuple[str, str]]  # (key, label), in Choice's order
    rows: list[SetRow]


def _valid(row: object) -> bool:
    if not isinstance(row, dict):
        return False
    for key, kind in REQUIRED.items():
        value = row.get(key)
        if not isinstance(value, kind) or isinstance(value, bool):
            return False
    return row["choice"] in Choice.values and row["pairs"] > 0


def load_rows(path: Path | None = None) -> list[dict]:
    """The rows of `bench/choices.py --json`; an empty list, logged, when the file is missing
    or is not a list of such rows."""
    path = Path(path or FIGURES_PATH)
    try:
        rows = json.loads(path.read_text())
    except FileNotFoundError:
        logger.info("No choice figures at %s", path)
        return []
    except (OSError, ValueError) as exc:
        logger.warning("Unreadable choice figures at %s: %s", path, exc)
        return []
    if not isinstance(rows, list) or not all(_valid(row) for row in rows):
        logger.warning("Malformed choice figures at %s: expected a list of bench/choices.py rows", path)
        return []
    return rows


def _order(name: str) -> tuple[int, str]:
    return (SET_ORDER.index(name) if name in SET_ORDER else len(SET_ORDER), name)


def choice_table(rows: list[dict] | None = None) -> ChoiceTable | None:
    """The rows grouped by set, or None when there are none."""
    rows = load_rows() if rows is None else rows
    if not rows:
        return None
    by_set: dict[str, dict[str, dict]] = {}
    for row in rows:
        by_set.setdefault(row["set"], {})[row["choice"]] = row
    table_rows = []
    for name in sorted(by_set, key=_order):
        measured = by_set[name]
        first = next(iter(measured.values()))
        cells: list[Cell | None] = []
        for key in Choice.values:
            row = measured.get(key)
            cells.append(
                Cell(
                    psnr=row["psnr"],
                    ssim=row["ssim"],
                    gain=row["psnr"] - row["input_psnr"],
                    seconds_per_megapixel=row["seconds_per_megapixel"],
                    pairs=row["pairs"],
                    better=row.get("better"),
                    worse=row.get("worse"),
                )
                if row
                else None
            )
        shake = measured.get(Choice.SHAKE)
        table_rows.append(
            SetRow(
                name=name,
                note=SET_NOTES.get(name, SYNTHETIC_NOTE),
                input_psnr=first["input_psnr"],
                input_ssim=first["input_ssim"],
                cells=cells,
                gate_accepted=int(shake["methods"].get("kernel", 0)) if shake else None,
                gate_pairs=shake["pairs"] if shake else None,
            )
        )
    return ChoiceTable(choices=[(key, str(label)) for key, label in Choice.choices], rows=table_rows)
