"""Namers: keyword/lexicon names by default, LLM-proposed ``domain.action`` names when a generator is set."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Sequence

from mining.domain import IntentName
from mining.lexicon import LEXICON, Aspect, LexiconEntry, match_entry, single_char_triggers
from mining.phrases import MIN_SHARE, display_name, intent_id, key_phrase, main_aspect
from mining.ports import ClusterView, Namer, Tokenizer
from models.errors import GenerationFailed
from models.ports import ChatMessage, Generator

logger = logging.getLogger(__name__)

#: ``domain.action``: lower-case ASCII words joined by underscores, exactly one dot.
NAME_PATTERN = re.compile(r"^[a-z][a-z0-9]*(?:_[a-z0-9]+)*\.[a-z][a-z0-9]*(?:_[a-z0-9]+)*$")
_MAX_DESCRIPTION = 120
_MAX_DISPLAY = 20


def is_valid_name(name: str) -> bool:
    """Whether ``name`` is a well-formed ``domain.action`` intent name."""
    return bool(NAME_PATTERN.match(name))


class KeywordNamer:
    """Names a cluster from its c-TF-IDF keywords, key phrases and question cues.

    The lexicon gives the ``domain.action`` family (退款 -> ``order.refund``); a generic family
    (``logistics.inquiry``) is made specific by the cue most members share (``logistics.delay``); the
    Chinese display name joins the key phrase and the cue (退款 + 进度查询). Clusters with the same
    id or display name are told apart by their own cues and keywords before any ``_2`` suffix.

    Args:
        lexicon: Word families mapped to ``domain.action`` names.
        keywords_in_description: How many keywords the description lists.
        tokenizer: Content tokens for key phrases (default jieba).
    """

    def __init__(
        self,
        lexicon: Sequence[LexiconEntry] = LEXICON,
        *,
        keywords_in_description: int = 5,
        tokenizer: Tokenizer | None = None,
    ) -> None:
        self.lexicon = lexicon
        self.keywords_in_description = keywords_in_description
        self._tokenizer = tokenizer

    @property
    def name(self) -> str:
        """The stage's name, recorded with each run."""
        return "keywords"

    @property
    def tokenizer(self) -> Tokenizer:
        """The tokenizer keywords are counted with (jieba unless one was given)."""
        if self._tokenizer is None:
            from mining.keywords import JiebaTokenizer

            self._tokenizer = JiebaTokenizer(keep=single_char_triggers(self.lexicon))
        return self._tokenizer

    def _parts(
        self, cluster: ClusterView, *, skip: Sequence[str] = (), min_share: float = MIN_SHARE
    ) -> tuple[LexiconEntry | None, str, Aspect | None, Aspect | None]:
        """Lexicon family, key phrase, display-name cue and id cue of one cluster.

        The display name's cue is one the phrase does not already say; the id's is the members' own,
        whatever the phrase says.
        """
        ranked = [(k, 1.0 / (i + 1)) for i, k in enumerate(cluster.keywords)]
        texts = cluster.texts or cluster.examples
        phrase = key_phrase(texts, cluster.keywords, self.tokenizer)
        return (
            match_entry(ranked, self.lexicon),
            phrase,
            main_aspect(texts, phrase, skip=skip, min_share=min_share),
            main_aspect(texts, "", skip=skip, min_share=min_share),
        )

    def _name(
        self,
        cluster: ClusterView,
        entry: LexiconEntry | None,
        phrase: str,
        shown_aspect: Aspect | None,
        id_aspect: Aspect | None,
    ) -> IntentName:
        shown = "、".join(cluster.keywords[: self.keywords_in_description]) or "无"
        display = display_name(phrase, shown_aspect, entry)
        name = intent_id(entry, id_aspect, cluster.keywords, cluster.cluster_id)
        if entry is None:
            return IntentName(name, f"未归类话题「{display}」（关键词：{shown}）", "keywords", display)
        return IntentName(name, f"用户咨询{entry.gloss}相关问题（关键词：{shown}）", "lexicon", display)

    def name_one(self, cluster: ClusterView) -> IntentName:
        """Name one cluster (the LLM namer falls back to this)."""
        return self._name(cluster, *self._parts(cluster))

    def name_clusters(self, clusters: Sequence[ClusterView]) -> list[IntentName]:
        """Name every cluster; a later one that repeats an id or display name gets its own cue first."""
        holders: dict[str, Aspect | None] = {}  # id or display name -> the cue of the cluster holding it
        out = []
        for cluster in clusters:
            entry, phrase, shown_aspect, id_aspect = self._parts(cluster)
            item = self._name(cluster, entry, phrase, shown_aspect, id_aspect)
            name, display = item.name, item.display_name
            taken = [a.slug for k in (name, display) if k in holders and (a := holders[k]) is not None]
            if name in holders:
                cue = id_aspect if id_aspect is not None and id_aspect.slug not in taken else None
                cue = cue or self._parts(cluster, skip=taken, min_share=0.2)[3]
                if cue is not None and not name.endswith(cue.slug) and is_valid_name(f"{name}_{cue.slug}"):
                    name = f"{name}_{cue.slug}"
            if display in holders:
                cue = shown_aspect if shown_aspect is not None and shown_aspect.slug not in taken else None
                cue = cue or self._parts(cluster, skip=taken, min_share=0.2)[2]
                if cue is not None and cue.gloss not in display:
                    display = f"{display}·{cue.gloss}"
            item = IntentName(name, item.description, item.source, display)
            holders.setdefault(item.name, id_aspect)
            holders.setdefault(item.display_name, shown_aspect)
            out.append(item)
        return out


