"""Tests for fallback.core.normalize: width/case/space folding and the exact-repeat cache key."""

from __future__ import annotations

import random
import unicodedata

import pytest

from fallback.core.normalize import cache_key, normalize


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("ＸＬ码还有货吗？", "xl码还有货吗?"),
        ("ＡＢＣ１２３", "abc123"),
        ("iPhone 15 Pro Max", "iphone 15 pro max"),
        ("价格，多少？！", "价格,多少?!"),
        ("全角　空格", "全角 空格"),
        ("  多个   空格\n\t换行  ", "多个 空格 换行"),
        ("退\u200b货\u200d流\ufeff程", "退货流程"),
        ("收到了\x00\x07吗", "收到了吗"),
        ("￥１９９元", "¥199元"),
        ("已发货。请查收、谢谢", "已发货。请查收、谢谢"),
        ("（尺码）【颜色】", "(尺码)【颜色】"),
        ("２０２４年１１月１１日", "2024年11月11日"),
        ("", ""),
        ("\u3000\u200b ", ""),
    ],
)
def test_normalize_folds_width_case_space_and_invisible(raw: str, expected: str) -> None:
    assert normalize(raw) == expected


def test_normalize_is_idempotent_for_every_code_point() -> None:
    # CJK ideographs, Hangul syllables, private use and surrogates are skipped for speed: they are
    # either left alone or dropped. Everything else assigned up to plane 2 is tried, alone and
    # with the combining marks that made a single NFKC pass fall short for some Greek letters.
    skipped = ((0x3400, 0x9FFF), (0xAC00, 0xD7A3), (0xD800, 0xF8FF))
    for code in range(0x20000):
        ch = chr(code)
        if any(lo <= code <= hi for lo, hi in skipped) or unicodedata.category(ch) == "Cn":
            continue
        for text in (ch, f"A{ch}\u0301", f"{ch}\u0345\u0301 x"):
            once = normalize(text)
            assert normalize(once) == once, (hex(code), text)


def test_normalize_is_idempotent_on_mixed_customer_text() -> None:
    pieces = ["ＸＬ", "码", "？", "，", " ", "\u3000", "\u200b", "\n", "Ｏｒｄｅｒ", "退款", "😭"]
    pieces += ["１", "e\u0301"]
    rng = random.Random(20241111)
    for _ in range(2000):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 12)))
        assert normalize(normalize(text)) == normalize(text)


@pytest.mark.parametrize(
    "variants",
    [
        ["能退货吗", "能退货吗？", "能退货吗?", "能退货呢", "能 退货吗？？", "　能退货吗！"],
        ["什么时候发货", "什么时候发货啊", "什么时候发货呀~", "什么时候发货。", "什么时候 发货😭😭"],
        ["XL码有货吗", "ｘｌ码有货吗", "Xl码 有货吗？"],
    ],
)
def test_cache_key_ignores_trailing_particles_punctuation_and_cjk_spacing(variants: list[str]) -> None:
    assert len({cache_key(v) for v in variants}) == 1


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("发货了吗", "发货了"),
        ("iPhone 15 有货吗？", "iphone 15有货"),
        ("满300减50吗", "满300减50"),
        ("？？", ""),
        ("吗", ""),
    ],
)
def test_cache_key_keeps_content(raw: str, expected: str) -> None:
    assert cache_key(raw) == expected


def test_cache_key_keeps_different_questions_apart() -> None:
    assert cache_key("能退货吗") != cache_key("能换货吗")
    assert cache_key("iphone 15") != cache_key("iphone15 pro")


def test_traditional_and_simplified_spellings_are_the_same_question() -> None:
    from fallback.core.normalize import cache_key, normalize

    assert normalize("可以開發票嗎？") == normalize("可以开发票吗？")
    assert cache_key("退貨運費誰出") == cache_key("退货运费谁出")
    assert normalize("iPhone 15 Pro") == "iphone 15 pro"  # no CJK: untouched
    t = normalize("這件衣服偏大嗎")
    assert normalize(t) == t
