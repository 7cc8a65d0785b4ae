"""Demo answers seeded into an empty embedded database so a first ``curl`` gets a real answer."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from fallback.store import answers as answers_repo
from fallback.store.db import Database
from fallback.store.schema import Meta

DEMO: list[tuple[str, str, list[str], bool]] = [
    (
        "怎么开发票",
        "您好，订单确认收货后，可在“我的订单-订单详情-申请开票”中填写抬头和税号，电子发票1-3个工作日内发送到您的邮箱。",
        ["可以开发票吗", "发票怎么申请", "我要开增值税发票", "能开公司抬头的发票吗"],
        True,
    ),
    (
        "什么时候发货",
        "您好，现货商品在付款后48小时内发货，预售商品以商品页标注的发货时间为准。",
        ["多久能发货", "下单后几天发货", "今天下单什么时候发", "怎么还不发货"],
        True,
    ),
    (
        "运费怎么算",
        "您好，单笔订单满99元包邮（偏远地区除外），未满99元收取运费8元。",
        ["包邮吗", "邮费多少钱", "满多少包邮", "运费谁出"],
        True,
    ),
    (
        "可以修改收货地址吗",
        "您好，订单发货前可以在“订单详情-修改地址”中自行修改；已发货的订单请联系快递员改派。",
        ["地址填错了怎么办", "怎么改收货地址", "能换个地址吗"],
        True,
    ),
    (
        "支持哪些支付方式",
        "您好，我们支持微信支付、支付宝、银联云闪付和花呗分期。",
        ["可以用花呗吗", "能用信用卡付款吗", "怎么付款"],
        True,
    ),
    (
        "会员积分怎么用",
        "您好，每100积分可抵扣1元，下单时在结算页勾选“使用积分”即可，积分有效期为获得后12个月。",
        ["积分有什么用", "积分可以抵现吗", "积分怎么兑换"],
        True,
    ),
    (
        "退货流程是什么",
        "您好，签收后7天内商品完好可申请无理由退货：在“我的订单”中点击“申请售后”，选择退货并填写快递单号即可。退款会在我们收到退货后原路退回。",
        ["怎么退货", "我想退货", "七天无理由怎么退"],
        False,
    ),
    (
        "营业时间是几点",
        "您好，在线客服服务时间为每天9:00-22:00，其余时间可以留言，我们上班后第一时间回复。",
        ["客服几点上班", "人工客服什么时候在", "晚上有人吗"],
        True,
    ),
    (
        "衣服尺码怎么选",
        "您好，建议参考商品详情页的尺码表，按胸围和衣长选择；如在两个尺码之间，偏瘦选小一码，偏壮选大一码。",
        ["尺码怎么选", "我170斤穿什么码", "码数偏大还是偏小"],
        True,
    ),
    (
        "优惠券怎么用",
        "您好，领取的优惠券会在结算页自动抵扣，满足使用门槛即可使用；每笔订单限用一张店铺券。",
        ["优惠券用不了", "怎么领优惠券", "券怎么使用"],
        True,
    ),
]


def seed(s: Session) -> int:
    """Insert the demo answers when the answers table is empty; return how many were added.

    Several worker processes start at once: the ``meta`` row ``demo_seeded`` (a primary key) lets only
    one of them seed; the others get an ``IntegrityError``, which ``seed_once`` treats as done.
    """
    if answers_repo.count_active(s) > 0 or s.get(Meta, "demo_seeded") is not None:
        return 0
    s.add(Meta(key="demo_seeded", value="1"))
    s.flush()
    for question, text, keys, safe in DEMO:
        answers_repo.create(
            s, question=question, text=text, keys=keys, actor="demo-seed", safe_to_autosend=safe
        )
    return len(DEMO)


def seed_once(db: Database) -> int:
    """``seed`` in its own transaction; 0 when another process seeded concurrently."""
    try:
        return db.run(seed)
    except IntegrityError:
        return 0
