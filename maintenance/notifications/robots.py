"""The group robots on-duty staff in China read: WeCom (企业微信) group robot, DingTalk (钉钉)
custom robot and Feishu (飞书) custom bot, as channels beside webhook and e-mail. Each sends its
platform's documented message (markdown, or an interactive card), signs it where the robot is
set to (DingTalk and Feishu: timestamp + HMAC-SHA256 of the secret), keeps the robot's rate
limit (a message past it waits, never dropped) and reads the platform's error codes as
retry-later or final. docs/notifications.md has the payloads and the codes."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import quote_plus

import httpx

from ingest.redact import mask_text, mask_url
from maintenance.notifications.cards import Card, card, markdown
from maintenance.notifications.channels import DeliveryDeferred, DeliveryFailed
from maintenance.notifications.notifier import Notification
from maintenance.notifications.pacing import Pace

RobotKind = Literal["wecom", "dingtalk", "feishu"]
# What each platform documents for a custom robot: messages per window.
LIMITS: dict[str, tuple[tuple[int, float], ...]] = {
    "wecom": ((20, 60.0),),
    "dingtalk": ((20, 60.0),),
    "feishu": ((100, 60.0), (5, 1.0)),
}
# The platforms' answer codes (errcode / code): "later" = its rate limit (wait a minute),
# "retry" = a fault on its side, anything else unlisted = final (the robot refuses: a wrong
# key, secret, keyword, address or message; trying again cannot help).
CODES: dict[str, dict[int, str]] = {
    "wecom": {45009: "later", -1: "retry"},
    "dingtalk": {130101: "later", -1: "retry"},
    "feishu": {11232: "later", 2200: "retry"},
}
WAIT_S = 60.0  # a platform's "too fast" answer: its window is a minute


@dataclass(frozen=True, slots=True)
class Robot:
    kind: RobotKind
    url: str
    secret: str | None = None
    sites: tuple[str, ...] = ()  # empty: every site's notifications
    language: str = "zh-CN"
    zone: str = "Asia/Shanghai"
    limits: tuple[tuple[int, float], ...] = field(default=())


class RobotChannel:
    def __init__(
        self,
        robot: Robot,
        *,
        console_url: str | None,
        clock: Callable[[], float] = time.time,
        timeout_s: float = 5.0,
    ) -> None:
        self.robot, self.console_url, self.clock = robot, console_url, clock
        fingerprint = hashlib.sha256(f"{robot.url}|{robot.secret}".encode()).hexdigest()[:8]
        self.name = f"{robot.kind} {mask_url(robot.url)} #{fingerprint}"
        self.pace = Pace(robot.limits or LIMITS[robot.kind], clock)
        self._client = httpx.Client(timeout=timeout_s)

    def takes(self, notification: Notification) -> bool:
        return not self.robot.sites or notification.site in self.robot.sites

    def send(self, notification: Notification) -> None:
        wait = self.pace.wait_s()
        if wait > 0:
            limit = ", ".join(f"{n}/{per:g} s" for n, per in self.pace.limits)
            raise DeliveryDeferred(f"rate limit {limit}: queued", wait_s=wait)
        said = card(
            notification,
            language=self.robot.language,
            zone=self.robot.zone,
            console_url=self.console_url,
        )
        url, body = self._request(said)
        self.pace.taken()  # a refused message counts against the robot's limit too
        try:
            response = self._client.post(url, json=body)
        except httpx.HTTPError as error:
            raise DeliveryFailed(
                mask_text(f"{type(error).__name__}: {error}"), retry=True
            ) from None
        self._answer(response)

    def _request(self, c: Card) -> tuple[str, dict[str, Any]]:
        kind, secret = self.robot.kind, self.robot.secret
        if kind == "wecom":
            return self.robot.url, wecom_message(c)
        if kind == "dingtalk":
            url = self.robot.url
            if secret:
                timestamp, sign = dingtalk_sign(secret, int(self.clock() * 1000))
                url += ("&" if "?" in url else "?") + f"timestamp={timestamp}&sign={sign}"
            return url, dingtalk_message(c)
        body = feishu_message(c)
        if secret:
            timestamp = int(self.clock())
            body = {"timestamp": str(timestamp), "sign": feishu_sign(secret, timestamp), **body}
        return self.robot.url, body

    def _answer(self, response: httpx.Response) -> None:
        status = response.status_code
        if status == 429 or status >= 500:
            raise DeliveryFailed(f"HTTP {status}", retry=True)
        try:
            answer = response.json()
        except ValueError:
            answer = None
        if not isinstance(answer, dict):
            raise DeliveryFailed(f"HTTP {status}: {mask_text(response.text[:200])}", retry=False)
        code = answer.get("errcode", answer.get("code", answer.get("StatusCode")))
        message = answer.get("errmsg", answer.get("msg", answer.get("StatusMessage", "")))
        if status < 400 and code == 0:
            return
        reason = mask_text(f"HTTP {status}, code {code}: {message}"[:300])
        meaning = CODES[self.robot.kind].get(code) if isinstance(code, int) else None
        if meaning == "later":
            raise DeliveryDeferred(reason, wait_s=WAIT_S)
        raise DeliveryFailed(reason, retry=meaning == "retry")


def dingtalk_sign(secret: str, timestamp_ms: int) -> tuple[int, str]:
    """DingTalk's signed mode: Base64(HMAC-SHA256(key=secret, "<ms>\\n<secret>")), URL-encoded,
    sent as `timestamp` and `sign` query parameters (valid an hour)."""
    digest = hmac.new(
        secret.encode(), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256
    ).digest()
    return timestamp_ms, quote_plus(base64.b64encode(digest).decode())


def feishu_sign(secret: str, timestamp_s: int) -> str:
    """Feishu's signature: Base64(HMAC-SHA256(key="<s>\\n<secret>", empty message)), sent in
    the body beside `timestamp` (seconds)."""
    digest = hmac.new(f"{timestamp_s}\n{secret}".encode(), b"", hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def wecom_message(c: Card) -> dict[str, Any]:
    # WeCom's markdown takes at most 4096 bytes of content; its colours are font tags.
    text = markdown(c, red='<font color="warning">{}</font>')
    return {"msgtype": "markdown", "markdown": {"content": _bytes_at_most(text, 4096)}}


def dingtalk_message(c: Card) -> dict[str, Any]:
    # DingTalk shows `title` in the conversation list and `text` in the chat.
    return {"msgtype": "markdown", "markdown": {"title": c.title, "text": markdown(c)}}


def feishu_message(c: Card) -> dict[str, Any]:
    elements: list[dict[str, Any]] = [
        {"tag": "div", "text": {"tag": "lark_md", "content": c.text}},
        {
            "tag": "div",
            "fields": [
                {"is_short": True, "text": {"tag": "lark_md", "content": f"**{k}**\n{v}"}}
                for k, v in c.facts
            ],
        },
    ]
    if c.link:
        button = {
            "tag": "button",
            "text": {"tag": "plain_text", "content": c.link_text},
            "url": c.link,
            "type": "primary",
        }
        elements.append({"tag": "action", "actions": [button]})
    return {
        "msg_type": "interactive",
        "card": {
            "config": {"wide_screen_mode": True},
            "header": {
                "title": {"tag": "plain_text", "content": c.title},
                "template": "red" if c.urgent else "orange",
            },
            "elements": elements,
        },
    }


def _bytes_at_most(text: str, limit: int) -> str:
    data = text.encode()
    return text if len(data) <= limit else data[: limit - 3].decode(errors="ignore") + "..."


def robot_channels(robots: Sequence[Robot], *, console_url: str | None) -> list[RobotChannel]:
    return [RobotChannel(robot, console_url=console_url) for robot in robots]
