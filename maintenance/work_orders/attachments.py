"""Photos and acceptance forms: stored once by content hash, typed by their bytes, size-limited."""

from __future__ import annotations

import hashlib
import os
from datetime import datetime
from pathlib import Path

from sqlalchemy.orm import Session

from maintenance.errors import InvalidInput
from maintenance.storage.db import get_required
from maintenance.work_orders.models import Attachment
from maintenance.work_orders.service import get, record, snapshot

# The type comes from the file's first bytes, never from what the uploader claims.
SIGNATURES: tuple[tuple[bytes, int, str], ...] = (
    (b"\xff\xd8\xff", 0, "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", 0, "image/png"),
    (b"WEBP", 8, "image/webp"),
    (b"%PDF-", 0, "application/pdf"),
)


def sniff(data: bytes) -> str | None:
    for magic, offset, content_type in SIGNATURES:
        if data[offset : offset + len(magic)] == magic:
            return content_type
    return None


class AttachmentStore:
    def __init__(self, directory: Path, max_bytes: int = 10 * 1024 * 1024) -> None:
        self.directory, self.max_bytes = directory, max_bytes

    def path(self, sha256: str) -> Path:
        return self.directory / sha256[:2] / sha256

    def save(self, data: bytes, field: str = "file") -> tuple[str, str]:
        """Checks and keeps the bytes once by their hash: (sha256, content type)."""
        if not data:
            raise InvalidInput(field, "empty file")
        if len(data) > self.max_bytes:
            raise InvalidInput(field, f"{len(data)} bytes; the limit is {self.max_bytes}")
        content_type = sniff(data)
        if content_type is None:
            raise InvalidInput(field, "only JPEG, PNG, WebP photos and PDF forms are accepted")
        digest = hashlib.sha256(data).hexdigest()
        target = self.path(digest)
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            partial = target.with_suffix(f".{os.getpid()}.part")
            partial.write_bytes(data)
            partial.replace(target)  # atomic: a reader never sees half a file
        return digest, content_type

    def add(
        self,
        session: Session,
        ticket_id: int,
        filename: str,
        data: bytes,
        *,
        actor: str,
        now: datetime,
    ) -> Attachment:
        ticket = get(session, ticket_id)
        digest, content_type = self.save(data)
        attachment = Attachment(
            ticket_id=ticket.id,
            sha256=digest,
            filename=Path(filename).name[:255] or "upload",
            content_type=content_type,
            size=len(data),
            uploaded_by=actor,
            at=now,
        )
        session.add(attachment)
        before = snapshot(ticket)
        record(
            session,
            ticket,
            before,
            actor=actor,
            action="attach",
            now=now,
            note=f"{attachment.filename} ({content_type}, {len(data)} bytes, {digest[:12]})",
        )
        session.flush()
        return attachment

    def read(self, session: Session, attachment_id: int) -> tuple[Attachment, bytes]:
        attachment = get_required(session, Attachment, attachment_id, "attachment")
        return attachment, self.path(attachment.sha256).read_bytes()
