"""Tokens, c-TF-IDF keywords and the keyword / LLM namers."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from mining.domain import IntentName
from mining.keywords import JiebaTokenizer, class_tfidf
from mining.lexicon import single_char_triggers
from mining.naming import KeywordNamer, LlmNamer, is_valid_name, make_unique, parse_name
from mining.ports import ClusterView
from models.errors import GenerationFailed
from models.ports import ChatMessage, Generation
from tests.mining.shop_queries import COUPON, LOGISTICS, REFUND, SIZE

TOKENIZER = JiebaTokenizer(keep=single_char_triggers())


def test_tokenizer_drops_stopwords_placeholders_and_digits() -> None:
    tokens = TOKENIZER("请问我的订单<ORDER_ID>的退款什么时候到账？123")
    assert "退款" in tokens and "到账" in tokens
    assert not {"请问", "我", "的", "什么", "<ORDER_ID>", "123", "？"} & set(tokens)


def test_class_tfidf_ranks_the_distinctive_words_first() -> None:
    docs = {0: [(t, 1) for t in REFUND], 1: [(t, 1) for t in LOGISTICS], 2: [(t, 1) for t in COUPON]}
    keywords = class_tfidf(docs, TOKENIZER, top_n=3)
    assert keywords[0][0][0] == "退款"
    assert keywords[1][0][0] in {"快递", "物流"}
    assert keywords[2][0][0] == "优惠券"


@pytest.mark.parametrize(
    ("texts", "expected"),
    [
        (REFUND, "order.refund"),
        (LOGISTICS, "logistics.tracking"),  # the generic logistics.inquiry, made specific by 到哪/还没到
        (COUPON, "promotion.coupon"),
        (SIZE, "product.size"),
    ],
)
def test_keyword_namer_maps_chinese_keywords_to_domain_action(texts: list[str], expected: str) -> None:
    docs = {
        0: [(t, 1) for t in REFUND + LOGISTICS + COUPON + SIZE if t not in texts],
        1: [(t, 1) for t in texts],
    }
    keywords = [k for k, _ in class_tfidf(docs, TOKENIZER)[1]]
    named = KeywordNamer().name_clusters([ClusterView(1, keywords, texts[:5])])[0]
    assert named.name == expected
    assert named.source == "lexicon"
    assert keywords[0] in named.description


def test_keyword_namer_falls_back_to_a_topic_slug_with_keywords() -> None:
    named = KeywordNamer().name_one(ClusterView(7, ["天气", "下雨", "温度"], ["明天会下雨吗"]))
    assert named.name == "topic.t7"
    assert is_valid_name(named.name)
    assert "天气" in named.description and "下雨" in named.description


def test_names_are_made_unique_in_order() -> None:
    named = KeywordNamer().name_clusters(
        [ClusterView(0, ["退款"], []), ClusterView(1, ["退款", "到账"], []), ClusterView(2, ["退款"], [])]
    )
    assert [n.name for n in make_unique(named)] == ["order.refund", "order.refund_2", "order.refund_3"]


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ('{"name": "order.refund_status", "description": "查询退款进度"}', "order.refund_status"),
        ('好的：\n{"name": "Logistics.Inquiry", "description": "物流查询"}', "logistics.inquiry"),
        ('{"name": "退款", "description": "x"}', None),
        ('{"name": "order.refund", "description": ""}', None),
        ("order.refund", None),
    ],
)
def test_parse_name_validates_the_llm_answer(text: str, name: str | None) -> None:
    parsed = parse_name(text)
    assert (parsed.name if parsed else None) == name


class ScriptedGenerator:
    """A Generator that replies from a script (the real LLM cannot run here)."""

    def __init__(self, replies: Sequence[str | Exception]) -> None:
        self.replies = list(replies)
        self.prompts: list[Sequence[ChatMessage]] = []

    @property
    def name(self) -> str:
        return "scripted"

    def generate(
        self, messages: Sequence[ChatMessage], *, max_new_tokens: int = 256, temperature: float = 0.0
    ) -> Generation:
        self.prompts.append(messages)
        reply = self.replies.pop(0)
        if isinstance(reply, Exception):
            raise reply
        return Generation(text=reply, model="scripted")


def test_llm_namer_uses_valid_answers_and_falls_back_otherwise() -> None:
    generator = ScriptedGenerator(
        [
            '{"name": "order.refund_progress", "description": "用户询问退款到账进度"}',
            "I think this is about coupons",
            GenerationFailed("timeout"),
        ]
    )
    clusters = [
        ClusterView(0, ["退款", "到账"], REFUND[:3]),
        ClusterView(1, ["优惠券"], COUPON[:3]),
        ClusterView(2, ["快递"], LOGISTICS[:3]),
    ]
    names = LlmNamer(generator).name_clusters(clusters)
    assert [(n.name, n.source) for n in names] == [
        ("order.refund_progress", "llm"),
        ("promotion.coupon", "lexicon"),
        ("logistics.tracking", "lexicon"),
    ]
    assert names[0].display_name  # the LLM gave none: the keyword namer's display name stands in
    assert names[1].display_name.startswith("优惠券")
    assert REFUND[0] in generator.prompts[0][1].content


def named_clusters(groups: list[list[str]]) -> list[IntentName]:
    docs = {i: [(t, 1) for t in texts] for i, texts in enumerate(groups)}
    keywords = class_tfidf(docs, TOKENIZER)
    views = [ClusterView(i, [k for k, _ in keywords[i]], texts[:20], texts) for i, texts in enumerate(groups)]
    return make_unique(KeywordNamer(tokenizer=TOKENIZER).name_clusters(views))


def test_display_names_join_the_key_phrase_and_the_members_question() -> None:
    refund, logistics, coupon, size = named_clusters([REFUND, LOGISTICS, COUPON, SIZE])
    assert refund.display_name == "退款进度查询"  # 退款 + 多久 / 什么时候 / 到账 -> 进度查询
    assert logistics.name == "logistics.tracking" and "快递" in logistics.display_name
    assert coupon.display_name.startswith("优惠券") and size.display_name.startswith("尺码")
    assert len({n.display_name for n in (refund, logistics, coupon, size)}) == 4


def test_a_generic_family_takes_what_the_members_say() -> None:
    delays = ["快递太慢了", "能不能催一下快递", "物流一直不动", "快递好慢啊", "催一下物流", "物流太慢了吧"]
    (named,) = named_clusters([delays])
    assert named.name == "logistics.delay"  # not the generic logistics.inquiry
    assert "延误" in named.display_name


def test_clusters_of_one_family_are_told_apart_by_their_cue_before_a_number() -> None:
    progress = [t for t in REFUND if any(c in t for c in ("多久", "什么时候", "到账", "几天"))]
    how = ["怎么申请退款", "退款怎么操作", "如何申请退款", "仅退款怎么操作", "退款流程是什么", "退款步骤"]
    first, second = named_clusters([progress, how])
    assert (first.name, second.name) == ("order.refund", "order.refund_how_to")
    assert first.display_name.startswith("退款") and first.display_name.endswith("进度查询")
    assert second.display_name.startswith(("退款", "申请退款")) and second.display_name != first.display_name


def test_english_clusters_get_word_ids_and_display_names() -> None:
    alarms = ["set an alarm for 7 am", "wake me up with an alarm at six", "set alarm tomorrow morning"]
    weather = ["what is the weather today", "weather forecast for tomorrow", "will the weather be sunny"]
    first, second = named_clusters([alarms, weather])
    assert first.name.startswith("topic.alarm") and is_valid_name(first.name)
    assert second.name.startswith("topic.weather") and "weather" in second.display_name


def test_repeated_display_names_are_numbered_last() -> None:
    same = [IntentName("a.b", "x", "lexicon", "退款咨询"), IntentName("c.d", "y", "lexicon", "退款咨询")]
    assert [n.display_name for n in make_unique(same)] == ["退款咨询", "退款咨询（2）"]


@pytest.mark.parametrize(
    ("texts", "expected"),
    [
        (["去汽车东站怎么走", "我要到徐家汇怎么走", "去机场怎么去", "到火车站的路线"], "路线查询"),
        # "how is", not "how to"
        (["明天天气如何", "今天天气怎么样", "后天天气如何？", "周末天气怎样"], "咨询"),
        (["酱牛肉怎么做", "酸菜鱼的做法", "红烧肉怎么做好吃", "鱼香肉丝的做法"], "咨询"),
    ],
)
def test_question_cues_read_as_customers_mean_them(texts: list[str], expected: str) -> None:
    (named,) = named_clusters([texts])
    assert named.display_name.endswith(expected), named
    assert "操作方法" not in named.display_name
