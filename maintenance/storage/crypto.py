"""Field-level encryption of personal data at rest (requesters' names, phones, addresses).

Values are Fernet tokens (AES-128-CBC with an HMAC, random IV) under FACILITY_DATA_KEY; a keyed
HMAC of the value (a blind index) next to it keeps equality lookups ("my tickets") indexed without
decrypting. Values written before encryption was on (plain text) still read as they are.

The key is process-wide: `configure(key)` once at start (the service, the CLI); without it a
process gets a key of its own that dies with it (tests, one-off scripts), and says so."""

from __future__ import annotations

import hashlib
import hmac
import logging
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy import Text
from sqlalchemy.types import TypeDecorator

log = logging.getLogger(__name__)
_TOKEN_PREFIX = "gAAAAA"  # every Fernet token starts so (version byte + timestamp)


class FieldCipher:
    def __init__(self, key: str) -> None:
        self._fernet = Fernet(key.encode())
        self._index_key = hashlib.sha256(b"blind-index:" + key.encode()).digest()

    def encrypt(self, value: str) -> str:
        return self._fernet.encrypt(value.encode()).decode() if value else value

    def decrypt(self, value: str) -> str:
        if not value.startswith(_TOKEN_PREFIX):
            return value  # written before encryption was on
        try:
            return self._fernet.decrypt(value.encode()).decode()
        except InvalidToken:
            raise ValueError("a value encrypted under another FACILITY_DATA_KEY") from None

    def index(self, value: str) -> str:
        return hmac.new(self._index_key, value.encode(), hashlib.sha256).hexdigest()


_cipher: FieldCipher | None = None


def new_key() -> str:
    return Fernet.generate_key().decode()


def configure(key: str) -> None:
    global _cipher
    _cipher = FieldCipher(key)


def cipher() -> FieldCipher:
    global _cipher
    if _cipher is None:
        log.warning("no data key configured: personal data is encrypted with a key of this process")
        _cipher = FieldCipher(new_key())
    return _cipher


class EncryptedText(TypeDecorator[str]):
    """A text column stored encrypted; reads answer the plain value."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Any) -> str | None:
        return cipher().encrypt(value) if value else value

    def process_result_value(self, value: str | None, dialect: Any) -> str | None:
        return cipher().decrypt(value) if value else value