_SYSTEM = (
    "你是电商客服意图分析助手。根据一组用户问题及其关键词，为这组问题起一个英文意图名，"
    "格式为 domain.action（小写英文，下划线连接单词，例如 order.refund、logistics.inquiry、"
    "promotion.coupon、product.size），起一个 4 到 10 个字的中文意图名（例如 退款进度查询），"
    "并用一句中文描述这个意图。"
    '只输出一个 JSON 对象：{"name": "...", "display_name": "...", "description": "..."}，不要输出其他内容。'
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
    display = " ".join(str(data.get("display_name", "")).split())[:_MAX_DISPLAY]
    return IntentName(name, description[:_MAX_DESCRIPTION], "llm", display)


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
        """The stage's name, recorded with each run."""
        return f"llm({self.generator.name})"

    def name_clusters(self, clusters: Sequence[ClusterView]) -> list[IntentName]:
        """One intent name per cluster, in the order given."""
        out: list[IntentName] = []
        fallback = self.fallback.name_clusters(clusters)  # cheap; also the display names the LLM omits
        for cluster, backup in zip(clusters, fallback, strict=True):
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
                proposed = backup
            elif not proposed.display_name:
                proposed = IntentName(proposed.name, proposed.description, "llm", backup.display_name)
            out.append(proposed)
        return out


def make_unique(names: Sequence[IntentName]) -> list[IntentName]:
    """Suffix repeated names ``_2``, ``_3``... in order (the first, largest cluster keeps the plain name).

    Display names repeated after that get （2）, （3）...; an empty one stays empty.
    """
    seen: dict[str, int] = {}
    taken = {n.name for n in names}
    shown: dict[str, int] = {}
    shown_taken = {n.display_name for n in names}
    out = []
    for item in names:
        name, display = item.name, item.display_name
        if name in seen:
            k = seen[name]
            while name in taken:
                k += 1
                name = f"{item.name}_{k}"
            seen[item.name] = k
            taken.add(name)
        else:
            seen[name] = 1
        if display and display in shown:
            k = shown[display]
            while display in shown_taken:
                k += 1
                display = f"{item.display_name}（{k}）"
            shown[item.display_name] = k
            shown_taken.add(display)
        else:
            shown[display] = 1
        out.append(IntentName(name, item.description, item.source, display))
    return out
