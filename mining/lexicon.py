"""A small Chinese (and English) lexicon mapping customer-service words to ``domain.action`` names."""

from __future__ import annotations

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


def single_char_triggers(lexicon: Iterable[LexiconEntry] = LEXICON) -> frozenset[str]:
    """Triggers of one CJK character (码, 券, 贵) that a tokenizer must not drop."""
    return frozenset(t for e in lexicon for t in e.triggers if len(t) == 1)


def _hits(trigger: str, token: str) -> bool:
    # English triggers match word starts only ("ship" -> "shipping", not "relationship")
    return token.startswith(trigger) if trigger.isascii() else trigger in token


def match_entry(
    keywords: Sequence[tuple[str, float]], lexicon: Sequence[LexiconEntry] = LEXICON
) -> LexiconEntry | None:
    """The entry whose triggers carry the most keyword weight (``None`` when no trigger appears).

    A Chinese trigger matches a keyword that contains it (``退款`` matches ``退款单``), an English one a
    keyword that starts with it; ties go to the entry
    listed first, which puts the more specific families (refund, return) before the broad ones.
    """
    best: LexiconEntry | None = None
    best_score = 0.0
    for entry in lexicon:
        score = sum(w for token, w in keywords if any(_hits(t, token) for t in entry.triggers))
        if score > best_score:
            best, best_score = entry, score
    return best
