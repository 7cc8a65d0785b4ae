"""A local fake of the Coze OpenAPI knowledge-base endpoints (a real HTTP server on 127.0.0.1).

It follows the wire format cozepy 0.20 speaks: ``{"code", "msg", ...}`` envelopes, ``document_infos`` on
document create and list, ``data.data`` on dataset process, the ``Agw-Js-Conv: str`` header on document
calls (so int64 fields come back as strings), bearer auth.
"""

from __future__ import annotations

import base64
import itertools
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

DOCUMENT_PATHS = {
    "/open_api/knowledge/document/create",
    "/open_api/knowledge/document/list",
    "/open_api/knowledge/document/delete",
}


@dataclass
class FakeDocument:
    """A stored document and how many more polls it stays 'processing'."""

    document_id: str
    name: str
    content: str
    polls_left: int = 1


@dataclass
class FakeCozeState:
    """What the fake holds and saw (tests assert on it)."""

    token: str
    dataset_id: str
    documents: dict[str, FakeDocument] = field(default_factory=dict)
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    chunk_strategies: list[Any] = field(default_factory=list)
    fail_names: set[str] = field(default_factory=set)
    jwt_public_keys: dict[str, str] = field(default_factory=dict)  # kid -> PEM, for OAuth JWT apps
    ids: itertools.count = field(default_factory=lambda: itertools.count(7_400_000_000_000_000_001))


def _document_info(doc: FakeDocument, status: int) -> dict[str, Any]:
    # Agw-Js-Conv: str turns every int64 into a string, ids and counters alike
    return {
        "document_id": doc.document_id,
        "char_count": str(len(doc.content)),
        "format_type": 0,
        "hit_count": "0",
        "name": doc.name,
        "size": str(len(doc.content.encode("utf-8"))),
        "slice_count": "1",
        "source_type": 0,
        "status": status,
        "type": "txt",
        "update_interval": 24,
        "update_type": 0,
        "create_time": "1764201600",
        "update_time": "1764201600",
    }


class _Handler(BaseHTTPRequestHandler):
    state: FakeCozeState

    def log_message(self, format: str, *args: Any) -> None:  # keep test output clean
        pass

    def _reply(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("x-tt-logid", "fake-logid")
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self) -> None:
        state = self.state
        length = int(self.headers.get("Content-Length", "0"))
        body = json.loads(self.rfile.read(length) or b"{}")
        path = self.path.split("?")[0]
        state.calls.append((path, body))
        if path == "/api/permission/oauth2/token":
            self._oauth_token(body)
            return
        if self.headers.get("Authorization") != f"Bearer {state.token}":
            self._reply(401, {"code": 4100, "msg": "authentication is invalid"})
            return
        if path in DOCUMENT_PATHS and self.headers.get("Agw-Js-Conv") != "str":
            self._reply(400, {"code": 4000, "msg": "missing Agw-Js-Conv header"})
            return
        if path == "/open_api/knowledge/document/create":
            self._create(body)
        elif path == "/open_api/knowledge/document/list":
            self._list(body)
        elif path == "/open_api/knowledge/document/delete":
            for doc_id in body["document_ids"]:
                state.documents.pop(str(doc_id), None)
            self._reply(200, {"code": 0, "msg": ""})
        elif path == f"/v1/datasets/{state.dataset_id}/process":
            self._process(body)
        else:
            self._reply(404, {"code": 4004, "msg": f"no route {path}"})

    def _oauth_token(self, body: dict[str, Any]) -> None:
        """JWT bearer grant: verify the app's RS256 JWT against its registered public key."""
        from authlib.jose import jwt
        from authlib.jose.errors import JoseError

        assertion = self.headers.get("Authorization", "").removeprefix("Bearer ")
        try:
            header = json.loads(base64.urlsafe_b64decode(assertion.split(".")[0] + "=="))
            claims = jwt.decode(assertion, self.state.jwt_public_keys[header["kid"]])
            claims.validate()
        except (JoseError, KeyError, ValueError) as e:
            self._reply(401, {"error_code": "invalid_client", "error_message": f"bad JWT: {e}"})
            return
        if body.get("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer":
            self._reply(400, {"error_code": "invalid_request", "error_message": "unsupported grant_type"})
            return
        expires = int(time.time()) + int(body.get("duration_seconds", 900))
        self._reply(200, {"access_token": self.state.token, "expires_in": expires, "token_type": "Bearer"})

    def _create(self, body: dict[str, Any]) -> None:
        state = self.state
        if body.get("dataset_id") != state.dataset_id:
            self._reply(200, {"code": 1002, "msg": "dataset not found"})
            return
        bases = body.get("document_bases") or []
        if not 1 <= len(bases) <= 10:
            self._reply(200, {"code": 4000, "msg": "document_bases must hold 1 to 10 documents"})
            return
        state.chunk_strategies.append(body.get("chunk_strategy"))
        infos = []
        for base in bases:
            content = base64.b64decode(base["source_info"]["file_base64"]).decode("utf-8")
            doc = FakeDocument(str(next(state.ids)), base["name"], content)
            state.documents[doc.document_id] = doc
            infos.append(_document_info(doc, 0))
        self._reply(200, {"code": 0, "msg": "", "document_infos": infos})

    def _list(self, body: dict[str, Any]) -> None:
        docs = list(self.state.documents.values())
        page, size = int(body.get("page", 1)), int(body.get("size", 10))
        chosen = docs[(page - 1) * size : page * size]
        infos = [_document_info(d, 1) for d in chosen]
        self._reply(200, {"code": 0, "msg": "", "document_infos": infos, "total": len(docs)})

    def _process(self, body: dict[str, Any]) -> None:
        progress = []
        for doc_id in body.get("document_ids", []):
            doc = self.state.documents.get(str(doc_id))
            if doc is None:
                continue
            if doc.name in self.state.fail_names:
                status = 9
            elif doc.polls_left > 0:
                doc.polls_left -= 1
                status = 0
            else:
                status = 1
            progress.append(
                {
                    "document_id": doc.document_id,
                    "document_name": doc.name,
                    "status": status,
                    "progress": 100 if status == 1 else 50,
                    "update_type": 0,
                    "size": len(doc.content),
                    "type": "txt",
                }
            )
        self._reply(200, {"code": 0, "msg": "", "data": {"data": progress}})


class FakeCozeServer:
    """Runs the fake in a daemon thread; use as a context manager, read ``base_url`` and ``state``."""

    def __init__(self, *, token: str = "pat_test_token", dataset_id: str = "7500000000000000001") -> None:
        self.state = FakeCozeState(token=token, dataset_id=dataset_id)
        handler = type("Handler", (_Handler,), {"state": self.state})
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> FakeCozeServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
