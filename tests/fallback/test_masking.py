"""Tests for fallback.core.masking: typed placeholders for personal data, order numbers kept as slots."""

from __future__ import annotations

import copy
import random
from typing import Any

import pytest

from fallback.core.masking import PLACEHOLDERS, contains_pii, mask, mask_mapping


# Independent helpers (not the module's own code) that make synthetic but valid numbers.
def id18(first17: str) -> str:
    """Complete an ID number with its GB 11643 check character (ISO 7064 MOD 11-2)."""
    # Weight of position i counted from the right (check digit is i = 1) is 2**(i-1) mod 11.
    total = sum(int(d) * pow(2, 17 - k, 11) for k, d in enumerate(first17))
    check = (12 - total % 11) % 11
    return first17 + ("X" if check == 10 else str(check))


def luhn(prefix: str) -> str:
    """Complete a card number with its Luhn check digit."""
    for check in "0123456789":
        digits = [int(c) for c in prefix + check][::-1]
        odd = sum(digits[0::2])
        even = sum(sum(divmod(2 * d, 10)) for d in digits[1::2])
        if (odd + even) % 10 == 0:
            return prefix + check
    raise AssertionError("unreachable")


def luhn_valid(number: str) -> bool:
    return luhn(number[:-1]) == number


ID_A = id18("11010519900307123")
ID_B = id18("44030419851212456")
# A 17-digit body whose check character is X, found by trying sequence numbers.
ID_X = next(i for i in (id18(f"32058219880808{n:03d}") for n in range(1000)) if i.endswith("X"))
CARD_19 = luhn("622202123456789012")
CARD_16 = luhn("436742000012345")
CARD_15 = luhn("37144963539843")
# Looks like an ID (valid province and birth date) but the check digit is wrong, and it is not a
# Luhn-valid card either: an order number.
FAKE_ID = next(c for c in (ID_A[:17] + d for d in "0123456789") if c != ID_A and not luhn_valid(c))
NOT_CARD_19 = next(n for n in (ID_A + d for d in "0123456789") if not luhn_valid(n))
TAOBAO_19 = next(n for n in (f"378912345678901234{d}" for d in "0123456789") if not luhn_valid(n))


def test_synthetic_numbers_are_what_the_tests_claim() -> None:
    assert ID_X.endswith("X") and len(ID_A) == len(ID_B) == 18
    assert all(luhn_valid(c) for c in (CARD_19, CARD_16, CARD_15))
    assert FAKE_ID[:17] == ID_A[:17] and FAKE_ID != ID_A


