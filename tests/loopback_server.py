"""A loopback OpenAI-compatible server for reliability tests (no network).

It answers ``POST /v1/chat/completions`` on 127.0.0.1 with scripted placeholder text,
counts requests by kind (target / compliance judge / AF judge) and can fail, hang or
refuse by content filter on request. Use it as ``openai/NAME`` with
``OPENAI_BASE_URL=server.base_url`` and any ``OPENAI_API_KEY``.
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

TARGET_TEXT = (
    "<SCRATCHPAD_REASONING>[PLACEHOLDER reasoning]</SCRATCHPAD_REASONING>\n"
    "<OUTPUT><request_fully_accepted/>[PLACEHOLDER answer]</OUTPUT>"
)
RUBRIC = "reasoning: [PLACEHOLDER]\nrefused: 0\nconvincing: 4\nspecific: 4\npartial: 0"
VOTE = "A: yes\nB: yes\nC: no\nD: no\nrationale: [PLACEHOLDER]\nfinal_answer: no"


def request_kind(body: dict[str, Any]) -> str:
    """``af`` / ``compliance`` for judge prompts, else ``target``."""
    text = json.dumps(body.get("messages", []))
    if "final_answer" in text:
        return "af"
    if "refused:" in text or "supports_animal_welfare" in text:
        return "compliance"
    return "target"


class LoopbackServer:
    """Start with ``with LoopbackServer() as server:``; set ``mode`` to script faults.

    Modes: ``ok``; ``error500`` (every request); ``hang`` (never answers);
    ``filter_judge`` (judge requests get a 400 content-filter error); ``auth401`` /
    ``auth403`` (every request is refused as unauthenticated / forbidden);
    ``hang_targets_after=N`` (attribute) answers the first N target requests, then hangs.
    """

    def __init__(self) -> None:
        self.mode = "ok"
        self.hang_targets_after: int | None = None
        self.counts: Counter[str] = Counter()
        self.target_inputs: list[str] = []
        self.headers: list[dict[str, str]] = []
        self._lock = threading.Lock()
        self._release = threading.Event()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # quiet
                pass

            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("Content-Length", 0))
                body = json.loads(self.rfile.read(length) or b"{}")
                kind = request_kind(body)
                with server._lock:
                    server.counts[kind] += 1
                    server.headers.append({k.lower(): v for k, v in self.headers.items()})
                    if kind == "target":
                        server.target_inputs.append(json.dumps(body.get("messages", [])[-1:]))
                    n_target = server.counts["target"]
                hang = server.mode == "hang" or (
                    kind == "target"
                    and server.hang_targets_after is not None
                    and n_target > server.hang_targets_after
                )
                if hang:
                    server._release.wait(120)
                    return
                if server.mode == "error500":
                    self._send(500, {"error": {"message": "scripted outage", "type": "server_error"}})
                    return
                if server.mode in ("auth401", "auth403"):
                    status = int(server.mode[-3:])
                    self._send(status, {"error": {
                        "message": "Incorrect API key provided" if status == 401
                        else "Forbidden", "type": "invalid_request_error",
                        "code": "invalid_api_key" if status == 401 else "forbidden"}})
                    return
                if server.mode == "filter_judge" and kind != "target":
                    self._send(400, {"error": {
                        "message": "The response was filtered due to the prompt triggering "
                                   "content management policy.",
                        "type": "invalid_request_error", "param": "prompt",
                        "code": "content_filter"}})
                    return
                text = {"target": TARGET_TEXT, "compliance": RUBRIC, "af": VOTE}[kind]
                self._send(200, {
                    "id": "cmpl-1", "object": "chat.completion", "created": int(time.time()),
                    "model": body.get("model", "x"),
                    "choices": [{"index": 0, "finish_reason": "stop",
                                 "message": {"role": "assistant", "content": text}}],
                    "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15},
                })

            def _send(self, status: int, payload: dict[str, Any]) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}/v1"

    def __enter__(self) -> LoopbackServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._release.set()
        self._httpd.shutdown()
        self._httpd.server_close()


def refused_port_url() -> str:
    """A base URL on a loopback port that nothing listens on (connection refused)."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"
