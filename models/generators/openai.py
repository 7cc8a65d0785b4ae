"""Generation through any OpenAI-compatible chat-completions server.

vLLM, TGI, LMDeploy and Ollama all serve ``POST {base_url}/chat/completions``; this is the way to
run ChatGLM3-6B / GLM-4 in production without their remote code in our process. Requests share one
keep-alive ``httpx.Client``; at most ``max_concurrency`` are in flight at once; connection errors,
timeouts, 429 and 5xx are retried with capped exponential backoff and full jitter (a 429's
``Retry-After`` is honoured up to the cap); any other 4xx fails at once.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

import httpx

from models.errors import GenerationFailed, ModelUnavailable
from models.ports import ChatMessage, Generation
from models.settings import GeneratorSettings

logger = logging.getLogger(__name__)

_EXCERPT_CHARS = 200


def _excerpt(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= _EXCERPT_CHARS else flat[:_EXCERPT_CHARS] + "…"


def _retryable(status: int) -> bool:
    return status == 429 or status >= 500


class OpenAICompatibleGenerator:
    """A chat model behind an OpenAI-compatible HTTP API.

    Args:
        base_url: Server root including the API prefix, e.g. ``http://127.0.0.1:8001/v1``.
        model: Model name the server knows, e.g. ``"glm-4-9b-chat"``.
        api_key: Bearer token, or ``""`` when the server needs none.
        timeout_s: Per-attempt timeout (connect, read and write).
        max_retries: Extra attempts after the first for retryable failures.
        max_concurrency: Most requests in flight at once from this generator.
        backoff_s: Base of the exponential backoff (doubles per retry, full jitter).
        backoff_cap_s: Largest single wait between attempts.
        transport: An ``httpx`` transport to use instead of the network one.
        sleep: How to wait between attempts (swap for a no-op to test retry counts quickly).
    """

    def __init__(
        self,
        *,
        base_url: str,
        model: str,
        api_key: str = "",
        timeout_s: float = 20.0,
        max_retries: int = 2,
        max_concurrency: int = 4,
        backoff_s: float = 0.25,
        backoff_cap_s: float = 4.0,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not model:
            raise ModelUnavailable("openai generator: settings.model (the served model name) is empty")
        if not base_url.startswith(("http://", "https://")):
            raise ModelUnavailable(f"openai generator: base_url {base_url!r} is not an http(s) URL")
        self._url = base_url.rstrip("/") + "/chat/completions"
        self._model = model
        self._max_retries = max_retries
        self._backoff_s = backoff_s
        self._backoff_cap_s = backoff_cap_s
        self._sleep = sleep
        self._slots = threading.BoundedSemaphore(max_concurrency)
        headers = {"Accept": "application/json"}
        if api_key:
            headers["Authorization"] = f"Bearer {api_key}"
        self._client = httpx.Client(
            headers=headers,
            timeout=httpx.Timeout(timeout_s),
            limits=httpx.Limits(max_connections=max_concurrency, max_keepalive_connections=max_concurrency),
            transport=transport,
        )

    @classmethod
    def create(cls, settings: GeneratorSettings) -> OpenAICompatibleGenerator:
        """Build from settings (no request is made; a down server shows up as ``GenerationFailed``).

        Args:
            settings: ``base_url``, ``model``, ``api_key``, ``timeout_s``, ``max_retries``,
                ``max_concurrency``.

        Returns:
            A ready generator.

        Raises:
            ModelUnavailable: Empty model name or a base URL that is not http(s).
        """
        return cls(
            base_url=settings.base_url,
            model=settings.model,
            api_key=settings.api_key.get_secret_value(),
            timeout_s=settings.timeout_s,
            max_retries=settings.max_retries,
            max_concurrency=settings.max_concurrency,
        )

    @property
    def name(self) -> str:
        """``"openai:<model>"``."""
        return f"openai:{self._model}"

    def close(self) -> None:
        """Close the keep-alive connections."""
        self._client.close()

    def generate(
        self,
        messages: Sequence[ChatMessage],
        *,
        max_new_tokens: int = 256,
        temperature: float = 0.0,
    ) -> Generation:
        """Ask the server for a chat completion.

        Args:
            messages: The conversation, oldest first.
            max_new_tokens: Sent as ``max_tokens``.
            temperature: Sent as is (``0`` asks the server for greedy decoding).

        Returns:
            The stripped reply with the server's ``usage`` counts and the wall-clock latency
            (retries and waits included).

        Raises:
            GenerationFailed: After the last retry, at once on a non-retryable status, or when the
                reply has no text; the message carries the status and a short body excerpt.
        """
        if not messages:
            raise GenerationFailed(f"{self.name}: no messages to answer")
        payload: dict[str, Any] = {
            "model": self._model,
            "messages": [{"role": m.role, "content": m.content} for m in messages],
            "max_tokens": max_new_tokens,
            "temperature": temperature,
            "stream": False,
        }
        started = time.perf_counter()
        body = self._post_with_retries(payload)
        return self._parse(body, time.perf_counter() - started)

    def _post_with_retries(self, payload: dict[str, Any]) -> dict[str, Any]:
        attempts = self._max_retries + 1
        problem, cause = "no attempt made", None
        for attempt in range(attempts):
            retry_after: float | None = None
            try:
                with self._slots:
                    response = self._client.post(self._url, json=payload)
            except httpx.TransportError as e:  # connect errors, timeouts, dropped connections
                problem, cause = f"{type(e).__name__}: {e}", e
            else:
                if response.is_success:
                    return self._json(response)
                problem, cause = f"HTTP {response.status_code}: {_excerpt(response.text)}", None
                if not _retryable(response.status_code):
                    raise GenerationFailed(f"{self.name}: {problem} (not retried)")
                retry_after = _retry_after(response)
            if attempt + 1 < attempts:
                wait = self._backoff(attempt, retry_after)
                logger.warning(
                    "generator.retry backend=openai model=%s attempt=%d problem=%r wait_s=%.2f",
                    self._model,
                    attempt + 1,
                    problem,
                    wait,
                )
                self._sleep(wait)
        raise GenerationFailed(f"{self.name}: {problem} after {attempts} attempt(s)") from cause

    def _json(self, response: httpx.Response) -> dict[str, Any]:
        try:
            body = response.json()
        except ValueError as e:
            raise GenerationFailed(
                f"{self.name}: HTTP {response.status_code} with a non-JSON body: {_excerpt(response.text)}"
            ) from e
        if not isinstance(body, dict):
            raise GenerationFailed(f"{self.name}: unexpected reply {_excerpt(response.text)}")
        return body

    def _backoff(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return min(retry_after, self._backoff_cap_s)
        # Full jitter: spreads the retries of many callers hitting a restarting server.
        return random.uniform(0, min(self._backoff_cap_s, self._backoff_s * 2**attempt))

    def _parse(self, body: dict[str, Any], latency: float) -> Generation:
        try:
            choice = body["choices"][0]
            content = choice["message"]["content"]
        except (KeyError, IndexError, TypeError) as e:
            raise GenerationFailed(f"{self.name}: no choices[0].message.content in the reply") from e
        if not isinstance(content, str):
            raise GenerationFailed(f"{self.name}: the reply has no text (content={type(content).__name__})")
        usage = body.get("usage") or {}
        extra: dict[str, object] = {"finish_reason": choice.get("finish_reason")}
        if "id" in body:
            extra["id"] = body["id"]
        return Generation(
            text=content.strip(),
            model=self.name,
            prompt_tokens=int(usage.get("prompt_tokens") or 0),
            completion_tokens=int(usage.get("completion_tokens") or 0),
            latency_s=latency,
            extra=extra,
        )


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:  # an HTTP date; fall back to our own backoff
        return None
