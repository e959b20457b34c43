"""Where notifications go. A channel sends one notification or raises DeliveryFailed, saying
whether trying again could help (a receiver that is down: yes; one that refuses: no)."""

from __future__ import annotations

import hashlib
import smtplib
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Protocol
from urllib.parse import parse_qs, unquote, urlsplit

import httpx

from ingest.redact import mask_text, mask_url
from maintenance.notifications.cards import card
from maintenance.notifications.notifier import Notification


def _plain_mail(notification: Notification) -> tuple[str, str]:
    first = notification.message.splitlines()[0] if notification.message else ""
    ref = []
    if notification.ticket_id is not None:
        ref.append(f"Ticket: {notification.ticket_id}")
    if notification.alarm_id is not None:
        ref.append(f"Alarm: {notification.alarm_id}")
    body = "\n".join([notification.message, "", f"For: {notification.recipient}", *ref])
    return f"{notification.kind}: {first}", body


class DeliveryFailed(Exception):
    def __init__(self, reason: str, *, retry: bool) -> None:
        self.reason, self.retry = reason, retry
        super().__init__(reason)


class DeliveryDeferred(DeliveryFailed):
    """Not now, and not a failure: the receiver's rate limit. The delivery waits `wait_s` and
    keeps its attempts (a robot's 20 a minute queue, they never drop)."""

    def __init__(self, reason: str, *, wait_s: float) -> None:
        super().__init__(reason, retry=True)
        self.wait_s = wait_s


class Channel(Protocol):
    name: str

    def send(self, notification: Notification) -> None: ...


def as_payload(n: Notification) -> dict[str, object]:
    return {
        "kind": n.kind,
        "recipient": n.recipient,
        "ticket_id": n.ticket_id,
        "alarm_id": n.alarm_id,
        "message": n.message,
    }


class WebhookChannel:
    """POSTs the notification as JSON. Timeouts, connection errors, 429 and 5xx are retried;
    any other 4xx is the receiver refusing it, for good."""

    def __init__(self, url: str, timeout_s: float = 5.0) -> None:
        self.url = url
        # The name is shown (delivery log, logs): the URL masked, with a fingerprint of the
        # whole URL so that two webhooks that differ only in a hidden token stay apart.
        fingerprint = hashlib.sha256(url.encode()).hexdigest()[:8]
        self.name = f"webhook {mask_url(url)} #{fingerprint}"
        self.former_names = (f"webhook {url}",)  # deliveries queued by an older version
        self._client = httpx.Client(timeout=timeout_s)

    def send(self, notification: Notification) -> None:
        try:
            response = self._client.post(self.url, json=as_payload(notification))
        except httpx.HTTPError as error:
            reason = mask_text(f"{type(error).__name__}: {error}")
            raise DeliveryFailed(reason, retry=True) from None
        if response.status_code >= 400:
            retry = response.status_code == 429 or response.status_code >= 500
            text = mask_text(response.text[:200])
            raise DeliveryFailed(f"HTTP {response.status_code}: {text}", retry=retry)


@dataclass(frozen=True, slots=True)
class SmtpServer:
    host: str
    port: int
    username: str | None
    password: str | None
    starttls: bool
    ssl: bool

    @classmethod
    def from_url(cls, url: str) -> SmtpServer:
        """smtp://[user:pass@]host[:port][?starttls=true] or smtps://... (TLS from the start)."""
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps"):
            raise ValueError(f"SMTP URL must start with smtp:// or smtps://, got {mask_url(url)!r}")
        query = parse_qs(parts.query)
        return cls(
            host=parts.hostname or "127.0.0.1",
            port=parts.port or (465 if parts.scheme == "smtps" else 25),
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            starttls=query.get("starttls", ["false"])[0].lower() == "true",
            ssl=parts.scheme == "smtps",
        )


class EmailChannel:
    """One e-mail per notification. Connection problems and 4xx replies are retried; 5xx
    (a recipient refused, a message rejected) is final."""

    def __init__(
        self,
        server: SmtpServer,
        sender: str,
        to: list[str],
        timeout_s: float = 10.0,
        *,
        language: str | None = None,
        zone: str = "UTC",
    ):
        """`language` (en, zh-CN): the mail is the card the robots send, in that language and
        zone; None: the message as it was raised, the kind as its name."""
        self.server, self.sender, self.to, self.timeout_s = server, sender, to, timeout_s
        self.language, self.zone = language, zone
        self.name = f"email {','.join(to)}"

    def send(self, notification: Notification) -> None:
        message = EmailMessage()
        message["From"] = self.sender
        message["To"] = ", ".join(self.to)
        if self.language is None:
            subject, body = _plain_mail(notification)
        else:
            said = card(notification, language=self.language, zone=self.zone, console_url=None)
            subject = f"{said.title}: {said.text}"
            body = "\n".join([said.text, "", *(f"{k}: {v}" for k, v in said.facts)])
        message["Subject"] = f"[facility] {subject}"[:200]
        message.set_content(body)
        s = self.server
        factory = smtplib.SMTP_SSL if s.ssl else smtplib.SMTP
        try:
            with factory(s.host, s.port, timeout=self.timeout_s) as smtp:
                if s.starttls:
                    smtp.starttls()
                if s.username:
                    smtp.login(s.username, s.password or "")
                smtp.send_message(message)
        except smtplib.SMTPResponseException as error:
            retry = 400 <= error.smtp_code < 500
            raise DeliveryFailed(
                f"SMTP {error.smtp_code}: {error.smtp_error!r}", retry=retry
            ) from None
        except smtplib.SMTPRecipientsRefused as error:
            codes = [code for code, _ in error.recipients.values()]
            retry = all(400 <= code < 500 for code in codes)
            raise DeliveryFailed(f"recipients refused: {error.recipients!r}", retry=retry) from None
        except (TimeoutError, OSError, smtplib.SMTPException) as error:
            raise DeliveryFailed(f"{type(error).__name__}: {error}", retry=True) from None
