"""Namers: keyword/lexicon names by default, LLM-proposed ``domain.action`` names when a generator is set."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Sequence

from mining.domain import IntentName
from mining.lexicon import LEXICON, LexiconEntry, match_entry
from mining.ports import ClusterView, Namer
from models.errors import GenerationFailed
from models.ports import ChatMessage, Generator

logger = logging.getLogger(__name__)

#: ``domain.action``: lower-case ASCII words joined by underscores, exactly one dot.
NAME_PATTERN = re.compile(r"^[a-z][a-z0-9]*(?:_[a-z0-9]+)*\.[a-z][a-z0-9]*(?:_[a-z0-9]+)*$")
_MAX_DESCRIPTION = 120


def is_valid_name(name: str) -> bool:
    """Whether ``name`` is a well-formed ``domain.action`` intent name."""
    return bool(NAME_PATTERN.match(name))


class KeywordNamer:
    """Names a cluster from its c-TF-IDF keywords via the lexicon, else ``topic.<n>``.

    Args:
        lexicon: Word families mapped to ``domain.action`` names.
        keywords_in_description: How many keywords the description lists.
    """

    def __init__(
        self, lexicon: Sequence[LexiconEntry] = LEXICON, *, keywords_in_description: int = 5
    ) -> None:
        self.lexicon = lexicon
        self.keywords_in_description = keywords_in_description

    @property
    def name(self) -> str:
        return "keywords"

    def name_one(self, cluster: ClusterView) -> IntentName:
        """Name one cluster (the LLM namer falls back to this)."""
        # rank-based weights: the lexicon sees keyword order, not raw c-TF-IDF magnitudes
        ranked = [(k, 1.0 / (i + 1)) for i, k in enumerate(cluster.keywords)]
        shown = "、".join(cluster.keywords[: self.keywords_in_description]) or "无"
        entry = match_entry(ranked, self.lexicon)
        if entry is None:
            return IntentName(f"topic.t{cluster.cluster_id}", f"未归类话题（关键词：{shown}）", "keywords")
        return IntentName(entry.name, f"用户咨询{entry.gloss}相关问题（关键词：{shown}）", "lexicon")

    def name_clusters(self, clusters: Sequence[ClusterView]) -> list[IntentName]:
        return [self.name_one(c) for c in clusters]


_SYSTEM = (
    "你是电商客服意图分析助手。根据一组用户问题及其关键词，为这组问题起一个英文意图名，"
    "格式为 domain.action（小写英文，下划线连接单词，例如 order.refund、logistics.inquiry、"
    "promotion.coupon、product.size），并用一句中文描述这个意图。"
    '只输出一个 JSON 对象：{"name": "...", "description": "..."}，不要输出其他内容。'
)


def build_naming_prompt(cluster: ClusterView, *, max_examples: int = 12) -> list[ChatMessage]:
    """The chat messages asking a generator to name one cluster."""
    examples = "\n".join(f"- {e}" for e in cluster.examples[:max_examples])
    user = f"关键词：{'、'.join(cluster.keywords[:10])}\n用户问题：\n{examples}"
    return [ChatMessage("system", _SYSTEM), ChatMessage("user", user)]


def parse_name(text: str) -> IntentName | None:
    """Read ``{"name", "description"}`` from a generation; ``None`` when missing or malformed."""
    match = re.search(r"\{.*?\}", text, flags=re.DOTALL)
    if not match:
        return None
    try:
        data = json.loads(match.group(0))
    except json.JSONDecodeError:
        return None
    if not isinstance(data, dict):
        return None
    name = str(data.get("name", "")).strip().lower()
    description = " ".join(str(data.get("description", "")).split())
    if not is_valid_name(name) or not description:
        return None
    return IntentName(name, description[:_MAX_DESCRIPTION], "llm")


class LlmNamer:
    """Asks a :class:`~models.ports.Generator` for a name; any failure falls back to ``fallback``.

    Args:
        generator: The LLM backend.
        fallback: Used when the generator fails or answers something that is not a valid name.
        max_new_tokens: Budget of one naming answer.
    """

    def __init__(self, generator: Generator, fallback: Namer | None = None, *, max_new_tokens: int = 96):
        self.generator = generator
        self.fallback = fallback or KeywordNamer()
        self.max_new_tokens = max_new_tokens

    @property
    def name(self) -> str:
        return f"llm({self.generator.name})"

    def name_clusters(self, clusters: Sequence[ClusterView]) -> list[IntentName]:
        out: list[IntentName] = []
        for cluster in clusters:
            proposed: IntentName | None = None
            try:
                generation = self.generator.generate(
                    build_naming_prompt(cluster), max_new_tokens=self.max_new_tokens, temperature=0.0
                )
                proposed = parse_name(generation.text)
            except GenerationFailed as e:
                logger.warning("naming.generation_failed cluster=%s error=%s", cluster.cluster_id, e)
            if proposed is None:
                logger.info("naming.fallback cluster=%s", cluster.cluster_id)
                proposed = self.fallback.name_clusters([cluster])[0]
            out.append(proposed)
        return out


def make_unique(names: Sequence[IntentName]) -> list[IntentName]:
    """Suffix repeated names ``_2``, ``_3``... in order (the first, largest cluster keeps the plain name)."""
    seen: dict[str, int] = {}
    taken = {n.name for n in names}
    out = []
    for item in names:
        if item.name not in seen:
            seen[item.name] = 1
            out.append(item)
            continue
        k = seen[item.name]
        candidate = item.name
        while candidate in taken:
            k += 1
            candidate = f"{item.name}_{k}"
        seen[item.name] = k
        taken.add(candidate)
        out.append(IntentName(candidate, item.description, item.source))
    return out
