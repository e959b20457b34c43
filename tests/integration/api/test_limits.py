"""Requests bounded before they are read (api/limits.py), on a real uvicorn over raw sockets so
that what the server reads is visible: a caller without a valid credential gets its 401 while
most of its 200 MB body is still unsent; a known caller's oversized body gets a 413 at once
(Content-Length) or as soon as it passes the route's limit (chunked); an attachment upload stops
at the attachment limit and leaves nothing on disk."""

from __future__ import annotations

import socket
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import orjson
import pytest
from fastapi.testclient import TestClient

from api.auth import NOT_AUTHENTICATED
from api.main import create_app
from api.runtime import Runtime
from tests.helpers import api_key, quiet_service, serving
from tests.servers import Postgres

MIB = 1024 * 1024
HUGE = 200 * MIB
# What the kernel's socket buffers on both sides can hold of a body nobody reads (loopback
# autotuning reaches a few MiB): the bound on what a client gets to send before its answer.
BUFFERED = 16 * MIB
PNG = b"\x89PNG\r\n\x1a\n"


@dataclass
class Service:
    runtime: Runtime
    base: str

    def key(self, role: str = "admin") -> str:
        return api_key(self.runtime.database, role)


@pytest.fixture
def service(postgres_server: Postgres, tmp_path: Path) -> Iterator[Service]:
    with quiet_service(
        tmp_path / "state",
        admin_password="the admin's long password",
        database_url=postgres_server.create_database(f"l_{uuid.uuid4().hex[:12]}"),
    ) as runtime:
        with serving(create_app(runtime)) as base:
            yield Service(runtime, base)


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes
    sent: int  # body bytes the client got to send before the answer was complete

    def json(self) -> object:
        return orjson.loads(self.body)


def send(base: str, head: str, body: Iterator[bytes], *, timeout_s: float = 30.0) -> Answer:
    """Send a request's head, then its body from a second thread for as long as the server
    takes it, while this thread reads the answer; the body stops when the answer is in."""
    address = urlsplit(base)
    sock = socket.create_connection((address.hostname, address.port))
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 64 * 1024)
    sock.sendall(head.encode())
    sent = 0
    answered = threading.Event()

    def pump() -> None:
        nonlocal sent
        try:
            for chunk in body:
                if answered.is_set():
                    return
                sock.sendall(chunk)
                sent += len(chunk)
        except OSError:  # the server closed the connection after answering
            return

    sender = threading.Thread(target=pump, daemon=True)
    sender.start()
    sock.settimeout(timeout_s)
    raw = b""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        head_end = raw.find(b"\r\n\r\n")
        if head_end >= 0:
            lines = raw[:head_end].decode().split("\r\n")
            headers = {k.lower(): v.strip() for k, _, v in (h.partition(":") for h in lines[1:])}
            length = int(headers.get("content-length", "0"))
            if len(raw) >= head_end + 4 + length:
                answered.set()
                sent_then = sent
                sock.close()
                sender.join(5)
                return Answer(
                    int(lines[0].split()[1]),
                    headers,
                    raw[head_end + 4 : head_end + 4 + length],
                    sent_then,
                )
        chunk = sock.recv(65536)
        if not chunk:
            break
        raw += chunk
    sock.close()
    raise AssertionError(f"no complete answer: {raw[:500]!r}")


def plain(size: int, piece: bytes = b"[" * 65536) -> Iterator[bytes]:
    """`size` bytes of a body that is not JSON."""
    left = size
    while left > 0:
        yield piece[:left]
        left -= len(piece)


def chunked(body: Iterator[bytes]) -> Iterator[bytes]:
    for piece in body:
        yield f"{len(piece):x}\r\n".encode() + piece + b"\r\n"
    yield b"0\r\n\r\n"


def head(path: str, headers: dict[str, str]) -> str:
    lines = [f"POST {path} HTTP/1.1", "Host: 127.0.0.1", *(f"{k}: {v}" for k, v in headers.items())]
    return "\r\n".join(lines) + "\r\n\r\n"


REFUSED = {"detail": NOT_AUTHENTICATED}


def too_large(limit: int) -> dict[str, str]:
    return {"detail": f"request body too large: the limit is {limit} bytes"}


@pytest.mark.parametrize(
    "credential",
    [{}, {"X-API-Key": "fk_not-a-key"}, {"Authorization": "Bearer forged.token.here"}],
    ids=["none", "unknown key", "forged token"],
)
def test_an_unauthenticated_200_mb_body_is_refused_before_it_is_read(
    service: Service, credential: dict[str, str]
) -> None:
    for path, content_type in (
        ("/tickets", "application/json"),
        ("/tickets/1/attachments", "multipart/form-data; boundary=x"),
        ("/assets/import", "text/csv"),
    ):
        declared = send(
            service.base,
            head(path, {**credential, "Content-Type": content_type, "Content-Length": str(HUGE)}),
            plain(HUGE),
        )
        assert (declared.status, declared.json()) == (401, REFUSED)
        assert declared.headers["www-authenticate"] == "Bearer"
        assert declared.sent < BUFFERED, declared.sent
        streamed = send(
            service.base,
            head(
                path, {**credential, "Content-Type": content_type, "Transfer-Encoding": "chunked"}
            ),
            chunked(plain(HUGE)),
        )
        assert (streamed.status, streamed.json()) == (401, REFUSED)
        assert streamed.sent < BUFFERED, streamed.sent
    assert not list((service.runtime.settings.state_dir / "attachments").rglob("*"))