MASKED_CASES: list[tuple[str, str, dict[str, int]]] = [
    # mobile phones
    ("我的手机号是13812345678，麻烦尽快联系", "我的手机号是[手机号]，麻烦尽快联系", {"phone": 1}),
    ("电话 138-1234-5678 收件人张三", "电话 [手机号] 收件人[姓名]", {"phone": 1, "name": 1}),
    ("+86 139 1234 5678 联系我", "[手机号] 联系我", {"phone": 1}),
    ("手机8615900001111", "手机[手机号]", {"phone": 1}),
    ("联系方式：１３８１２３４５６７８", "联系方式：[手机号]", {"phone": 1}),
    ("手机138\u200b1234\u200b5678", "手机[手机号]", {"phone": 1}),
    ("13812345678和19912345678都能打通", "[手机号]和[手机号]都能打通", {"phone": 2}),
    ("换个号码18600001234 2件一起发", "换个号码[手机号] 2件一起发", {"phone": 1}),
    # landlines
    ("座机010-62345678白天有人", "座机[座机]白天有人", {"landline": 1}),
    ("打(0755)86001234找前台", "打[座机]找前台", {"landline": 1}),
    ("公司电话0571-87654321转8001", "公司电话[座机]", {"landline": 1}),
    ("（021）62345678", "[座机]", {"landline": 1}),
    # ID cards
    (f"身份证号码：{ID_A}，请帮我改一下实名", "身份证号码：[身份证]，请帮我改一下实名", {"id_card": 1}),
    (f"身份证{ID_X}", "身份证[身份证]", {"id_card": 1}),
    (f"身份证{ID_X.lower()}", "身份证[身份证]", {"id_card": 1}),
    (f"报关要用 {ID_B[:6]} {ID_B[6:14]} {ID_B[14:]}", "报关要用 [身份证]", {"id_card": 1}),
    ("老身份证 110105491231002", "老身份证 [身份证]", {"id_card": 1}),
    # bank cards
    (f"退款退到这张卡{CARD_19}吧", "退款退到这张卡[银行卡]吧", {"bank_card": 1}),
    (f"{CARD_16[:4]} {CARD_16[4:8]} {CARD_16[8:12]} {CARD_16[12:]}", "[银行卡]", {"bank_card": 1}),
    (f"{CARD_16[:4]}-{CARD_16[4:8]}-{CARD_16[8:12]}-{CARD_16[12:]}", "[银行卡]", {"bank_card": 1}),
    (f"打到{CARD_16} 2件的钱", "打到[银行卡] 2件的钱", {"bank_card": 1}),
    (f"信用卡号 {CARD_15}", "信用卡号 [银行卡]", {"bank_card": 1}),
    # e-mail
    ("发票发到 zhangsan.1990@qq.com 谢谢", "发票发到 [邮箱] 谢谢", {"email": 1}),
    ("邮箱ABC_def@163.com", "邮箱[邮箱]", {"email": 1}),
    ("邮箱 13812345678@139.com", "邮箱 [邮箱]", {"email": 1}),
    # several kinds at once
    (
        f"收件人李四，电话13812345678，身份证{ID_A}，邮箱li4@example.cn",
        "收件人[姓名]，电话[手机号]，身份证[身份证]，邮箱[邮箱]",
        {"phone": 1, "id_card": 1, "email": 1, "name": 1},
    ),
]


@pytest.mark.parametrize(("text", "expected", "found"), MASKED_CASES)
def test_mask_replaces_personal_data_with_typed_placeholders(
    text: str, expected: str, found: dict[str, int]
) -> None:
    result = mask(text)
    assert result.text == expected
    assert result.found == found
    assert not contains_pii(result.text)
    assert contains_pii(text)


UNMASKED_CASES: list[tuple[str, list[str]]] = [
    ("XL码还有货吗", []),
    ("2024年11月11日下单的，什么时候发货", []),
    ("2024-11-11 20:00:00 付的款", []),
    ("¥199 的那款，满300减50", []),
    ("身高175cm体重65kg穿什么码", []),
    ("第3件半价，一共买了12件", []),
    ("尺码 36/37/38 都要", []),
    # order numbers are kept in the text and extracted
    (f"订单号：{FAKE_ID} 还没发货", [FAKE_ID]),
    (f"{FAKE_ID}这个单什么时候到", [FAKE_ID]),
    (f"订单编号{TAOBAO_19}", [TAOBAO_19]),
    (f"订单号 {CARD_19}", [CARD_19]),  # Luhn-valid, but introduced as an order number
    ("我的订单 JD2024111100123 到哪了", ["JD2024111100123"]),
    ("order no. SO-2024-88812 status?", ["SO-2024-88812"]),
    ("单号是：SF1234567890123，一直没更新", ["SF1234567890123"]),
    ("拼多多订单 241111-123456789012345 退一下", ["241111-123456789012345"]),
    ("241111-123456789012345", ["241111-123456789012345"]),
    ("１２３４５６７８９０１２３ 这个单", ["1234567890123"]),
    (f"订单号{FAKE_ID}，还有订单号{FAKE_ID}", [FAKE_ID]),
    # digits inside longer runs are never partly masked
    ("1381234567890", ["1381234567890"]),
    ("20241111138123456789", ["20241111138123456789"]),
    (NOT_CARD_19, [NOT_CARD_19]),  # an ID with one more digit: 19 digits, neither ID nor card
]


@pytest.mark.parametrize(("text", "order_ids"), UNMASKED_CASES)
def test_mask_leaves_prices_dates_sizes_and_order_numbers(text: str, order_ids: list[str]) -> None:
    result = mask(text)
    assert result.text == text
    assert result.found == {}
    assert result.order_ids == order_ids


