"""An OpenAPI 3.0 description of the webhook alone, in the shape Coze's "import plugin" accepts.

FastAPI publishes OpenAPI 3.1 at ``/openapi.json`` (``anyOf: [X, null]`` for optional fields); Coze's
importer expects 3.0 (``nullable: true``), one operation per tool, every response field declared
(it strips undeclared ones) and the auth header as an API-key scheme. Served at
``/v1/coze-plugin.json``.
"""

from __future__ import annotations

from copy import deepcopy
from typing import Any

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
    return {
        "openapi": "3.0.1",
        "info": {
            "title": "Backstop fallback",
            "version": "1.0.0",
            "description": "Answers customer queries the bot's intents did not recognise.",
        },
        "servers": [{"url": server_url or "http://127.0.0.1:8000"}],
        "paths": {
            "/v1/fallback": {
                "post": {
                    "operationId": "fallback",
                    "summary": "Answer a query the bot did not recognise",
                    "description": "action=answer: show `answer`; otherwise show `answer` "
                    "(the hand-off text) and transfer to a human agent.",
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {"schema": {"$ref": "#/components/schemas/FallbackIn"}}
                        },
                    },
                    "responses": {
                        "200": {
                            "description": "The decision",
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
