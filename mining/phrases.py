"""Key phrases of a cluster, and the names built from them: 退款 + 进度查询 -> 退款进度查询.

An operations lead reads the Chinese display name; Coze gets the ``domain.action`` id. Both come from
what the members say: the keywords that follow each other in the texts (jieba tokens, in order), the
lexicon family of the keywords, and the question cue most members share (多久 -> 进度查询, 投诉 -> 投诉).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache
from itertools import pairwise

from mining.lexicon import ASPECT_ACTIONS, ASPECTS, GENERIC_ACTIONS, Aspect, LexiconEntry, aspect_shares
from mining.ports import Tokenizer

#: A cue or a keyword pair counts when at least this share of a cluster's texts says it.
MIN_SHARE = 0.25
_ASCII_WORD = re.compile(r"[a-z][a-z0-9]*")


def _join(first: str, second: str) -> str:
    return f"{first} {second}" if first.isascii() and second.isascii() else first + second


def _follows(tokens: Sequence[str], first: str, second: str) -> bool:
    return any(a == first and b == second for a, b in pairwise(tokens))


#: Words jieba tags as content but that name nothing (还有别的, 是不是, 有没有...).
PHRASE_STOPWORDS = frozenset(
    [
        "还有",
        "有没有",
        "是不是",
        "怎么办",
        "告诉",
        "发给",
        "一下",
        "知道",
        "帮忙",
        "麻烦",
        "真的",
        "好吧",
        "可以",
        "不错",
        "好的",
        "行吧",
        "谢谢",
    ]
)
#: jieba part-of-speech tags that never head a name: pronouns (它家, 这里), numerals (一首, 几点),
#: adverbs, prepositions, conjunctions, particles, modal and onomatopoeic words.
_NOT_TOPIC_TAGS = ("r", "m", "d", "p", "c", "u", "y", "e", "o", "q")


@lru_cache(maxsize=20_000)
def is_topic_word(word: str) -> bool:
    """Whether ``word`` can stand in a name: not a pronoun, numeral, particle... (jieba POS tags)."""
    if word in PHRASE_STOPWORDS:
        return False
    if word.isascii():
        return True
    import jieba.posseg

    tags = [p.flag for p in jieba.posseg.lcut(word)]
    return bool(tags) and not all(t.startswith(_NOT_TOPIC_TAGS) for t in tags)


def key_phrase(
    texts: Sequence[str], keywords: Sequence[str], tokenizer: Tokenizer, *, min_share: float = MIN_SHARE
) -> str:
    """The cluster's key phrase: two top keywords in the order the texts say them, else the top one.

    A pair counts when one keyword directly follows the other (stopwords removed) in at least
    ``min_share`` of ``texts`` (and in two of them); pairs with the first or second keyword are
    tried, the most said wins.
    """
    top = [k for k in keywords[:8] if k and is_topic_word(k)][:5]
    if not top:
        return ""
    if not texts:
        return top[0]
    sequences = [tokenizer(t) for t in texts]
    best, best_hits = top[0], 0
    for i, a in enumerate(top):
        for j, b in enumerate(top):
            if a == b or a in b or b in a or min(i, j) > 1:
                continue
            hits = sum(1 for seq in sequences if _follows(seq, a, b))
            if hits > best_hits:
                best, best_hits = _join(a, b), hits
    return best if best_hits >= max(2.0, min_share * len(texts)) else top[0]


def main_aspect(
    texts: Sequence[str],
    phrase: str,
    *,
    min_share: float = MIN_SHARE,
    aspects: Sequence[Aspect] = ASPECTS,
    skip: Sequence[str] = (),
) -> Aspect | None:
    """The question cue most texts share, unless the phrase already says its gloss.

    ``None`` below ``min_share``; an empty phrase skips the gloss check.
    """
    for aspect, share in aspect_shares(texts, aspects):
        if share < min_share:
            break
        if aspect.slug in skip or (phrase and _says_already(phrase, aspect)):
            continue
        return aspect
    return None


def _says_already(phrase: str, aspect: Aspect) -> bool:
    # 投诉快递员 + 投诉 repeats itself; 退款到账 + 进度查询 does not (到账 cues 进度 but is not its gloss)
    if aspect.slug == "how_to" and phrase.endswith("法"):  # 做法, 用法 already ask how
        return True
    return aspect.gloss[:2] in phrase or any(c in aspect.gloss and c in phrase for c in aspect.triggers)


def display_name(phrase: str, aspect: Aspect | None, entry: LexiconEntry | None) -> str:
    """Phrase + cue (退款 + 进度查询); a Chinese phrase without a cue reads as a 咨询."""
    phrase = phrase or (entry.gloss if entry else "")
    if not phrase:
        return "未归类话题"
    if phrase.isascii():  # English traffic: the phrase itself reads best
        return phrase
    if aspect is not None:
        return phrase + aspect.gloss
    if phrase.endswith(("咨询", "查询", "问题", "投诉", "办理")):
        return phrase
    return phrase + "咨询"


def _slug(word: str) -> str:
    return "_".join(_ASCII_WORD.findall(word.lower()))


def intent_id(
    entry: LexiconEntry | None, aspect: Aspect | None, keywords: Sequence[str], cluster_id: int
) -> str:
    """``domain.action``: the lexicon family, made specific by the cue when the family is generic.

    ``logistics.inquiry`` whose members mostly complain becomes ``logistics.complaint``; without a
    lexicon family, English keywords give ``topic.<word>_<word>`` and Chinese ones ``topic.t<id>``.
    """
    if entry is not None:
        domain, action = entry.name.split(".", 1)
        if action in GENERIC_ACTIONS and aspect is not None:
            return f"{domain}.{ASPECT_ACTIONS.get((domain, aspect.slug), aspect.slug)}"
        return entry.name
    words = [s for s in (_slug(k) for k in keywords[:2] if k.isascii()) if s]
    if words and keywords and keywords[0].isascii():
        return "topic." + "_".join(dict.fromkeys("_".join(words).split("_")))
    return f"topic.t{cluster_id}"