def test_a_known_callers_oversized_body_is_cut_off_at_the_routes_limit(service: Service) -> None:
    key = {"X-API-Key": service.key("engineer"), "Content-Type": "application/json"}
    declared = send(
        service.base, head("/tickets", {**key, "Content-Length": str(HUGE)}), plain(HUGE)
    )
    assert (declared.status, declared.json()) == (413, too_large(MIB))
    assert declared.sent < BUFFERED, declared.sent
    streamed = send(
        service.base,
        head("/tickets", {**key, "Transfer-Encoding": "chunked"}),
        chunked(plain(HUGE)),
    )
    assert (streamed.status, streamed.json()) == (413, too_large(MIB))
    assert MIB < streamed.sent < MIB + BUFFERED, streamed.sent
    # Batch intake has the larger bulk limit: 2 MiB of invalid JSON is read, and refused as JSON.
    bulk = send(
        service.base,
        head("/tickets/batch", {**key, "Content-Length": str(2 * MIB)}),
        plain(2 * MIB, b"x" * 65536),
    )
    assert bulk.status == 422
    assert bulk.json()["detail"][0]["type"] == "json_invalid"  # type: ignore[index]


def test_an_attachment_upload_stops_at_the_attachment_limit(service: Service) -> None:
    key = service.key("admin")
    client = TestClient(create_app(service.runtime))
    client.headers["X-API-Key"] = key
    site = client.post("/sites", json={"code": "s", "name": "S"}).json()
    ticket = client.post(
        "/tickets",
        json={"site_id": site["id"], "type": "suggestion", "channel": "app", "title": "door"},
    )
    assert ticket.status_code == 201, ticket.text
    ticket = ticket.json()
    limit = service.runtime.settings.attachment_max_bytes + 64 * 1024
    opening = (
        b'--x\r\nContent-Disposition: form-data; name="file"; filename="big.png"\r\n'
        b"Content-Type: image/png\r\n\r\n" + PNG
    )

    def photo(size: int) -> Iterator[bytes]:
        yield opening
        yield from plain(size, b"\x00" * 65536)

    path = f"/tickets/{ticket['id']}/attachments"
    multipart = {"X-API-Key": key, "Content-Type": "multipart/form-data; boundary=x"}
    cut = send(
        service.base,
        head(path, {**multipart, "Transfer-Encoding": "chunked"}),
        chunked(photo(50 * MIB)),
    )
    assert (cut.status, cut.json()) == (413, too_large(limit))
    assert limit < cut.sent < limit + BUFFERED, cut.sent
    declared = send(
        service.base,
        head(path, {**multipart, "Content-Length": str(50 * MIB)}),
        photo(50 * MIB),
    )
    assert (declared.status, declared.json()) == (413, too_large(limit))
    assert declared.sent < BUFFERED
    assert not list((service.runtime.settings.state_dir / "attachments").rglob("*"))
    # Within the limit the photo is taken, as before.
    taken = client.post(path, files={"file": ("small.png", PNG + b"\x00" * 1000, "image/png")})
    assert (taken.status_code, taken.json()["size"]) == (201, 1008)


def test_an_invalid_json_body_without_a_caller_is_a_401_not_its_parse_errors(
    service: Service,
) -> None:
    client = TestClient(create_app(service.runtime))
    for body in (b"{" * 1000, b'{"site_id": "x"}'):
        answer = client.post("/tickets", content=body, headers={"Content-Type": "application/json"})
        assert (answer.status_code, answer.json()) == (401, REFUSED)
    # A cookie change without the console header is refused before its body, too.
    client.cookies.set("facility_session", "x")
    forged = client.post(
        "/tickets", content=b"{" * 1000, headers={"Content-Type": "application/json"}
    )
    assert (forged.status_code, forged.json()) == (
        403,
        {"detail": "a change with the session cookie needs the x-facility-console header"},
    )


def test_every_route_with_its_own_limit_exists(service: Service) -> None:
    """A limit names a real route: each answers its own validation, not a 404 or 405."""
    app = create_app(service.runtime)
    client = TestClient(app, headers={"X-API-Key": service.key("admin")})
    statuses = {
        path: client.post(path.replace("{ticket_id}", "1"), follow_redirects=False).status_code
        for path in app.state.body_limits.routes
    }
    assert statuses == {
        "/tickets/{ticket_id}/attachments": 422,
        "/tickets/batch": 422,
        "/patrols/check-ins": 422,
        "/assets/import": 422,
        "/auth/token": 422,
        "/console/login": 422,
        "/console/logout": 303,
    }
