"""The Coze plugin spec: Chinese descriptions on every field, declared slots, and a URL Coze can call."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from coze.plugin_spec import coze_plugin_spec, server_problems


def _has_cjk(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


def test_every_field_is_described_in_chinese_and_slots_are_declared() -> None:
    spec = coze_plugin_spec("https://bot.example.com")
    schemas = spec["components"]["schemas"]
    for model in ("FallbackIn", "FallbackOut", "Turn"):
        for name, prop in schemas[model]["properties"].items():
            assert _has_cjk(prop.get("description", "")), (model, name)
    slots = schemas["FallbackIn"]["properties"]["slots"]
    assert {"order_id", "order_status", "product_name"} <= set(slots["properties"])
    assert slots["additionalProperties"] is True
    op = spec["paths"]["/v1/fallback"]["post"]
    assert _has_cjk(op["summary"]) and _has_cjk(spec["info"]["description"])
    assert spec["servers"] == [{"url": "https://bot.example.com"}]


def test_urls_coze_cannot_call_are_named() -> None:
    assert server_problems("https://bot.example.com") == []
    assert len(server_problems("http://127.0.0.1:8000")) == 2
    assert any("https" in p for p in server_problems("http://bot.example.com"))
    assert any("not reachable" in p for p in server_problems("https://localhost:8443"))
    assert "public_url" in server_problems("")[0]


def test_cli_writes_the_spec_and_refuses_a_local_url(tmp_path: Path) -> None:
    env = {"BACKSTOP_DATA_DIR": str(tmp_path), "PATH": "/usr/bin:/bin", "HF_HUB_OFFLINE": "1"}
    base = [sys.executable, "-m", "backstop", "coze", "plugin-spec", "--out", str(tmp_path / "spec.json")]
    refused = subprocess.run(base, env=env, capture_output=True, text=True, timeout=120)
    assert refused.returncode == 2 and "public_url" in refused.stderr
    assert not (tmp_path / "spec.json").exists()
    ok = subprocess.run([*base, "--server-url", "https://bot.example.com"], env=env, capture_output=True,
                        text=True, timeout=120)
    assert ok.returncode == 0, ok.stderr
    spec = json.loads((tmp_path / "spec.json").read_text(encoding="utf-8"))
    assert spec["openapi"] == "3.0.1" and spec["servers"][0]["url"] == "https://bot.example.com"
