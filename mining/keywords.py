"""Chinese-aware tokens and class-based TF-IDF keywords per cluster."""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from mining.ports import Tokenizer

# Function words, fillers and politeness that say nothing about what a customer wants.
_ZH = """
的 了 吗 呢 吧 啊 呀 哦 嗯 么 嘛 哈 是 在 有 和 与 就 都 也 还 又 很 太 更 最 把 被 给 让 从 到 对 为
我 你 他 她 它 我们 你们 他们 咱 自己 这 那 这个 那个 这些 那些 这样 那样 什么 怎么 怎么样 怎样
如何 为什么 为啥 哪 哪里 哪个 多少 几 一下 一个 一些 请问 请 麻烦 谢谢 您好 你好 亲 在吗 客服
可以 能 能不能 可不可以 会 要 想 想要 需要 应该 已经 还是 或者 但是 因为 所以 如果 然后 现在
今天 时候 什么时候 一直 没有 没 不 不是 了解 知道 问 问下 问一下 帮 帮我 看看 看 下 个 啦 哎 嘿 呵呵
好 好的 行 嗯嗯 okay ok
"""
_EN = """
a an the i me my we our you your he she it its they them is am are was were be been being do does
did have has had can could would should will shall may might must to of in on at for from by with
about as into and or but if so not no yes please thanks thank hi hello hey what which who whom whose
when where why how this that these those there here up down out over just than then too very any
some all s t don doesn didn isn aren wasn let tell know want need get
"""
STOPWORDS_ZH = frozenset(_ZH.split())
STOPWORDS_EN = frozenset(_EN.split())
STOPWORDS = STOPWORDS_ZH | STOPWORDS_EN

# Masking placeholders such as <PHONE>, [ORDER_ID] or {amount} are slots, not topic words.
_PLACEHOLDER = re.compile(r"[<\[{][\w\u4e00-\u9fff]{1,32}[>\]}]")
# Customer-service words jieba's general dictionary splits (到账 -> 到 / 账).
SERVICE_WORDS = (
    "到账",
    "退款",
    "退货",
    "换货",
    "优惠券",
    "尺码表",
    "尺码",
    "码数",
    "包邮",
    "运费险",
    "催单",
    "签收",
)
_CONTENT = re.compile(r"[a-z\u4e00-\u9fff]", re.IGNORECASE)


class JiebaTokenizer:
    """jieba word segmentation, lower-cased, without stopwords, punctuation, digits or placeholders.

    Single CJK characters are dropped unless listed in ``keep``: alone they are mostly particles.
    """

    def __init__(
        self,
        *,
        stopwords: frozenset[str] = STOPWORDS,
        keep: frozenset[str] = frozenset(),
        words: Sequence[str] = SERVICE_WORDS,
    ) -> None:
        self.stopwords = stopwords
        self.keep = keep
        self.words = tuple(words)
        self._jieba: Any = None

    def _cut(self, text: str) -> list[str]:
        if self._jieba is None:
            import logging

            import jieba

            jieba.setLogLevel(logging.WARNING)  # its dictionary-loading banner goes to stderr otherwise
            # jieba's shared tokenizer: a private jieba.Tokenizer() would reload the dictionary (1-3 s)
            # per instance; adding a few service words to the shared one only improves other users' cuts
            for word in self.words:
                jieba.add_word(word)
            self._jieba = jieba
        return list(self._jieba.lcut(text))

    def __call__(self, text: str) -> list[str]:
        """The tokens of ``text``."""
        out = []
        for raw in self._cut(_PLACEHOLDER.sub(" ", text.lower())):
            token = raw.strip()
            if not token or token in self.stopwords:
                continue
            if not _CONTENT.search(token):
                continue
            if len(token) == 1 and token not in self.keep:
                continue
            out.append(token)
        return out


def class_tfidf(
    documents: Mapping[int, Sequence[tuple[str, int]]], tokenizer: Tokenizer, *, top_n: int = 10
) -> dict[int, list[tuple[str, float]]]:
    """Top keywords per cluster by class-based TF-IDF (BERTopic's c-TF-IDF).

    Each cluster's texts are one "class document"; a term scores high when frequent in the cluster and
    rare across clusters: ``tf(t, c) * log(1 + A / f(t))``, with ``A`` the mean tokens per cluster and
    ``f(t)`` the term's frequency over all clusters.

    Args:
        documents: Cluster id -> (text, count) pairs; counts weight the term frequencies.
        tokenizer: Splits texts into content tokens.
        top_n: Keywords kept per cluster.

    Returns:
        Cluster id -> [(token, score)] by decreasing score.
    """
    counts: dict[int, Counter[str]] = {}
    for cid, texts in documents.items():
        bag: Counter[str] = Counter()
        for text, count in texts:
            for token in set(tokenizer(text)):
                bag[token] += count
        counts[cid] = bag
    totals: Counter[str] = Counter()
    for bag in counts.values():
        totals.update(bag)
    if not counts:
        return {}
    mean_tokens = sum(sum(b.values()) for b in counts.values()) / len(counts)
    out: dict[int, list[tuple[str, float]]] = {}
    for cid, bag in counts.items():
        size = sum(bag.values()) or 1
        scored = [(t, (n / size) * math.log(1 + mean_tokens / totals[t])) for t, n in bag.items()]
        scored.sort(key=lambda item: (-item[1], item[0]))
        out[cid] = scored[:top_n]
    return out


def ranked_tokens(texts: Sequence[str], tokenizer: Tokenizer) -> list[tuple[str, int]]:
    """Tokens by the number of texts containing them (ties alphabetical)."""
    df: Counter[str] = Counter()
    for text in texts:
        df.update(set(tokenizer(text)))
    return sorted(df.items(), key=lambda item: (-item[1], item[0]))


def token_profile(texts: Sequence[str], tokenizer: Tokenizer, *, top_n: int = 15) -> frozenset[str]:
    """The ``top_n`` tokens found in the most texts: what an intent's utterances keep saying."""
    return frozenset(t for t, _ in ranked_tokens(texts, tokenizer)[:top_n])