def test_short_luhn_number_is_a_card_only_next_to_a_card_word() -> None:
    assert mask(f"卡号{CARD_15}").found == {"bank_card": 1}
    assert mask(f"我的银行账户 {CARD_15}").found == {"bank_card": 1}
    bare = mask(f"编号{CARD_15}")
    assert bare.found == {}
    assert bare.order_ids == [CARD_15]


def test_precedence_phone_wins_inside_order_context() -> None:
    result = mask("订单号13812345678")
    assert result.text == "订单号[手机号]"
    assert result.order_ids == []


def test_invalid_dates_and_provinces_are_not_id_cards() -> None:
    bad_date = id18("11010519901307123")  # month 13
    bad_province = id18("99010519900307123")
    for number in (bad_date, bad_province):
        assert "id_card" not in mask(number).found


def test_mask_keeps_text_outside_masked_spans_byte_for_byte() -> None:
    text = "ＸＬ码　订单号：ＪＤ２０２４１１１１００１２３，电话：１３８－１２３４－５６７８！"
    result = mask(text)
    assert result.text == "ＸＬ码　订单号：ＪＤ２０２４１１１１００１２３，电话：[手机号]！"
    assert result.order_ids == ["JD2024111100123"]


@pytest.mark.parametrize("text", [case[0] for case in MASKED_CASES] + [case[0] for case in UNMASKED_CASES])
def test_mask_is_idempotent(text: str) -> None:
    once = mask(text)
    twice = mask(once.text)
    assert twice.text == once.text
    assert twice.found == {}
    assert twice.order_ids == once.order_ids


def test_mask_is_idempotent_on_random_mixtures() -> None:
    pieces = ["13812345678", "138 1234 5678", "010-62345678", "+86", ID_A, ID_X, CARD_16, CARD_19, FAKE_ID]
    pieces += ["订单号", "卡号", "a@b.cn", "-", " ", "，", "7", "12", "x", "ＸＬ", "¥199", "转"]
    rng = random.Random(11)
    for _ in range(3000):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(1, 6)))
        once = mask(text)
        assert mask(once.text).text == once.text, text
        for placeholder in PLACEHOLDERS.values():
            assert once.text.count(placeholder) >= text.count(placeholder)


def test_mask_can_be_limited_to_some_kinds() -> None:
    result = mask(f"13812345678 {CARD_16}", kinds={"phone"})
    assert result.text == f"[手机号] {CARD_16}"
    with pytest.raises(ValueError, match="unknown"):
        mask("x", kinds={"qq"})


def test_mask_mapping_masks_history_and_slots_but_keeps_order_numbers() -> None:
    payload: dict[str, Any] = {
        "query": "我手机13812345678",
        "history": [
            {"role": "user", "content": f"卡号{CARD_19}，身份证{ID_A}"},
            {"role": "assistant", "content": "好的，已为您登记"},
        ],
        "slots": {
            "order_id": CARD_19,
            "ORDER_NO": "13812345678",
            "order_number": [CARD_16, "zhang@qq.com"],
            "phone": 13812345678,
            "count": 2,
            "vip": True,
            "note": None,
        },
        "tags": ("退款", "18600001234"),
    }
    original = copy.deepcopy(payload)
    masked = mask_mapping(payload)
    assert payload == original  # the input is not modified
    assert masked == {
        "query": "我手机[手机号]",
        "history": [
            {"role": "user", "content": "卡号[银行卡]，身份证[身份证]"},
            {"role": "assistant", "content": "好的，已为您登记"},
        ],
        "slots": {
            "order_id": CARD_19,
            "ORDER_NO": "[手机号]",
            "order_number": [CARD_16, "[邮箱]"],
            "phone": "[手机号]",
            "count": 2,
            "vip": True,
            "note": None,
        },
        "tags": ("退款", "[手机号]"),
    }
    assert mask_mapping("电话13812345678") == "电话[手机号]"


def test_contains_pii_ignores_order_numbers_and_placeholders() -> None:
    assert not contains_pii(f"订单号{FAKE_ID}")
    assert not contains_pii("电话[手机号]，卡[银行卡]")
    assert contains_pii("call me: +86-138-1234-5678")
