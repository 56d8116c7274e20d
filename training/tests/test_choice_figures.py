"""The staff models page shows every choice's figures on each benchmark, from the committed
copy of `bench/choices.py --json` (training.choice_figures.FIGURES_PATH)."""

import json
from html import unescape

import pytest
from django.urls import reverse

from training import choice_figures


def row(set_name: str, choice: str, psnr: float, ssim: float, seconds: float, kernel: int = 0) -> dict:
    return {
        "set": set_name, "choice": choice, "pairs": 32, "input_psnr": 23.31, "input_ssim": 0.702,
        "psnr": psnr, "ssim": ssim, "better": 28, "worse": 0, "seconds_per_megapixel": seconds,
        "methods": {"kernel": kernel, "none": 32 - kernel}, "verdicts": {"sharper": kernel},
    }


ROWS = [
    row("levin", "shake", 28.33, 0.834, 15.6, kernel=28),
    row("levin", "best", 26.28, 0.781, 3.2),
    row("gopro-real", "best", 20.11, 0.6, 3.1),
    row("holdout", "auto", 22.5, 0.69, 9.9),
]


@pytest.fixture
def figures(tmp_path, monkeypatch):
    path = tmp_path / "choice_figures.json"
    monkeypatch.setattr(choice_figures, "FIGURES_PATH", path)
    return path


def test_the_models_page_shows_each_choice_on_each_benchmark(staff_client, figures):
    figures.write_text(json.dumps(ROWS))
    page = unescape(staff_client.get(reverse("training:models")).content.decode())
    assert "Choices on the benchmarks" in page and "bench/choices.py" in page and "docs/benchmarks.md" in page
    for label in ("Auto", "Best quality", "Fast", "Camera shake"):
        assert f"<th>{label}</th>" in page
    assert "23.31 / 0.702" in page  # the input's own column
    assert "28.33 / 0.834<br>(+5.02 dB)" in page and "28 better, 0 worse" in page and "15.6 s/MP" in page
    assert "26.28 / 0.781<br>(+2.97 dB)" in page
    assert "22.50 / 0.690<br>(-0.81 dB)" in page
    assert "88%" in page and "28 of 32" in page  # the kernel gate's accept rate on levin
    assert "seen in training for Best quality (SRN-DeblurNet's GoPro weights)" in page
    assert "aligned per image, as the literature scores them" in page
    # Real-blur sets first, in the documented order; the held-out set after them.
    assert page.index('id="choice-figures-levin"') < page.index('id="choice-figures-gopro-real"') < page.index(
        'id="choice-figures-holdout"'
    )


def test_the_table_groups_rows_by_set_with_a_cell_per_choice(figures):
    figures.write_text(json.dumps(ROWS))
    table = choice_figures.choice_table()
    assert [key for key, _ in table.choices] == ["auto", "best", "fast", "shake"]
    levin = table.rows[0]
    assert levin.name == "levin" and levin.gate_rate == pytest.approx(87.5)
    auto, best, fast, shake = levin.cells
    assert auto is None and fast is None
    assert best.gain == pytest.approx(2.97) and shake.seconds_per_megapixel == 15.6
    assert table.rows[1].gate_rate is None  # gopro-real: shake not measured


@pytest.mark.parametrize("content", [None, "not json", '{"set": "levin"}', '[{"set": "levin", "choice": "x"}]'])
def test_a_missing_or_malformed_file_shows_no_table_and_no_error(staff_client, figures, content, caplog):
    if content is not None:
        figures.write_text(content)
    assert choice_figures.load_rows() == []
    assert caplog.records  # logged
    response = staff_client.get(reverse("training:models"))
    assert response.status_code == 200
    assert b"Choices on the benchmarks" not in response.content and b"choice-figures" not in response.content


def test_the_committed_figures_are_bench_choices_rows():
    rows = choice_figures.load_rows()
    assert rows and all(r["set"] and r["choice"] in ("auto", "best", "fast", "shake") for r in rows)


def test_the_models_page_stays_staff_only(client, alice, figures):
    figures.write_text(json.dumps(ROWS))
    url = reverse("training:models")
    assert client.get(url).status_code == 302
    client.force_login(alice)
    response = client.get(url)
    assert response.status_code == 403 and b"Choices on the benchmarks" not in response.content
