"""An OpenAI-compatible chat-completions server on 127.0.0.1, for tests of the ``openai`` backend.

It speaks the same wire format as vLLM / LMDeploy / Ollama (``POST /v1/chat/completions``), over a
real socket with HTTP/1.1 keep-alive. Replies come from, in order: a script of canned responses
(status codes, delays, headers), then a backing ``Generator`` (e.g. the tiny GLM behind a
``TransformersGenerator``, which makes this a miniature vLLM), else an echo of the last user turn.
Every request is recorded, and the most requests ever in flight at once is counted.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

from models.ports import ChatMessage, Generator


@dataclass(frozen=True)
class Canned:
    """One scripted reply: ``body`` None means "answer normally" (after ``delay_s``)."""

    status: int = 200
    body: dict[str, Any] | str | None = None
    delay_s: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Recorded:
    """One request as the server received it."""

    path: str
    headers: dict[str, str]
    body: dict[str, Any]
    client_port: int


class FakeOpenAIServer:
    """A threaded HTTP server speaking the chat-completions wire format.

    Args:
        generator: Answers requests not covered by the script; ``None`` echoes the last user turn.
        delay_s: Delay before every normal answer (to hold requests in flight).

    Use as a context manager; ``base_url`` is ``http://127.0.0.1:<port>/v1``.
    """

    def __init__(self, generator: Generator | None = None, *, delay_s: float = 0.0) -> None:
        self.generator = generator
        self.delay_s = delay_s
        self.script: deque[Canned] = deque()
        self.requests: list[Recorded] = []
        self.max_in_flight = 0
        self._in_flight = 0
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.05,), daemon=True)

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>/v1``."""
        return f"http://127.0.0.1:{self._httpd.server_address[1]}/v1"

    def __enter__(self) -> FakeOpenAIServer:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stopping.set()  # releases handlers still sleeping in a delay
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def _answer(self, body: dict[str, Any]) -> dict[str, Any]:
        messages = [ChatMessage(m["role"], m["content"]) for m in body["messages"]]
        if self.generator is not None:
            result = self.generator.generate(
                messages,
                max_new_tokens=int(body.get("max_tokens", 256)),
                temperature=float(body.get("temperature", 0.0)),
            )
            text, prompt_tokens, completion_tokens = (
                result.text,
                result.prompt_tokens,
                result.completion_tokens,
            )
        else:
            text = "收到：" + next(m.content for m in reversed(messages) if m.role == "user")
            prompt_tokens = sum(len(m.content) for m in messages)
            completion_tokens = len(text)
        return {
            "id": f"chatcmpl-{len(self.requests)}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": body.get("model", ""),
            "choices": [
                {"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}
            ],
            "usage": {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": completion_tokens,
                "total_tokens": prompt_tokens + completion_tokens,
            },
        }

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("Content-Length", "0"))
        raw = handler.rfile.read(length)
        with self._lock:
            self._in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self._in_flight)
            body = json.loads(raw) if raw else {}
            self.requests.append(
                Recorded(handler.path, dict(handler.headers.items()), body, handler.client_address[1])
            )
            canned = self.script.popleft() if self.script else Canned(delay_s=self.delay_s)
        try:
            if canned.delay_s:
                self._stopping.wait(canned.delay_s)
            reply: dict[str, Any] | str
            if handler.path != "/v1/chat/completions":
                status, reply = 404, {"error": {"message": f"no route {handler.path}"}}
            elif canned.body is None and canned.status == 200:
                status, reply = 200, self._answer(body)
            else:
                status, reply = canned.status, canned.body if canned.body is not None else {}
            data = (reply if isinstance(reply, str) else json.dumps(reply, ensure_ascii=False)).encode()
            handler.send_response(status)
            for name, value in canned.headers.items():
                handler.send_header(name, value)
            handler.send_header("Content-Type", "application/json")
            handler.send_header("Content-Length", str(len(data)))
            handler.end_headers()
            handler.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up (timeout)
            handler.close_connection = True
        finally:
            with self._lock:
                self._in_flight -= 1


def _handler_for(server: FakeOpenAIServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as real servers do

        def do_POST(self) -> None:
            server._handle(self)

        def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
            pass

    return Handler
