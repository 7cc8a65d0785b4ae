"""A small Chinese (and English) lexicon mapping customer-service words to ``domain.action`` names."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class LexiconEntry:
    """One intent family: its ``domain.action`` name, the words that signal it, a Chinese gloss."""

    name: str
    triggers: tuple[str, ...]
    gloss: str


LEXICON: tuple[LexiconEntry, ...] = (
    LexiconEntry("order.refund", ("退款", "退钱", "返款", "退费", "refund"), "退款"),
    LexiconEntry("order.return", ("退货", "退回", "寄回", "退换", "return"), "退货"),
    LexiconEntry("order.exchange", ("换货", "调换", "换一个", "exchange"), "换货"),
    LexiconEntry("order.cancel", ("取消", "撤销", "不要了", "cancel"), "取消订单"),
    LexiconEntry("order.modify_address", ("地址", "收货人", "address"), "修改收货地址"),
    LexiconEntry("order.invoice", ("发票", "开票", "invoice"), "开具发票"),
    LexiconEntry("payment.issue", ("付款", "支付", "扣款", "扣钱", "付不了", "payment", "pay"), "支付问题"),
    LexiconEntry("logistics.dispatch", ("发货", "发出", "几天发", "dispatch", "ship"), "发货时间"),
    LexiconEntry(
        "logistics.inquiry",
        ("快递", "物流", "单号", "派送", "配送", "签收", "到货", "到哪", "delivery", "track"),
        "物流查询",
    ),
    LexiconEntry("logistics.shipping_fee", ("运费", "包邮", "邮费", "shipping"), "运费"),
    LexiconEntry("promotion.coupon", ("优惠券", "券", "红包", "coupon", "voucher"), "优惠券"),
    LexiconEntry(
        "promotion.discount", ("优惠", "折扣", "满减", "打折", "活动", "保价", "discount"), "优惠活动"
    ),
    LexiconEntry("product.size", ("尺码", "码数", "尺寸", "大小", "码", "偏大", "偏小", "size"), "尺码咨询"),
    LexiconEntry("product.color", ("颜色", "色差", "color", "colour"), "颜色"),
    LexiconEntry("product.stock", ("库存", "有货", "缺货", "补货", "现货", "stock"), "库存"),
    LexiconEntry("product.price", ("价格", "多少钱", "价钱", "贵", "price"), "价格"),
    LexiconEntry("product.quality", ("质量", "正品", "假货", "破损", "坏了", "quality"), "商品质量"),
    LexiconEntry("after_sales.warranty", ("保修", "维修", "售后", "质保", "warranty", "repair"), "售后保修"),
    LexiconEntry("account.login", ("登录", "登陆", "密码", "账号", "注册", "login", "password"), "账号登录"),
    LexiconEntry("account.membership", ("会员", "积分", "等级", "membership", "points"), "会员积分"),
    LexiconEntry("service.human_agent", ("人工", "真人", "转接", "human", "agent"), "转人工"),
    LexiconEntry("service.complaint", ("投诉", "举报", "差评", "complain", "complaint"), "投诉"),
)


@dataclass(frozen=True)
class Aspect:
    """What about an intent family the customers ask: a finer action than the family's own name.

    ``slug`` extends or replaces the action of a ``domain.action`` name (``logistics.delay`` instead of
    the generic ``logistics.inquiry``); ``gloss`` ends the Chinese display name (退款 + 进度查询).
    """

    slug: str
    triggers: tuple[str, ...]
    gloss: str


#: Question cues, most specific first. A cue counts when it appears in enough of a cluster's texts.
ASPECTS: tuple[Aspect, ...] = (
    Aspect("complaint", ("投诉", "举报", "差评", "complain"), "投诉"),
    Aspect("compensation", ("赔偿", "赔付", "理赔", "compensat"), "赔偿"),
    Aspect("courier", ("快递员", "快递小哥", "派件员", "配送员", "骑手", "courier"), "快递员问题"),
    Aspect("lost", ("丢件", "丢了", "丢失", "弄丢", "lost"), "丢失处理"),
    Aspect("delay", ("催", "太慢", "好慢", "延迟", "不动", "不更新", "delay"), "延误催促"),
    Aspect("failure", ("失败", "不了", "用不了", "报错", "异常", "fail", "error"), "异常处理"),
    Aspect(
        "progress",
        ("进度", "多久", "几天", "什么时候", "何时", "还没到", "没到账", "到账", "到哪", "when", "how long"),
        "进度查询",
    ),
    Aspect("fee", ("多少钱", "费用", "收费", "手续费", "fee", "cost"), "费用咨询"),
    Aspect("route", ("怎么走", "怎么去", "路线", "怎么到", "how to get"), "路线查询"),
    Aspect("how_to", ("怎么", "如何", "怎样", "流程", "步骤", "操作", "how"), "操作方法"),
    Aspect("where", ("在哪", "哪里", "哪儿", "位置", "where"), "位置查询"),
)

#: Lexicon names too broad to stand alone when the members say more (``logistics.inquiry``).
GENERIC_ACTIONS = ("inquiry",)
#: The action a cue gives a generic family, where the cue's own slug reads oddly there.
ASPECT_ACTIONS = {("logistics", "progress"): "tracking"}


def single_char_triggers(lexicon: Iterable[LexiconEntry] = LEXICON) -> frozenset[str]:
    """Triggers of one CJK character (码, 券, 贵) that a tokenizer must not drop."""
    return frozenset(t for e in lexicon for t in e.triggers if len(t) == 1)


def _hits(trigger: str, token: str) -> bool:
    # English triggers match word starts only ("ship" -> "shipping", not "relationship"); a one-character
    # Chinese trigger only the token itself (码 is a size, 号码 is not)
    if trigger.isascii():
        return token.startswith(trigger)
    return trigger == token if len(trigger) == 1 else trigger in token


#: Only a cluster's first keywords choose its lexicon family (the tail is too noisy).
MATCH_KEYWORDS = 5


def match_entry(
    keywords: Sequence[tuple[str, float]], lexicon: Sequence[LexiconEntry] = LEXICON
) -> LexiconEntry | None:
    """The entry whose triggers carry the most keyword weight (``None`` when no trigger appears).

    A Chinese trigger matches a keyword that contains it (``退款`` matches ``退款单``), an English one a
    keyword that starts with it, a one-character one (码) only that token; only the first
    ``MATCH_KEYWORDS`` keywords count; ties go to the entry
    listed first, which puts the more specific families (refund, return) before the broad ones.
    """
    best: LexiconEntry | None = None
    best_score = 0.0
    keywords = keywords[:MATCH_KEYWORDS]
    for entry in lexicon:
        score = sum(w for token, w in keywords if any(_hits(t, token) for t in entry.triggers))
        if score > best_score:
            best, best_score = entry, score
    return best


#: Cues that end a question ask "how is it" (天气如何, 质量怎样), not "how do I".
_HOW_IS = ("如何", "怎样", "怎么样")
_TRAILING = re.compile(r"[\s?？!！。.,，~～呢啊呀吗]+$")
_HOW_IS_END = re.compile("(?:" + "|".join(_HOW_IS) + ")$")
_NOT_HOW_TO = re.compile("怎么(?:走|去|到|样)")


def _says(cue: str, text: str) -> bool:
    # English cues match whole words ("how" not in "show"); Chinese ones anywhere but at the end of
    # the text for 如何/怎样 (天气如何 asks for the weather, not for a procedure)
    if cue.isascii():
        return re.search(rf"\b{re.escape(cue)}", text) is not None
    if cue in _HOW_IS or cue == "怎么":
        text = _HOW_IS_END.sub("", _TRAILING.sub("", text))
        if cue == "怎么":  # 怎么走 asks for a route, 怎么样 how something is: other cues
            text = _NOT_HOW_TO.sub("", text)
    return cue in text


def aspect_shares(texts: Sequence[str], aspects: Sequence[Aspect] = ASPECTS) -> list[tuple[Aspect, float]]:
    """Each aspect with the share of ``texts`` that contain one of its cues, most frequent first.

    Ties keep the order of ``aspects`` (the more specific cues are listed first).
    """
    if not texts:
        return []
    lowered = [t.lower() for t in texts]
    shares = []
    for aspect in aspects:
        hits = sum(1 for t in lowered if any(_says(cue, t) for cue in aspect.triggers))
        if hits:
            shares.append((aspect, hits / len(lowered)))
    order = {a.slug: i for i, a in enumerate(aspects)}
    shares.sort(key=lambda item: (-item[1], order[item[0].slug]))
    return shares
