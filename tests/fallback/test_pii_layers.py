"""Regression tests for the layered detector (issue 17): forms that leaked, the cue layer, keyed ids."""

from __future__ import annotations

import pytest

from fallback.core.masking import contains_pii, mask, mask_mapping, pseudonymize


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # issue 17: the local part started with 1 and the old pattern wanted 2-9
        ("座机号码010-12345678", "座机号码[座机]"),
        ("电话 010 1234 5678", "电话 [座机]"),
        ("+86 10 1234 5678", "[座机]"),
        ("+86-755-8600-1234", "[座机]"),
        ("我在外地，电话+86 (0)21 6123 4567", "我在外地，电话[座机]"),
        ("（０２１）１２３４５６７８", "[座机]"),
        ("0571，87654321", "[座机]"),
        ("座机 (010) 8765-4321 ext. 806", "座机 [座机]"),
        ("公司前台 021-61234567-8008", "公司前台 [座机]"),
        ("0755-1234567转123找我", "[座机]找我"),
        ("客服热线4006-123-456打不通", "客服热线[座机]打不通"),
        ("800 810 8888", "[座机]"),
        ("电话 62345678", "电话 [号码]"),
        # mobiles in every grouping and alphabet
        ("旧的153 1234 5678不用了", "旧的[手机号]不用了"),
        ("1381 234 5678", "[手机号]"),
        ("138.1234.5678", "[手机号]"),
        ("(+86)13812345678", "[手机号]"),
        ("电话：壹叁捌壹贰叁肆伍陆柒捌", "电话：[手机号]"),
        ("幺三八幺二三四五六七八", "[手机号]"),
        ("我的号一九六三二六七七四〇五一直收不到", "我的号[手机号]一直收不到"),
        ("1 3 8 1 2 3 4 5 6 7 8 是我的电话", "[号码] 是我的电话"),
        # ID cards and cards
        ("身份证 110105-19491231-002x", "身份证 [身份证]"),
        ("工商银行 6222-0291-1665-3235-015 退这里", "工商银行 [银行卡] 退这里"),  # Luhn-valid
        ("退款请退到 6217 0012 3456 7890 123 这张卡", "退款请退到 [号码] 这张卡"),
        # names, addresses, plates, accounts
        ("收货人：欧阳娜娜 手机：17612345678", "收货人：[姓名] 手机：[手机号]"),
        ("联系人：张先生 13912345678", "联系人：[姓名] [手机号]"),
        ("名字叫陈晓东", "名字叫[姓名]"),
        ("地址：广东省广州市天河区天河路385号太古汇2座1801", "地址：[地址]"),
        ("麻烦改一下地址，改成上海市浦东新区世纪大道100号环球金融中心45楼", "麻烦改一下地址，改成[地址]"),
        ("我住朝阳区望京街道阜通东大街6号方恒国际C座", "我住[地址]"),
        ("送到杭州市西湖区文三路478号可以吗", "送到[地址]可以吗"),
        ("北京市海淀区中关村大街27号1101室收", "[地址]收"),
        ("车牌号 粤B·D12345，停在地下车库", "车牌号 [车牌]，停在地下车库"),
        ("京AD12345停在门口", "[车牌]停在门口"),
        ("微信号：Lily_0808 加一下", "微信号：[账号] 加一下"),
        ("加vxjacklin2077", "加vx[账号]"),
        ("QQ 87654321", "QQ [号码]"),
        ("我的邮箱 zhangsan @ 163.com", "我的邮箱 [邮箱]"),
    ],
)
def test_forms_that_used_to_leak_are_masked(text: str, expected: str) -> None:
    assert mask(text).text == expected
    assert not contains_pii(mask(text).text)


@pytest.mark.parametrize(
    "text",
    [
        "我的快递寄到哪里了",
        "收件人信息填错了怎么改",
        "能寄到村里吗",
        "地址填错了",
        "姓名写错了能改吗",
        "我的手机尾号是5678",
        "身份证后四位1234",
        "手机下单的，123456789012345678这个单",
        "电话里说2024-11-11发货",
        "联系客服说订单号123456789012345已经退款",
        "寄到北京要几天",
        "收货地址能改吗",
        "卡券满100减20",
        "微信支付了199元",
        "¥199 满300减50 2024-11-11 20:00",
        "买了1234567件",
        "联系我，20:30以后有空",
        "请用“您”称呼顾客",
        "收件人快递员说放门口了",
    ],
)
def test_everyday_messages_keep_their_words(text: str) -> None:
    assert mask(text).text == text


def test_slot_keys_are_masked_and_colliding_keys_keep_both_values() -> None:
    slots = {"13812345678": "a", "13912345678": "b", "备注": "收件人张三", "order_id": "6222021234567890128"}
    masked = mask_mapping(slots)
    assert masked == {
        "[手机号]": "a",
        "[手机号]#2": "b",
        "备注": "收件人[姓名]",
        "order_id": "6222021234567890128",
    }
    assert mask_mapping({"phone": 13812345678.0}) == {"phone": "[手机号]"}


def test_pseudonyms_are_keyed_stable_and_storable() -> None:
    a = pseudonymize("13812345678", "key-1")
    assert a == pseudonymize("13812345678", "key-1") != pseudonymize("13812345678", "key-2")
    assert a.startswith("h:") and len(a) == 34 and "13812345678" not in a
    assert pseudonymize("u\x00\ud800", b"k").isascii()  # NUL and a lone surrogate hash too
