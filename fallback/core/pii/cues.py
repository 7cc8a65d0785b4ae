"""The cue layer: personal data that has no shape of its own but follows a word that announces it.

* ``name``: 2-4 Chinese characters after 收件人/收货人/联系人/姓名/我叫 …; a common surname is needed
  unless an explicit separator (``：``, 是, 叫) follows the cue. 先生/女士/小姐 after a surname count.
* ``address``: after 地址/住址/住在/寄到/送到/发到 …, the clause that follows when it reads like an
  address (two administrative levels 省/市/区/县, or a street-level word 路/街/号/栋/单元/小区 … with
  a number or an administrative level); without a cue, a clause that starts with a province or
  major city and has both. The span ends after its last address word (and the number after it).
* ``number``: any run of seven or more digits (separators allowed, a final X too) within a few
  characters of 电话/手机/座机/联系/号码/卡号/账号/身份证/微信/QQ/传真 that no pattern took, and
  five or more digits after QQ. Dates, prices and quantities (¥199, 2024-11-11, 1234567件) are not.
* ``account``: a WeChat/QQ/Alipay style id of letters and digits after 微信/vx/QQ/支付宝/账号.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterator
from typing import Final

from fallback.core.pii.base import Hit

_SURNAMES_1: Final = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
    "姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
    "常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞左柳甘祝包宁尚符舒阮柯纪梅童凌毕季"
    "裴霍涂成苗谷盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻祁蒲房滕屈饶解牟艾尤阳穆卓吉缪芦麦褚娄窦"
    "戚岑景卜冷晏卫柏瞿桂佟臧闵苟邬边卞姬仇栾隋刁沙荣巫寇桑郎甄丛仲虞敖巩佘池麻"
    "苑迟邝匡鞠惠荆冀郁胥班储栗燕楚鄢劳谌奚皮粟冼蔺楼闻厉伊仝郜阚权强帅屠豆朴盖练"
    "廉禹井祖漆巴丰卿狄索宣晋云敬扈晁芮阙浦戈伏鹿薄邸雍辜羊阿乌母裘亓修邰赫杭宿"
    "鲜印逯隆茹诸战慕危玉银亢嵇哈湛宾戎勾茅於呼揭尉冶斯束檀阴昝智幸奉植衡尧闭"
)
_SURNAMES_2: Final = (
    "欧阳",
    "司马",
    "上官",
    "诸葛",
    "东方",
    "皇甫",
    "慕容",
    "令狐",
    "尉迟",
    "公孙",
    "长孙",
    "宇文",
    "司徒",
    "夏侯",
    "轩辕",
    "端木",
    "独孤",
    "南宫",
    "西门",
    "百里",
    "呼延",
    "澹台",
    "太史",
    "申屠",
    "钟离",
    "闻人",
    "赫连",
    "万俟",
    "第五",
    "濮阳",
    "淳于",
    "单于",
    "公冶",
    "拓跋",
    "完颜",
    "司空",
    "左丘",
    "东郭",
)
_HONORIFICS: Final = "先生|女士|小姐|老师|师傅|阿姨|叔叔|总|哥|姐"
# words that end a name: what customers type right after it
_NAME_STOP: Final = (
    "电话|手机|座机|联系|地址|住址|身份证|邮箱|微信|收件|收货|寄件|订单|单号|快递|的|了|吗|呢|吧|啊|呀|是|在|和|与"
    "|跟|或|还|也|都|就|要|想|说|把|给|被|让|请|帮|能|可|会|不|没|已|改|写|填|确认|签收|本人|先生|女士|小姐"
)
_NAME_CUE = re.compile(
    r"(?:收件人|收货人|寄件人|发件人|联系人|签收人|取件人|提货人|持卡人|开户人|开户名|户名|收款人|姓名|名字|真名|实名|我叫|本人叫|称呼)"
    r"(?P<sep>(?:\s*(?:[:：]|是|为|叫|改成|改为|换成|写成|写的是|写的|填的是|填的|应该是))*)\s*"
)
_NAME_BODY = re.compile(
    rf"(?:(?P<compound>{'|'.join(_SURNAMES_2)})|(?P<single>[{_SURNAMES_1}]))"
    rf"(?:(?P<honor>{_HONORIFICS})|(?P<given>(?:(?!{_NAME_STOP})[\u4e00-\u9fff]){{1,2}}))"
)
_FREE_NAME = re.compile(rf"(?:(?!{_NAME_STOP})[\u4e00-\u9fff]){{2,4}}")
# role words that read as surname + given name after a cue ("用您称呼顾客": 顾 is a surname)
_ROLE_WORDS: Final = frozenset(
    {
        "顾客", "客服", "客户", "买家", "卖家", "商家", "店家", "店主", "掌柜",
        "快递", "快递员", "骑手", "本人", "自己", "对方", "家人", "朋友", "同事",
    }
)

_ADMIN = r"(?:省|自治区|市|区|县|镇|乡|旗|州|盟|街道)"
_STREET = (
    r"(?:路|街|巷|弄|胡同|大道|号楼|号院|号|栋|幢|座|楼|层|室|单元|小区|花园|公寓|大厦|广场|村|组|社区|园区|家园"
    r"|苑|宿舍|校区|工业区|开发区|新区|大街|中心|门|期|排|屯|庄|城|园|府|湾|坊|阁|邸|墅|寓|院|大楼|塔)"
)
_PLACES: Final = (
    "北京|天津|上海|重庆|河北|山西|辽宁|吉林|黑龙江|江苏|浙江|安徽|福建|江西|山东|河南|湖北|湖南|广东|海南|四川"
    "|贵州|云南|陕西|甘肃|青海|台湾|内蒙古|广西|西藏|宁夏|新疆|香港|澳门|深圳|广州|杭州|南京|苏州|成都|武汉|西安"
    "|郑州|长沙|沈阳|大连|青岛|厦门|宁波|合肥|福州|济南|昆明|南宁|贵阳|石家庄|太原|哈尔滨|长春|南昌|无锡|东莞|佛山"
    "|温州|珠海|常州|徐州|烟台|泉州|绍兴|嘉兴|金华|台州|南通|扬州|惠州|中山|兰州|乌鲁木齐|呼和浩特|银川|西宁|拉萨|海口|三亚"
)
_ADDRESS_CUE = re.compile(
    r"(?:收货地址|收件地址|寄件地址|配送地址|邮寄地址|家庭地址|详细地址|新地址|地址|住址|家住|我家在|住在|居住在|我住|现住|寄到|送到|发到"
    r"|邮到|寄往|送往|发往|运到|改寄到|改送到|派送到)"
    r"(?:\s*(?:[:：]|是|为|改成|改为|换成|在|写的是|填的是))*\s*"
)
# an address runs over Chinese characters, letters, digits and a few signs, up to a clause break
_ADDRESS_CHARS = re.compile(r"[\u4e00-\u9fffA-Za-z0-9#()（）·-]{2,80}")
_ADDRESS_STOP = re.compile(
    r"电话|手机|座机|联系|收件人|收货人|姓名|订单|单号|邮编|谢谢|麻烦|可以|能不能|能否|行吗|多久|几天|什么时候|怎么|为什么|吗|呢|吧"
)
_LONG_DIGITS = re.compile(r"\d{7,}")
_NO_CUE_ADDRESS = re.compile(
    rf"(?:{_PLACES})(?:省|市|自治区|特别行政区)?[\u4e00-\u9fffA-Za-z0-9#()（）·-]{{3,80}}"
)

_NUMBER_CUE = (
    r"(?:电话|手机|座机|联系|号码|手机号|tel|phone|mobile|卡号|银行卡|账号|账户|身份证|证件|微信|vx|wx|v信|威信|qq"
    r"|企鹅|支付宝|传真|fax|邮箱|卡|退到|打到|转到|汇到|打款到)"
)
_RUN = r"\d(?:[ .-]?\d){6,}[Xx]?"
_GAP = r"[^\d\[\]。！？!?\n]{0,10}?"
_NUMBER_AFTER_CUE = re.compile(rf"{_NUMBER_CUE}{_GAP}(?<!\d)({_RUN})(?!\d)", re.IGNORECASE)
_NUMBER_BEFORE_CUE = re.compile(
    rf"(?<!\d)({_RUN})(?!\d)[^\d\[\]。！？!?\n]{{0,6}}?{_NUMBER_CUE}", re.IGNORECASE
)
_QQ_NUMBER = re.compile(
    r"(?:qq|企鹅)(?:号码|号)?[^\d\[\]。！？!?\n]{0,6}?(?<!\d)(\d{5,12})(?!\d)", re.IGNORECASE
)
_ACCOUNT = re.compile(
    r"(?:微信|v信|威信|支付宝|账号|账户|用户名|抖音号|淘宝号|旺旺|(?<![A-Za-z])(?:vx|wx|qq|id))(?:号码|号|id)?"
    r"(?:\s*(?:[:：]|是|为|叫))*\s*([A-Za-z][A-Za-z0-9_-]{5,19})(?![A-Za-z0-9_@.-])",
    re.IGNORECASE,
)
_ORDER_AFTER = re.compile(r"\s?(?:这个|那个|这笔|这|的)?订?单")
_DATE_LIKE = re.compile(r"(?:19|20)\d{2}[-./]\d{1,2}[-./]\d{1,2}")
_UNIT_AFTER = re.compile(
    r"\s?(?:元|块|件|个|天|年|月|日|点|时|分|秒|%|折|cm|mm|kg|g|ml|寸|码|米|斤|克|次|倍|岁|人|台)", re.I
)


def cue_hits(text: str, kinds: Collection[str]) -> Iterator[Hit]:
    """Every reading of the cued kinds in ``text``."""
    if "name" in kinds:
        yield from _names(text)
    if "address" in kinds:
        yield from _addresses(text)
    if "number" in kinds:
        yield from _numbers(text)
    if "account" in kinds:
        for m in _ACCOUNT.finditer(text):
            yield Hit(*m.span(1), "account")


def _names(text: str) -> Iterator[Hit]:
    for cue in _NAME_CUE.finditer(text):
        start = cue.end()
        m = _NAME_BODY.match(text, start)
        if m is None and cue.group("sep").strip():
            m = _FREE_NAME.match(text, start)
        if m is not None and m.group(0) not in _ROLE_WORDS:
            yield Hit(m.start(), m.end(), "name")


def _address_end(span: str) -> int:
    """How much of ``span`` is the address: up to its last address word and the number after it."""
    stop = _ADDRESS_STOP.search(span)
    if stop is not None:
        span = span[: stop.start()]
    digits = _LONG_DIGITS.search(span)
    if digits is not None:
        span = span[: digits.start()]
    end = 0
    for m in re.finditer(rf"{_ADMIN}|{_STREET}", span):
        end = m.end()
    tail = re.match(r"[A-Za-z0-9#-]*", span[end:])
    return end + (tail.end() if tail else 0) if end else 0


def _looks_like_address(span: str, *, cued: bool) -> bool:
    admin = len(re.findall(_ADMIN, span))
    street = re.search(_STREET, span) is not None
    number = re.search(r"\d", span) is not None
    if cued:
        return admin >= 2 or (street and (number or admin >= 1))
    return admin >= 1 and street and number


def _addresses(text: str) -> Iterator[Hit]:
    taken: list[tuple[int, int]] = []
    for cue in _ADDRESS_CUE.finditer(text):
        m = _ADDRESS_CHARS.match(text, cue.end())
        if m is None:
            continue
        end = _address_end(m.group(0))
        if end >= 3 and _looks_like_address(m.group(0)[:end], cued=True):
            taken.append((m.start(), m.start() + end))
            yield Hit(m.start(), m.start() + end, "address")
    for m in _NO_CUE_ADDRESS.finditer(text):
        if any(s <= m.start() < e for s, e in taken):
            continue
        end = _address_end(m.group(0))
        if end >= 6 and _looks_like_address(m.group(0)[:end], cued=False):
            yield Hit(m.start(), m.start() + end, "address")


def _is_quantity(text: str, start: int, end: int) -> bool:
    """A date, a price or an amount with a unit, not a contact number."""
    run = text[start:end]
    if _DATE_LIKE.fullmatch(run) or _DATE_LIKE.match(run):
        return True
    if start > 0 and text[start - 1] in "¥$￥":
        return True
    return _UNIT_AFTER.match(text, end) is not None


def _numbers(text: str) -> Iterator[Hit]:
    for pattern in (_NUMBER_AFTER_CUE, _NUMBER_BEFORE_CUE, _QQ_NUMBER):
        for m in pattern.finditer(text):
            start, end = m.span(1)
            # "手机下单的，2411…这个单": an order word between the cue and the run, or right after the
            # run, makes it the order's number
            between = text[m.start() : start] if m.start() < start else text[end : m.end()]
            if "单" in between or _ORDER_AFTER.match(text, end) or _is_quantity(text, start, end):
                continue
            yield Hit(start, end, "number")
