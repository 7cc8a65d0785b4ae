"""An OpenAPI 3.0 description of the webhook alone, in the shape Coze's "import plugin" accepts.

FastAPI publishes OpenAPI 3.1 at ``/openapi.json`` (``anyOf: [X, null]`` for optional fields); Coze's
importer expects 3.0 (``nullable: true``), one operation per tool, every response field declared
(it strips undeclared ones) and the auth header as an API-key scheme. Served at
``/v1/coze-plugin.json`` and written by ``backstop coze plugin-spec --out FILE``.

Every field carries a Chinese description (what the Coze editor shows next to the parameter), the
common slots are declared so a bot can map its variables to them, and :func:`server_problems` says
when the server URL is one Coze cannot reach (it wants a public ``https://`` domain).
"""

from __future__ import annotations

from copy import deepcopy
from typing import Any
from urllib.parse import urlparse

from fallback.api.schemas import FallbackIn, FallbackOut


def _to_30(node: Any) -> Any:
    """Rewrite 3.1 constructs into their 3.0 spelling (nullable, no $defs, no examples arrays)."""
    if isinstance(node, list):
        return [_to_30(n) for n in node]
    if not isinstance(node, dict):
        return node
    node = {k: _to_30(v) for k, v in node.items() if k not in ("examples", "title")}
    any_of = node.get("anyOf")
    if isinstance(any_of, list) and {"type": "null"} in any_of:
        rest = [s for s in any_of if s != {"type": "null"}]
        node.pop("anyOf")
        if len(rest) == 1:
            node.update(rest[0])
        else:
            node["anyOf"] = rest
        node["nullable"] = True
    if "$ref" in node:
        node["$ref"] = node["$ref"].replace("#/$defs/", "#/components/schemas/")
    return node


DESCRIPTIONS: dict[str, dict[str, str]] = {
    "FallbackIn": {
        "query": "顾客这句话的原文（未被任何意图识别的那句）。到达后先做个人信息脱敏。",
        "user_id": "顾客的用户 ID（Coze 变量 sys_uuid 等）。只保存其带密钥的哈希。",
        "conversation_id": "会话 ID，同一会话内保持不变。只保存其带密钥的哈希。",
        "message_id": "本条消息的 ID。重试时带同一个值，结果不会重复记录。",
        "bot_id": "发起调用的 Bot ID（可选，用于按 Bot 统计）。",
        "history": "最近几轮对话（可选，最多 50 条），供起草回复时参考。",
        "slots": "已识别的槽位，如订单号、订单状态、商品名；未列出的键也会接收。",
        "locale": "语言区域，默认 zh-CN。",
    },
    "FallbackOut": {
        "action": "answer：直接把 answer 发给顾客；其余（pending_review / handoff / blocked）：发送 answer"
        "（转人工提示语）并转人工客服。",
        "answer": "要发给顾客的文本。",
        "confidence": "所选答案正确的校准概率（0~1）。",
        "answer_id": "命中的已审核答案 ID（仅 action=answer 时有值）。",
        "candidate_id": "该问题进入的待审核候选 ID（如有）。",
        "reason": "原因：matched、risk_topic、low_confidence、no_match 等。",
        "trace_id": "追踪 ID，反馈问题时请附上。",
    },
    "Turn": {
        "role": "说话人：user（顾客）、assistant（客服/机器人）或 system。",
        "content": "这一轮的内容。",
    },
}
# the slots a shop bot most often holds, declared so the Coze editor can map variables to them
SLOTS: dict[str, str] = {
    "order_id": "订单号",
    "order_status": "订单状态（如 已发货、已签收）",
    "product_name": "商品名称",
    "sku": "商品规格 / SKU",
    "tracking_no": "快递单号",
    "amount": "订单金额（元）",
}


def server_problems(server_url: str) -> list[str]:
    """Why Coze could not call ``server_url`` (empty when it looks importable)."""
    if not server_url:
        return ["no server URL: set server.public_url (BACKSTOP_SERVER__PUBLIC_URL) to the public "
                "https domain"]
    url = urlparse(server_url)
    problems = []
    if url.scheme != "https":
        problems.append(f"{server_url}: Coze calls plugins over https only")
    host = (url.hostname or "").lower()
    if host in ("localhost", "0.0.0.0", "::1") or host.startswith(("127.", "10.", "192.168.")) or \
            host.endswith(".local"):
        problems.append(f"{server_url}: {host} is not reachable from Coze's servers")
    return problems


def _describe(schemas: dict[str, Any]) -> None:
    for model, fields in DESCRIPTIONS.items():
        props = schemas.get(model, {}).get("properties", {})
        for name, text in fields.items():
            if name in props:
                props[name]["description"] = text
    slots = schemas["FallbackIn"]["properties"]["slots"]
    slots["properties"] = {k: {"type": "string", "description": v} for k, v in SLOTS.items()}
    slots["additionalProperties"] = True


def coze_plugin_spec(server_url: str, header: str = "X-Backstop-Token") -> dict[str, Any]:
    """The plugin spec for ``POST /v1/fallback``."""
    schemas: dict[str, Any] = {}
    for model in (FallbackIn, FallbackOut):
        schema = deepcopy(model.model_json_schema(ref_template="#/components/schemas/{model}"))
        for name, sub in schema.pop("$defs", {}).items():
            schemas[name] = _to_30(sub)
        schemas[model.__name__] = _to_30(schema)
    out = schemas["FallbackOut"]
    out["required"] = sorted(out.get("properties", {}))  # always present in every reply
    _describe(schemas)
    return {
        "openapi": "3.0.1",
        "info": {
            "title": "Backstop 兜底问答",
            "version": "1.0.0",
            "description": "回答 Bot 意图未识别的顾客问题：命中已审核答案时直接回复，否则转人工并进入审核。",
        },
        "servers": [{"url": server_url or "http://127.0.0.1:8000"}],
        "paths": {
            "/v1/fallback": {
                "post": {
                    "operationId": "fallback",
                    "summary": "回答意图未识别的顾客问题",
                    "description": "action=answer 时直接发送 answer；"
                    "否则发送 answer（转人工提示语）并转人工客服。",
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {"schema": {"$ref": "#/components/schemas/FallbackIn"}}
                        },
                    },
                    "responses": {
                        "200": {
                            "description": "决定与回复",
                            "content": {
                                "application/json": {"schema": {"$ref": "#/components/schemas/FallbackOut"}}
                            },
                        }
                    },
                    "security": [{"serviceToken": []}],
                }
            }
        },
        "components": {
            "schemas": schemas,
            "securitySchemes": {"serviceToken": {"type": "apiKey", "in": "header", "name": header}},
        },
    }
