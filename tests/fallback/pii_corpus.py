"""A template-generated corpus of Chinese customer-service messages holding personal data (and not).

Every row is a message built from one of many templates and random values in many written forms
(separators, ``+86``, full-width digits, zero-width characters, extensions, upper/lower case), from a
fixed seed. :func:`pii_rows` gives rows with one personal datum each (its kind and its raw value);
:func:`clean_rows` gives messages with order numbers, prices, dates, times, quantities and sizes that
must come back unchanged. The value makers here are independent of the detector's code.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field

KINDS = (
    "phone",
    "landline",
    "id_card",
    "bank_card",
    "email",
    "name",
    "address",
    "plate",
    "number",
    "account",
)


@dataclass(frozen=True)
class Row:
    """One message: ``secrets`` are the raw values that must not survive masking."""

    kind: str
    text: str
    secrets: tuple[str, ...] = ()
    order_ids: tuple[str, ...] = ()
    keep: tuple[str, ...] = field(default=())


# ---------------------------------------------------------------------------------------- values
_MOBILE_PREFIXES = [f"13{d}" for d in range(10)] + [
    "145",
    "147",
    "149",
    "150",
    "151",
    "152",
    "153",
    "155",
    "156",
    "157",
    "158",
    "159",
    "162",
    "165",
    "166",
    "167",
    "170",
    "171",
    "172",
    "173",
    "175",
    "176",
    "177",
    "178",
    "180",
    "181",
    "182",
    "183",
    "184",
    "185",
    "186",
    "187",
    "188",
    "189",
    "190",
    "191",
    "192",
    "193",
    "195",
    "196",
    "197",
    "198",
    "199",
]
_AREA3 = ["010", "020", "021", "022", "023", "024", "025", "027", "028", "029"]
_AREA4 = [
    "0311",
    "0351",
    "0371",
    "0411",
    "0431",
    "0451",
    "0512",
    "0531",
    "0532",
    "0551",
    "0571",
    "0574",
    "0591",
    "0592",
    "0731",
    "0755",
    "0757",
    "0760",
    "0769",
    "0871",
    "0898",
    "0931",
    "0991",
    "0471",
]
_PROVINCE_CODES = [
    "11",
    "12",
    "13",
    "14",
    "15",
    "21",
    "22",
    "23",
    "31",
    "32",
    "33",
    "34",
    "35",
    "36",
    "37",
    "41",
    "42",
    "43",
    "44",
    "45",
    "46",
    "50",
    "51",
    "52",
    "53",
    "54",
    "61",
    "62",
    "63",
    "64",
    "65",
]
_FULL = str.maketrans("0123456789-+()@.", "０１２３４５６７８９－＋（）＠．")
_CN_NUM = str.maketrans("0123456789", "〇一二三四五六七八九")
SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁任沈"
    "姚卢姜崔钟谭陆汪范金石廖贾夏韦方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
GIVEN = (
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰红梅"
    "建国志文斌辉鹏飞宇浩然子涵欣怡雨萱梓轩诗婷晨阳佳琪俊杰思远"
)
COMPOUND = ["欧阳", "司马", "上官", "诸葛", "东方", "慕容"]
PROVINCES = [
    ("浙江省", "杭州市", ["西湖区", "余杭区", "滨江区"]),
    ("广东省", "深圳市", ["南山区", "福田区", "宝安区"]),
    ("江苏省", "南京市", ["鼓楼区", "江宁区"]),
    ("四川省", "成都市", ["武侯区", "锦江区", "高新区"]),
    ("湖北省", "武汉市", ["洪山区", "江汉区"]),
    ("山东省", "青岛市", ["市南区", "黄岛区"]),
    ("河南省", "郑州市", ["金水区", "二七区"]),
    ("", "北京市", ["朝阳区", "海淀区", "丰台区"]),
    ("", "上海市", ["浦东新区", "徐汇区", "闵行区"]),
    ("福建省", "厦门市", ["思明区", "湖里区"]),
    ("湖南省", "长沙市", ["岳麓区", "雨花区"]),
    ("陕西省", "西安市", ["雁塔区", "未央区"]),
]
ROADS = [
    "文三路",
    "中山路",
    "人民路",
    "解放大道",
    "建国路",
    "科技园南路",
    "长江路",
    "和平街",
    "学院路",
    "滨江大道",
    "南京东路",
    "天府大道",
    "黄河路",
    "东风路",
    "新华街",
    "青年路",
]
ESTATES = [
    "阳光小区",
    "华星时代广场",
    "万科城市花园",
    "翠苑一区",
    "锦绣家园",
    "幸福里小区",
    "金地公寓",
    "国贸大厦",
]
PLATE_PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
PLATE_LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ"
EMAIL_DOMAINS = [
    "qq.com",
    "163.com",
    "126.com",
    "gmail.com",
    "outlook.com",
    "sina.com",
    "foxmail.com",
    "hotmail.com",
    "company.com.cn",
    "139.com",
    "aliyun.com",
    "yeah.net",
]
PINYIN = [
    "zhang",
    "wang",
    "li",
    "liu",
    "chen",
    "yang",
    "xiaoming",
    "lily",
    "tom",
    "jack",
    "huang",
    "zhou",
    "wu",
    "xu",
    "sun",
    "ma",
    "zhu",
    "hu",
    "guo",
    "lin",
    "he",
    "gao",
    "luo",
    "coco",
    "amy",
    "kevin",
]


def id18(rng: random.Random) -> str:
    body = (
        rng.choice(_PROVINCE_CODES)
        + f"{rng.randint(1, 99):02d}{rng.randint(1, 99):02d}"
        + f"{rng.randint(1950, 2012)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}"
        + f"{rng.randint(0, 999):03d}"
    )
    total = sum(int(d) * pow(2, 17 - k, 11) for k, d in enumerate(body))
    check = (12 - total % 11) % 11
    return body + ("X" if check == 10 else str(check))


def id15(rng: random.Random) -> str:
    return (
        rng.choice(_PROVINCE_CODES)
        + f"{rng.randint(1, 99):02d}{rng.randint(1, 99):02d}"
        + f"{rng.randint(40, 99)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}{rng.randint(0, 999):03d}"
    )


def luhn_complete(prefix: str) -> str:
    for check in "0123456789":
        digits = [int(c) for c in prefix + check][::-1]
        total = sum(digits[0::2]) + sum(sum(divmod(2 * d, 10)) for d in digits[1::2])
        if total % 10 == 0:
            return prefix + check
    raise AssertionError


def luhn_valid(number: str) -> bool:
    return luhn_complete(number[:-1]) == number


def card(rng: random.Random) -> str:
    prefix = rng.choice(
        [
            "622202",
            "622848",
            "621700",
            "622588",
            "620522",
            "436742",
            "456351",
            "524090",
            "622609",
            "625965",
            "621483",
            "403391",
        ]
    )
    length = rng.choice([16, 16, 19, 19, 17, 18])
    return luhn_complete(prefix + "".join(rng.choice("0123456789") for _ in range(length - 7)))


def digits(rng: random.Random, n: int, first: str = "0123456789") -> str:
    return rng.choice(first) + "".join(rng.choice("0123456789") for _ in range(n - 1))


def group(number: str, sizes: list[int], sep: str) -> str:
    out, i = [], 0
    for size in sizes:
        out.append(number[i : i + size])
        i += size
    if i < len(number):
        out.append(number[i:])
    return sep.join(p for p in out if p)


def zero_width(rng: random.Random, s: str) -> str:
    i = rng.randint(1, len(s) - 1)
    return s[:i] + rng.choice(["\u200b", "\u200c", "\u2060", "\ufeff"]) + s[i:]


# ------------------------------------------------------------------------------ written forms
def phone_form(rng: random.Random) -> str:
    n = rng.choice(_MOBILE_PREFIXES) + digits(rng, 8)
    form = rng.randrange(12)
    if form == 0:
        return group(n, [3, 4, 4], " ")
    if form == 1:
        return group(n, [3, 4, 4], "-")
    if form == 2:
        return "+86 " + group(n, [3, 4, 4], " ")
    if form == 3:
        return "+86-" + n
    if form == 4:
        return "0086" + n
    if form == 5:
        return n.translate(_FULL)
    if form == 6:
        return zero_width(rng, n)
    if form == 7:
        return "(+86)" + n
    if form == 8:
        return group(n, [3, 4, 4], ".")
    if form == 9:
        return group(n, [4, 4, 3], " ")
    if form == 10:
        return n.translate(_CN_NUM)
    return n


def landline_form(rng: random.Random) -> str:
    if rng.random() < 0.15:
        service = rng.choice(["400", "800"]) + digits(rng, 7)
        return rng.choice(
            [
                group(service, [3, 3, 4], "-"),
                group(service, [3, 3, 4], " "),
                service,
                group(service, [3, 4, 3], "-"),
            ]
        )
    if rng.random() < 0.5:
        area, local = rng.choice(_AREA3), digits(rng, 8)
    else:
        area, local = rng.choice(_AREA4), digits(rng, rng.choice([7, 8]))
    form = rng.randrange(12)
    grouped_local = group(local, [4], rng.choice([" ", "-"])) if rng.random() < 0.3 else local
    if form == 0:
        text = f"{area}-{grouped_local}"
    elif form == 1:
        text = f"({area}){grouped_local}"
    elif form == 2:
        text = f"（{area}）{grouped_local}"
    elif form == 3:
        text = f"{area} {grouped_local}"
    elif form == 4:
        text = f"+86 {area[1:]} {grouped_local}"
    elif form == 5:
        text = f"+86-{area[1:]}-{grouped_local}"
    elif form == 6:
        text = f"{area}.{local}"
    elif form == 7:
        text = f"{area}，{local}"
    elif form == 8:
        text = f"{area}-{local}".translate(_FULL)
    elif form == 9:
        text = f"0086-{area[1:]}-{local}"
    elif form == 10:
        text = f"{area}{local}"
    else:
        text = f"({area[1:]}){local}" if False else f"{area}－{local}"
    if rng.random() < 0.25:
        text += rng.choice(["转", "-", " ext.", " ext ", "分机", "#", " 转 "]) + digits(
            rng, rng.randint(2, 5)
        )
    return text


def id_form(rng: random.Random) -> str:
    if rng.random() < 0.15:
        return id15(rng)
    n = id18(rng)
    form = rng.randrange(6)
    if form == 0:
        return group(n, [6, 8, 4], " ")
    if form == 1:
        return n.lower()
    if form == 2:
        return n.translate(_FULL)
    if form == 3:
        return group(n, [6, 8, 4], "-")
    return n


def card_form(rng: random.Random) -> str:
    n = card(rng)
    form = rng.randrange(5)
    if form == 0:
        return group(n, [4, 4, 4, 4], " ")
    if form == 1:
        return group(n, [4, 4, 4, 4], "-")
    if form == 2:
        return n.translate(_FULL)
    return n


def email_form(rng: random.Random) -> str:
    local = (
        rng.choice(PINYIN)
        + rng.choice(["", ".", "_", ""])
        + rng.choice([*PINYIN, ""])
        + str(rng.randint(1, 2024))
    )
    if rng.random() < 0.2:
        local = rng.choice(_MOBILE_PREFIXES) + digits(rng, 8)
    if rng.random() < 0.15:
        local = str(rng.randint(10000, 9999999999))
    text = f"{local}@{rng.choice(EMAIL_DOMAINS)}"
    form = rng.randrange(6)
    if form == 0:
        return text.upper()
    if form == 1:
        return text.replace("@", "＠")
    return text


def name_value(rng: random.Random) -> str:
    if rng.random() < 0.1:
        return rng.choice(COMPOUND) + rng.choice(GIVEN)
    given = rng.choice(GIVEN) + (rng.choice(GIVEN) if rng.random() < 0.6 else "")
    if rng.random() < 0.1:
        given = rng.choice(["先生", "女士", "小姐"])
    return rng.choice(SURNAMES) + given


def address_value(rng: random.Random) -> str:
    province, city, districts = rng.choice(PROVINCES)
    parts = [
        province if rng.random() < 0.7 else "",
        city,
        rng.choice(districts),
        rng.choice(ROADS),
        f"{rng.randint(1, 999)}号",
    ]
    tail = rng.randrange(4)
    if tail == 0:
        parts.append(
            f"{rng.choice(ESTATES)}{rng.randint(1, 30)}栋{rng.randint(1, 6)}单元{rng.randint(101, 2505)}室"
        )
    elif tail == 1:
        parts.append(f"{rng.choice(ESTATES)}{rng.choice('ABCD')}座{rng.randint(101, 3001)}")
    elif tail == 2:
        parts.append(f"{rng.randint(1, 20)}号楼{rng.randint(101, 1802)}")
    return "".join(parts)


def plate_value(rng: random.Random) -> str:
    head = rng.choice(PLATE_PROVINCES) + rng.choice(PLATE_LETTERS)
    if rng.random() < 0.3:
        body = rng.choice("DF") + digits(rng, 5) if rng.random() < 0.5 else digits(rng, 5) + rng.choice("DF")
    else:
        body = "".join(rng.choice(PLATE_LETTERS + "0123456789") for _ in range(4)) + digits(rng, 1)
    return head + rng.choice(["", "", "·", " "]) + body


def number_value(rng: random.Random) -> tuple[str, str]:
    """A cue and a number only the cue gives away: local landlines, QQ, odd card and ID numbers."""
    choice = rng.randrange(6)
    if choice == 0:
        return rng.choice(["电话", "座机", "联系电话", "办公电话", "家里电话"]), digits(
            rng, rng.choice([7, 8]), "2345678"
        )
    if choice == 1:
        return rng.choice(["QQ", "qq号", "QQ号码", "扣扣QQ"]), digits(rng, rng.randint(6, 11), "123456789")
    if choice == 2:
        n = digits(rng, rng.choice([16, 19]), "6")
        n = n if not luhn_valid(n) else n[:-1] + str((int(n[-1]) + 1) % 10)
        return rng.choice(["卡号", "银行卡号", "银行卡"]), group(
            n, [4, 4, 4, 4], " "
        ) if rng.random() < 0.5 else n
    if choice == 3:
        n = id18(rng)
        bad = n[:17] + ("0" if n[17] != "0" else "1")
        return rng.choice(["身份证", "身份证号", "证件号"]), bad
    if choice == 4:
        return rng.choice(["微信", "微信号", "vx", "wx"]), rng.choice(_MOBILE_PREFIXES)[:2] + digits(rng, 7)
    return rng.choice(["联系方式", "手机号码", "电话号码"]), digits(rng, rng.choice([7, 8, 9]), "2345678")


def account_value(rng: random.Random) -> tuple[str, str]:
    cue = rng.choice(["微信", "微信号", "vx", "VX", "wx", "支付宝账号", "账号", "QQ"])
    value = (
        rng.choice(PINYIN)
        + rng.choice(["_", "", "-"])
        + rng.choice([*PINYIN, ""])
        + str(rng.randint(10, 99999))
    )
    if rng.random() < 0.2:
        value = "wxid_" + "".join(rng.choice("abcdefghijkmnpqrstuvwxyz0123456789") for _ in range(10))
    return cue, value


# ------------------------------------------------------------------------------- templates
NOISE = ["", "", "", "😭", "🙏", "～", "!!", "，谢谢", "，急！", " 麻烦快点", "，在吗"]
ORDER_SUFFIX = ["", "", "", "，订单号{order}", "，单号 {order}", "（订单{order}）"]

TEMPLATES: dict[str, list[str]] = {
    "phone": [
        "我的手机号是{v}，麻烦尽快联系我",
        "电话{v}",
        "手机：{v}",
        "有问题打我电话 {v}",
        "{v} 这个号码能收到短信吗",
        "联系方式 {v} 收件人本人",
        "快递员可以打{v}",
        "换个号码{v}，之前那个停机了",
        "我手机号{v}改一下",
        "打这个{v}找我",
        "留个电话{v}吧",
        "收货电话改成{v}",
        "我的号{v}一直收不到验证码",
        "到了给我打{v}",
        "{v}",
        "手机号码为:{v}",
        "请回电 {v} 谢谢",
        "这是我老公的手机{v}",
        "call me {v}",
        "备用号码 {v}",
    ],
    "landline": [
        "座机号码{v}",
        "公司电话{v}，白天有人",
        "打{v}找前台",
        "我们的电话是{v}",
        "座机：{v} 转总机也行",
        "家里座机{v}",
        "请拨打{v}",
        "办公室{v}工作日可以打",
        "客服电话{v}打不通",
        "联系电话 {v}",
        "{v} 这个是我们仓库的电话",
        "传真{v}",
        "电话打{v}",
        "前台电话（{v}）",
        "tel: {v}",
        "有事打{v}",
        "固话 {v}",
        "单位电话{v}收件",
        "号码{v}",
        "你打{v}问问",
    ],
    "id_card": [
        "身份证号码：{v}，请帮我改一下实名",
        "身份证{v}",
        "实名认证用的{v}",
        "报关要用 {v}",
        "证件号 {v}",
        "我的身份证是{v}",
        "清关需要身份证{v}对吗",
        "{v} 这是我的身份证号",
        "身份证号码{v}姓名对不上",
        "海淘要身份证，{v}",
        "实名信息{v}",
        "证件号码为{v}，已上传照片",
        "帮我核对一下 {v}",
        "身份证 {v} 谢谢",
        "{v}",
        "老身份证 {v} 能用吗",
    ],
    "bank_card": [
        "退款退到这张卡{v}吧",
        "银行卡号{v}",
        "卡号：{v}",
        "打到{v}",
        "我的银行卡 {v}",
        "退到我卡上 {v}",
        "{v} 这是我的储蓄卡",
        "信用卡{v}扣了两次款",
        "转账到{v}",
        "收款账户{v}",
        "建行卡{v}",
        "工商银行 {v}",
        "用{v}这张卡付的",
        "账号{v}，户名本人",
        "{v}",
        "退款到 {v} 就行",
    ],
    "email": [
        "发票发到 {v} 谢谢",
        "邮箱{v}",
        "我的邮箱是{v}",
        "电子发票请发送至{v}",
        "{v} 这个邮箱收不到",
        "email: {v}",
        "请把合同发到{v}",
        "联系邮箱 {v}",
        "发我邮箱{v}吧",
        "{v}",
        "邮件地址{v}",
        "把截图发{v}",
        "账号绑定的是{v}",
        "换成这个邮箱：{v}",
    ],
    "name": [
        "收件人{v}，电话待会发你",
        "收件人：{v}",
        "收货人是{v}",
        "姓名{v}",
        "联系人{v}",
        "我叫{v}",
        "收件人写的{v}",
        "收件人改成{v}",
        "名字：{v}",
        "持卡人{v}",
        "寄件人{v}",
        "收件人 {v} 地址不变",
        "签收人{v}",
        "姓名：{v}，手机号稍后给",
        "收货人{v}。",
        "联系人是{v}，找他就行",
        "收件人{v}电话不变",
        "户名{v}",
        "实名是{v}",
    ],
    "address": [
        "地址：{v}",
        "收货地址{v}",
        "寄到{v}",
        "送到{v}，谢谢",
        "我住在{v}",
        "地址改成{v}",
        "新地址是{v}",
        "麻烦发到{v}",
        "收件地址：{v}",
        "详细地址{v}",
        "{v}",
        "我家在{v}",
        "改寄到{v}可以吗",
        "送到{v}要几天",
        "地址是{v}，电话不变",
        "收货地址改为{v}。",
        "邮寄地址 {v}",
        "寄往{v}",
    ],
    "plate": [
        "车牌{v}",
        "我的车是{v}",
        "{v}停在门口",
        "车牌号：{v}",
        "自提的车牌号{v}",
        "送货到车上，{v}",
        "停车场登记{v}",
        "车牌号码为{v}",
        "{v} 这辆车",
        "车号{v}可以进小区吗",
    ],
    "number": [
        "{cue}{v}",
        "{cue}：{v}",
        "我的{cue}是{v}",
        "{cue} {v} 有事联系",
        "请加{cue}{v}",
        "{cue}号码为 {v}",
        "留一下{cue}：{v}",
        "{cue}{v}，随时找我",
        "{v} 是我的{cue}",
    ],
    "account": [
        "{cue}{v}",
        "加我{cue}：{v}",
        "{cue}是{v}",
        "我的{cue} {v}",
        "{cue}：{v} 方便沟通",
        "{cue} {v}，加一下",
    ],
}

_MAKERS: dict[str, Callable[[random.Random], str]] = {
    "phone": phone_form,
    "landline": landline_form,
    "id_card": id_form,
    "bank_card": card_form,
    "email": email_form,
    "name": name_value,
    "address": address_value,
    "plate": plate_value,
}


def _order_id(rng: random.Random) -> str:
    form = rng.randrange(6)
    if form == 0:
        return digits(rng, rng.choice([18, 19]), "1234")
    if form == 1:
        return f"{rng.randint(23, 25)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}-{digits(rng, 15)}"
    if form == 2:
        return "JD" + digits(rng, 13)
    if form == 3:
        return rng.choice(["SF", "YT", "ZTO", "JT"]) + digits(rng, 13)
    if form == 4:
        return digits(rng, rng.choice([12, 14, 16]), "1234")
    return "SO-" + f"{rng.randint(2023, 2025)}-" + digits(rng, 5)


def pii_rows(kind: str, n: int = 400, seed: int = 20241111) -> list[Row]:
    """``n`` messages holding one datum of ``kind`` (plus, in some, an order number that must stay)."""
    rng = random.Random(f"{seed}-{kind}")
    rows: list[Row] = []
    for _ in range(n):
        template = rng.choice(TEMPLATES[kind])
        if kind in ("number", "account"):
            cue, value = number_value(rng) if kind == "number" else account_value(rng)
            text = template.format(cue=cue, v=value)
        else:
            value = _MAKERS[kind](rng)
            text = template.format(v=value)
        order = ""
        suffix = rng.choice(ORDER_SUFFIX)
        if suffix and kind not in ("address", "name"):
            order = _order_id(rng)
            text += suffix.format(order=order)
        text += rng.choice(NOISE)
        rows.append(Row(kind, text, (value,), (order,) if order else ()))
    return rows


CLEAN_TEMPLATES = [
    "订单号{order}什么时候发货",
    "我的订单 {order} 到哪了",
    "单号是：{order}，一直没更新",
    "{order} 这个单能改地址吗",
    "订单{order}申请了售后",
    "快递单号{order}查不到物流",
    "order no. {order} status?",
    "订单编号{order}，开票",
    "¥{price} 的那款还有吗",
    "{price}元的套餐包邮吗",
    "满{big}减{small}怎么用",
    "原价{price}现价{small}元",
    "{date}下单的，什么时候发货",
    "{date} {time} 付的款",
    "{cn_date}能到吗",
    "活动{cn_date}{time}开始吗",
    "身高{h}cm体重{w}kg穿什么码",
    "尺码{size}有货吗",
    "买了{q}件，发了{q2}件",
    "第{q}件半价吗",
    "{q}个起批吗，批发价{price}",
    "优惠券{small}元怎么领",
    "{date}之前能发货吗，订单号{order}",
    "电话里说订单号{order}已经发了",
    "手机下单的，订单{order}还没到",
    "联系了客服，单号{order}还是没动",
    "这个型号A{model}和B{model}有什么区别",
    "iPhone {iphone} Pro 的壳有吗",
    "电池容量{mah}mAh吗",
    "{year}年款还有吗",
    "每天{time}之前下单当天发吗",
    "会员积分{points}能抵多少钱",
    "运费{small}元，包裹重{w}kg",
    "卡券{small}元的能叠加吗",
    "微信支付了{price}元",
    "支付宝付了{price}元，订单号{order}",
    "发票抬头开公司，金额{price}",
    "退货运费{small}元谁出",
    "屏幕{inch}寸的有吗",
    "{date}到{date2}活动价多少",
    "直播间{time}的福利还有吗",
]


def clean_rows(n: int = 600, seed: int = 11) -> list[Row]:
    """Messages without personal data: order numbers, prices, dates, times, quantities, sizes."""
    rng = random.Random(seed)
    rows: list[Row] = []
    for _ in range(n):
        order = _order_id(rng)
        template = rng.choice(CLEAN_TEMPLATES)
        values = {
            "order": order,
            "price": rng.choice(
                [
                    str(rng.randint(9, 9999)),
                    f"{rng.randint(1, 99)}.{rng.randint(0, 99):02d}",
                    f"{rng.randint(1, 9)},{rng.randint(100, 999)}",
                ]
            ),
            "big": rng.randint(100, 999),
            "small": rng.randint(5, 99),
            "date": rng.choice(
                [
                    f"{rng.randint(2023, 2025)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
                    f"{rng.randint(2023, 2025)}/{rng.randint(1, 12)}/{rng.randint(1, 28)}",
                    f"{rng.randint(2023, 2025)}.{rng.randint(1, 12):02d}.{rng.randint(1, 28):02d}",
                ]
            ),
            "date2": f"{rng.randint(1, 12)}月{rng.randint(1, 28)}日",
            "cn_date": rng.choice(
                [
                    f"{rng.randint(1, 12)}月{rng.randint(1, 28)}号",
                    f"{rng.randint(2023, 2025)}年{rng.randint(1, 12)}月{rng.randint(1, 28)}日",
                ]
            ),
            "time": rng.choice(
                [
                    f"{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}",
                    f"{rng.randint(0, 23)}:{rng.randint(0, 59):02d}:00",
                    f"{rng.randint(1, 12)}点",
                ]
            ),
            "h": rng.randint(150, 195),
            "w": rng.randint(40, 100),
            "size": rng.choice(["XL", "36", "38/39", "M", "175/92A"]),
            "q": rng.randint(1, 20),
            "q2": rng.randint(1, 20),
            "model": rng.randint(100, 9999),
            "iphone": rng.randint(11, 16),
            "mah": rng.randint(1000, 20000),
            "year": rng.randint(2019, 2025),
            "points": rng.randint(100, 99999),
            "inch": rng.randint(13, 85),
        }
        text = template.format(**values)
        has_order = "{order}" in template
        rows.append(Row("clean", text, (), (order,) if has_order else ()))
    return rows


_CN_BACK = str.maketrans("〇一二三四五六七八九", "0123456789")


def _folded(text: str) -> str:
    import unicodedata

    text = unicodedata.normalize("NFKC", text).translate(_CN_BACK)
    return "".join(c for c in text if unicodedata.category(c) != "Cf")


def leaked(row: Row, masked: str) -> list[str]:
    """The secrets of ``row`` still readable in ``masked`` (a seven-digit stretch of a number, an
    e-mail's local part, a name, an address's street-level part, a plate)."""
    out: list[str] = []
    folded = _folded(masked)
    stream = "".join(c for c in folded if c.isdigit())
    for secret in row.secrets:
        plain = _folded(secret)
        if plain in folded or secret in masked:
            out.append(secret)
            continue
        nums = "".join(c for c in plain if c.isdigit())
        if row.kind == "email":
            local = plain.split("@")[0].lower()
            if len(local) >= 4 and local in folded.lower():
                out.append(secret)
        elif row.kind == "address":
            windows = {plain[i : i + 4] for i in range(len(plain) - 3)}
            if any(any(c.isdigit() for c in w) and w in folded for w in windows):
                out.append(secret)
        elif row.kind in ("name", "account", "plate"):
            continue
        elif len(nums) >= 7 and any(nums[i : i + 7] in stream for i in range(len(nums) - 6)):
            out.append(secret)
    return out
