"""Tokens, c-TF-IDF keywords and the keyword / LLM namers."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

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
        (LOGISTICS, "logistics.inquiry"),
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
        ("logistics.inquiry", "lexicon"),
    ]
    assert REFUND[0] in generator.prompts[0][1].content
