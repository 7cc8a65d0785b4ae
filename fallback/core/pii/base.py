"""Hits, kinds, placeholders and the overlap resolution shared by the detector's layers."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final

PLACEHOLDERS: Final[Mapping[str, str]] = MappingProxyType(
    {
        "phone": "[手机号]",
        "landline": "[座机]",
        "id_card": "[身份证]",
        "bank_card": "[银行卡]",
        "email": "[邮箱]",
        "plate": "[车牌]",
        "name": "[姓名]",
        "address": "[地址]",
        "number": "[号码]",
        "account": "[账号]",
    }
)
ALL_KINDS: Final[frozenset[str]] = frozenset(PLACEHOLDERS)

ORDER: Final = "order"  # an order number: kept in the text, reported as a slot
ORDER_CUE: Final = "order_cue"  # an order number right after 订单号/单号/order: beats the cue layer

# Which reading wins where two overlap: the more specific evidence first. An order number right after
# an order word beats the cue layer's "digits near 电话", a bare 12-20 digit run loses to everything.
RANK: Final[Mapping[str, int]] = MappingProxyType(
    {
        "email": 12,
        "id_card": 11,
        "phone": 10,
        "landline": 9,
        "bank_card": 8,
        "plate": 7,
        ORDER_CUE: 6,
        "number": 5,
        "account": 5,
        "address": 4,
        "name": 4,
        ORDER: 1,
    }
)


@dataclass(frozen=True, slots=True)
class Hit:
    """One reading of a span of the folded text.

    ``kind`` is a PII kind, :data:`ORDER` or :data:`ORDER_CUE`.
    """

    start: int
    end: int
    kind: str


def overlaps(hit: Hit, spans: Collection[tuple[int, int]]) -> bool:
    """Whether ``hit`` overlaps any of ``spans``."""
    return any(hit.start < e and s < hit.end for s, e in spans)


def resolve(hits: Iterable[Hit]) -> list[Hit]:
    """Keep the best non-overlapping hits (higher rank first, then the longer span), in text order."""
    ranked = sorted(set(hits), key=lambda h: (-RANK[h.kind], h.start - h.end, h.start))
    kept: list[Hit] = []
    for hit in ranked:
        if not any(hit.start < k.end and k.start < hit.end for k in kept):
            kept.append(hit)
    kept.sort(key=lambda h: h.start)
    return kept
