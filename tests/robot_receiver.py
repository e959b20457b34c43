"""A group robot's endpoint on loopback, as each platform documents it: WeCom's group robot,
DingTalk's custom robot, Feishu's custom bot. It checks the address's key or token, the
signature (DingTalk: `timestamp`/`sign` query, Feishu: in the body; both within an hour of
its clock), the message's documented shape, DingTalk's 20 a minute, and answers with the
platform's own codes. Answers can be scripted to test how the service reads them."""

from __future__ import annotations

import base64
import hashlib
import hmac
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import orjson

from tests.servers import free_port

TOKEN = "0f1e2d3c-robot-token"
OK = {
    "wecom": {"errcode": 0, "errmsg": "ok"},
    "dingtalk": {"errcode": 0, "errmsg": "ok"},
    "feishu": {"code": 0, "msg": "success", "data": {}},
}
MESSAGES = {  # the platforms' words for their codes
    45009: "api freq out of limit",
    -1: "system busy",
    93000: "invalid webhook url",
    44004: "empty content",
    40058: "markdown.content exceed max length 4096",
    130101: "send too fast, exceed 20 times per minute",
    310000: "sign not match",
    300001: "token is not exist",
    11232: "frequency limited psm",
    19021: "sign match fail or timestamp is not within one hour from current time",
    9499: "Bad Request",
}
PATHS = {
    "wecom": "/cgi-bin/webhook/send",
    "dingtalk": "/robot/send",
    "feishu": f"/open-apis/bot/v2/hook/{TOKEN}",
}


class RobotReceiver:
    def __init__(
        self,
        kind: str,
        *,
        secret: str | None = None,
        clock: Callable[[], float],
        scripted: list[int] | None = None,
    ) -> None:
        self.kind, self.secret, self.clock = kind, secret, clock
        self.scripted = list(scripted or [])  # codes answered first, one a request
        self.accepted: list[dict[str, Any]] = []
        self.refused: list[int] = []
        self._sent_at: list[float] = []  # DingTalk's window, by the request's own timestamp
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                with receiver._lock:
                    status, answer = receiver.answer(self.path, body)
                data = orjson.dumps(answer)
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        base = f"http://127.0.0.1:{self.server.server_port}{PATHS[kind]}"
        self.url = {
            "wecom": f"{base}?key={TOKEN}",
            "dingtalk": f"{base}?access_token={TOKEN}",
            "feishu": base,
        }[kind]

    def close(self) -> None:
        self.server.shutdown()

    def answer(self, path: str, raw: bytes) -> tuple[int, dict[str, Any]]:
        parts = urlsplit(path)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        if parts.path != PATHS[self.kind]:
            return 404, {"error": "no such path"}
        try:
            body = orjson.loads(raw)
        except orjson.JSONDecodeError:
            return self._code(9499 if self.kind == "feishu" else 40058)
        code = getattr(self, f"_check_{self.kind}")(query, body)
        if code == 0 and self.scripted:
            code = self.scripted.pop(0)
        if code:
            return self._code(code)
        self.accepted.append(body)
        return 200, OK[self.kind]

    def _code(self, code: int) -> tuple[int, dict[str, Any]]:
        self.refused.append(code)
        if self.kind == "feishu":
            return 200, {"code": code, "msg": MESSAGES[code], "data": {}}
        return 200, {"errcode": code, "errmsg": MESSAGES[code]}

    def _check_wecom(self, query: dict[str, str], body: Any) -> int:
        if query.get("key") != TOKEN:
            return 93000
        content = (
            body.get("markdown", {}).get("content") if body.get("msgtype") == "markdown" else None
        )
        if not isinstance(content, str) or not content:
            return 44004
        return 40058 if len(content.encode()) > 4096 else 0

    def _check_dingtalk(self, query: dict[str, str], body: Any) -> int:
        if query.get("access_token") != TOKEN:
            return 300001
        if self.secret is not None:
            stamp = query.get("timestamp", "")
            if not stamp.isdigit() or abs(self.clock() * 1000 - int(stamp)) > 3_600_000:
                return 310000
            string = f"{stamp}\n{self.secret}".encode()
            digest = hmac.new(self.secret.encode(), string, hashlib.sha256).digest()
            if query.get("sign") != base64.b64encode(digest).decode():  # parse_qs decoded it
                return 310000
            at = int(stamp) / 1000
        else:
            at = self.clock()
        markdown = body.get("markdown") if body.get("msgtype") == "markdown" else None
        if not (isinstance(markdown, dict) and markdown.get("title") and markdown.get("text")):
            return 40058
        self._sent_at = [t for t in self._sent_at if at - t < 60] + [at]
        return 130101 if len(self._sent_at) > 20 else 0

    def _check_feishu(self, query: dict[str, str], body: Any) -> int:
        if self.secret is not None:
            stamp = str(body.get("timestamp", ""))
            if not stamp.isdigit() or abs(self.clock() - int(stamp)) > 3600:
                return 19021
            key = f"{stamp}\n{self.secret}".encode()
            expected = base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode()
            if body.get("sign") != expected:
                return 19021
        card = body.get("card") if body.get("msg_type") == "interactive" else None
        if not isinstance(card, dict):
            return 9499
        title = card.get("header", {}).get("title", {})
        if title.get("tag") != "plain_text" or not title.get("content"):
            return 9499
        return 0 if isinstance(card.get("elements"), list) and card["elements"] else 9499
