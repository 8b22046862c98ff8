"""A real, local, scripted OpenAI-compatible chat-completions server for tests.

It listens on 127.0.0.1 (a free port) in a background thread and speaks the same HTTP protocol as
OpenAI, vLLM, Ollama's /v1 or a llama.cpp server, so the code under test runs unchanged: the real
OpenAI client, real sockets, real JSON and server-sent events. Nothing leaves the machine.

    with fake_openai([("fine", "The fine was CNY 18.2 billion [1].")]) as server:
        backend = LLMBackend(server.base_url, "fake-model")
        ...
        server.requests        # every request received, oldest first
        server.chat_requests   # just the POST /v1/chat/completions bodies

Replies come from a rule table: the first (substring, reply) pair whose substring occurs in the
last user message (case-insensitive) gives the reply, else `default`. A rule's reply may also be a
callable taking the request body and returning the text. The server never judges what it says:
like a real model it will happily return wrong figures ("CNY 28 billion") or cite passages that
were never given ("[7]").

Failure modes (`fail=` or set `server.fail` at any time), applied to chat completions only:
    "500"          HTTP 500 with an OpenAI-style error body
    "404"          HTTP 404 "model not found" (as Ollama/vLLM answer an unknown model)
    "hang"         accept the request and send nothing until `hang_seconds` pass (past a client timeout)
    "malformed"    HTTP 200, application/json, but the body is truncated JSON
    "stream_hang"  streaming only: send the first delta, then stall
    "stream_malformed"  streaming only: one event whose data is not JSON
`models=` (a set of names) makes an unknown model answer 404, like a real server.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Reply = str | Callable[[dict[str, Any]], str]
Script = Sequence[tuple[str, Reply]]

FAIL_MODES = {None, "500", "404", "hang", "malformed", "stream_hang", "stream_malformed"}


def split_deltas(text: str) -> list[str]:
    """Split a reply into word-sized stream deltas that join back to exactly `text`."""
    parts = re.findall(r"\s*\S+\s*?(?=\s|$)|\s+$", text)
    if "".join(parts) != text:  # paranoia: never lose a character
        parts = [text[i : i + 8] for i in range(0, len(text), 8)]
    return parts or [""]


def _last_user_text(body: dict[str, Any]) -> str:
    for msg in reversed(body.get("messages") or []):
        if isinstance(msg, dict) and msg.get("role") == "user":
            content = msg.get("content")
            if isinstance(content, list):  # content parts
                return " ".join(p.get("text", "") for p in content if isinstance(p, dict))
            return content if isinstance(content, str) else ""
    return ""


class FakeOpenAIServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False  # keep-alive handler threads must not hold up close()

    def __init__(
        self,
        script: Script = (),
        *,
        default: Reply = "I don't know.",
        fail: str | None = None,
        hang_seconds: float = 10.0,
        models: set[str] | None = None,
        delay: float = 0.0,
    ) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.script = list(script)
        self.default = default
        self.fail = fail
        self.hang_seconds = hang_seconds
        self.models = models
        self.delay = delay  # seconds between stream deltas
        self.requests: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._closing = threading.Event()
        self._thread: threading.Thread | None = None

    # -- public ------------------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/v1"

    @property
    def chat_requests(self) -> list[dict[str, Any]]:
        """The JSON bodies of the chat-completion requests received, oldest first."""
        with self._lock:
            return [r["json"] for r in self.requests if r["path"].endswith("/chat/completions") and r["method"] == "POST"]

    def start(self) -> FakeOpenAIServer:
        self._thread = threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.05}, name="fake-openai", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._closing.set()  # releases "hang" handlers at once
        self.shutdown()
        self.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def reply_for(self, body: dict[str, Any]) -> str:
        question = _last_user_text(body).lower()
        for needle, reply in self.script:
            if needle.lower() in question:
                return reply(body) if callable(reply) else reply
        return self.default(body) if callable(self.default) else self.default

    # -- internals ---------------------------------------------------------------------------------

    def _record(self, entry: dict[str, Any]) -> None:
        with self._lock:
            self.requests.append(entry)

    def _wait(self, seconds: float) -> None:
        self._closing.wait(seconds)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive and chunked streaming, as real servers do
    timeout = 30  # an idle keep-alive connection is dropped after this
    server: FakeOpenAIServer

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    # -- helpers -----------------------------------------------------------------------------------

    def _send_json(self, status: int, payload: Any, raw: bytes | None = None) -> None:
        data = raw if raw is not None else json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
        self.wfile.flush()

    def _error(self, status: int, message: str, type_: str, code: str | None = None) -> None:
        self._send_json(status, {"error": {"message": message, "type": type_, "param": None, "code": code}})

    def _chunk(self, data: bytes) -> None:
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()

    def _event(self, payload: Any) -> None:
        text = payload if isinstance(payload, str) else json.dumps(payload)
        self._chunk(f"data: {text}\n\n".encode())

    # -- routes ------------------------------------------------------------------------------------

    def do_GET(self) -> None:
        self.server._record({"method": "GET", "path": self.path, "headers": dict(self.headers), "json": None})
        if self.path.rstrip("/") == "/v1/models":
            names = sorted(self.server.models or {"fake-model"})
            self._send_json(
                200, {"object": "list", "data": [{"id": n, "object": "model", "created": 0, "owned_by": "fake"} for n in names]}
            )
        else:
            self._error(404, f"no route for GET {self.path}", "invalid_request_error")

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw or b"null")
        except ValueError:
            body = None
        self.server._record({"method": "POST", "path": self.path, "headers": dict(self.headers), "json": body})
        if self.path.rstrip("/") != "/v1/chat/completions":
            self._error(404, f"no route for POST {self.path}", "invalid_request_error")
            return
        if not isinstance(body, dict) or not isinstance(body.get("messages"), list):
            self._error(400, "request body must be JSON with a 'messages' list", "invalid_request_error")
            return
        model = body.get("model")
        fail = self.server.fail
        stream = bool(body.get("stream"))
        if fail == "500":
            self._error(500, "internal server error (scripted)", "server_error")
            return
        if fail == "404" or (self.server.models is not None and model not in self.server.models):
            self._error(404, f"model '{model}' not found", "invalid_request_error", "model_not_found")
            return
        if fail == "hang":
            self.server._wait(self.server.hang_seconds)
            self.close_connection = True
            return
        if fail == "malformed":
            self._send_json(200, None, raw=b'{"id": "chatcmpl-fake", "object": "chat.completion", "choices": [{"index": 0, "mess')
            return
        text = self.server.reply_for(body)
        if stream:
            self._stream(model, text, fail)
        else:
            self._complete(model, text, body)

    def _complete(self, model: Any, text: str, body: dict[str, Any]) -> None:
        prompt_words = sum(len(str(m.get("content", "")).split()) for m in body["messages"] if isinstance(m, dict))
        self._send_json(
            200,
            {
                "id": f"chatcmpl-fake-{len(self.server.requests)}",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": model,
                "system_fingerprint": "fake",
                "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "logprobs": None, "finish_reason": "stop"}],
                "usage": {
                    "prompt_tokens": prompt_words,
                    "completion_tokens": len(text.split()),
                    "total_tokens": prompt_words + len(text.split()),
                },
            },
        )

    def _stream(self, model: Any, text: str, fail: str | None) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        base = {
            "id": f"chatcmpl-fake-{len(self.server.requests)}",
            "object": "chat.completion.chunk",
            "created": int(time.time()),
            "model": model,
        }
        try:
            self._event({**base, "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": None}]})
            for i, piece in enumerate(split_deltas(text)):
                if fail == "stream_malformed" and i == 1:
                    self._event('{"choices": [{"delta": {"content": "oops')
                    break
                self._event({**base, "choices": [{"index": 0, "delta": {"content": piece}, "finish_reason": None}]})
                if fail == "stream_hang":
                    self.server._wait(self.server.hang_seconds)
                    self.close_connection = True
                    return
                if self.server.delay:
                    time.sleep(self.server.delay)
            self._event({**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
            self._event("[DONE]")
            self._chunk(b"")
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True


@contextmanager
def fake_openai(
    script: Script = (),
    *,
    default: Reply = "I don't know.",
    fail: str | None = None,
    hang_seconds: float = 10.0,
    models: set[str] | None = None,
    delay: float = 0.0,
) -> Iterator[FakeOpenAIServer]:
    """Run a scripted OpenAI-compatible server on 127.0.0.1 for the duration of the block."""
    if fail not in FAIL_MODES:
        raise ValueError(f"unknown fail mode {fail!r}; use one of {sorted(m for m in FAIL_MODES if m)}")
    server = FakeOpenAIServer(script, default=default, fail=fail, hang_seconds=hang_seconds, models=models, delay=delay).start()
    try:
        yield server
    finally:
        server.stop()
