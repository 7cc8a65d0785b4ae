"""Entity detectors (order ids, phones, amounts, sizes, colours) and the Chinese slot-filling prompt."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from mining.domain import EntitySuggestion


@dataclass(frozen=True)
class Detector:
    """A named regular expression and how to ask a customer for its value."""

    name: str
    pattern: str
    ask: str

    def found_in(self, text: str) -> bool:
        """Whether the entity (or its masking placeholder) appears in ``text``."""
        return re.search(self.pattern, text, flags=re.IGNORECASE) is not None


def _with_placeholder(pattern: str, *names: str) -> str:
    # masked logs carry <ORDER_ID>, [PHONE] or {amount} where the value was
    alternatives = "|".join(names)
    return rf"(?:{pattern})|[<\[{{](?:{alternatives})[>\]}}]"


DETECTORS: tuple[Detector, ...] = (
    Detector(
        "order_id", _with_placeholder(r"(?<!\d)\d{12,18}(?!\d)", "order_?id", "order", "订单号"), "订单号"
    ),
    Detector("phone", _with_placeholder(r"(?<!\d)1[3-9]\d{9}(?!\d)", "phone", "mobile", "手机号"), "手机号"),
    Detector(
        "amount",
        _with_placeholder(r"[¥￥]\s?\d+(?:\.\d{1,2})?|\d+(?:\.\d{1,2})?\s?(?:元|块钱|块)", "amount", "金额"),
        "金额",
    ),
    Detector(
        "size",
        r"(?<![a-z0-9])(?:xxs|xs|s|m|l|xl|xxl|xxxl|[2-5]xl)(?![a-z])|\d{2,3}(?:\.5)?\s?码|[大中小]号|均码",
        "尺码",
    ),
    Detector(
        "color",
        r"(?:[红橙黄绿青蓝紫黑白灰粉棕金银米驼]|卡其|酒红|藏青|天蓝|墨绿|咖啡)色",
        "颜色",
    ),
)


def suggest_entities(
    texts: Sequence[str],
    counts: Sequence[int] | None = None,
    *,
    detectors: Sequence[Detector] = DETECTORS,
    min_share: float = 0.1,
    required_share: float = 0.5,
) -> list[EntitySuggestion]:
    """Entities found in at least ``min_share`` of a cluster's traffic; required from ``required_share``.

    Args:
        texts: The cluster's utterances.
        counts: How often each was asked (default 1 each), so shares reflect traffic.
        detectors: What to look for.
        min_share: Share of traffic mentioning an entity for it to be suggested.
        required_share: Share from which it is suggested as required.

    Returns:
        Suggestions in detector order.
    """
    weights = list(counts) if counts is not None else [1] * len(texts)
    total = sum(weights) or 1
    out = []
    for detector in detectors:
        share = sum(w for t, w in zip(texts, weights, strict=True) if detector.found_in(t)) / total
        if share >= min_share:
            out.append(
                EntitySuggestion(
                    name=detector.name,
                    pattern=detector.pattern,
                    required=share >= required_share,
                    share=round(share, 3),
                    prompt=detector.ask,
                )
            )
    return out


def slot_filling_prompt(entities: Sequence[EntitySuggestion]) -> str:
    """The question the bot asks to fill the entities (required ones first); empty when there are none."""
    if not entities:
        return ""
    required = [e.prompt for e in entities if e.required]
    optional = [e.prompt for e in entities if not e.required]
    if required and optional:
        return f"为了尽快帮您处理，请提供{'、'.join(required)}（如方便，也请告诉我{'、'.join(optional)}）。"
    return f"为了尽快帮您处理，请提供{'、'.join(required or optional)}。"
