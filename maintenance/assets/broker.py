"""The MQTT broker's accounts and access list, from the equipment ledger.

Every device the ledger knows gets an account `<device_id>@<site>` (device ids are unique
within a site; `@` is in no identifier) that may publish only its own three topics,
`facility/<site>/<system>/<device_id>/{telemetry,event,status}`, with the system of its asset.
The service's account reads everything and is the only one that may write the alarm states,
`facility/<site>/alarms/#`. A gateway (a site's bridge, the simulator) may publish the device
topics of its site, never the alarm topics. Nothing else may publish: mosquitto refuses what
no line allows. Written for mosquitto's `acl_file` and `password_file`."""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from ingest.sources.model import Source
from maintenance.assets.models import Asset, AssetDevice, Site

DEVICE_KINDS = ("telemetry", "event", "status")
_USERNAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-@]{0,128}")


@dataclass(frozen=True, slots=True)
class DeviceAccount:
    site: str
    system: str
    device_id: str
    asset_code: str

    @property
    def username(self) -> str:
        return device_username(self.site, self.device_id)


def device_username(site: str, device_id: str) -> str:
    return f"{device_id}@{site}"


def device_accounts(session: Session) -> list[DeviceAccount]:
    rows = session.execute(
        select(Site.code, Asset.system, AssetDevice.device_id, Asset.code)
        .join(Asset, Asset.id == AssetDevice.asset_id)
        .join(Site, Site.id == Asset.site_id)
        .order_by(Site.code, AssetDevice.device_id)
    )
    return [DeviceAccount(site, system.value, device, code) for site, system, device, code in rows]


def check_username(name: str) -> str:
    if not _USERNAME.fullmatch(name):
        raise ValueError(f"{name!r} is not a broker account name (letters, digits, _ . - @)")
    return name


def acl_text(
    devices: Iterable[DeviceAccount],
    *,
    service_user: str,
    gateways: Iterable[tuple[str, str]] = (),
    sources: Iterable[Source] = (),
) -> str:
    """mosquitto's acl_file: the service (with what its sources file reads and answers), each
    gateway (name, site), each device."""
    lines = [
        "# mosquitto acl_file, generated from the equipment ledger by `facility broker acl`.",
        "# Regenerate after a change to the ledger's devices, then reload mosquitto (SIGHUP).",
        "",
        "# the service: reads every message, alone writes the alarm states",
        f"user {check_username(service_user)}",
        "topic read facility/#",
        "topic write facility/+/alarms/#",
    ]
    sources = list(sources)
    reads = dict.fromkeys(f for s in sources for f in s.filters if f != "facility/#")
    writes = dict.fromkeys(a for s in sources for a in s.answers)
    if reads or writes:
        lines.append("# ... and its sources file: what the gateways publish, and its answers")
        lines += [f"topic read {f}" for f in reads] + [f"topic write {a}" for a in writes]
    for name, site in gateways:
        lines += ["", f"# gateway for every device of site {site}", f"user {check_username(name)}"]
        lines += [f"topic write facility/{site}/+/+/{kind}" for kind in DEVICE_KINDS]
    for device in devices:
        prefix = f"facility/{device.site}/{device.system}/{device.device_id}"
        lines += ["", f"# asset {device.asset_code}", f"user {check_username(device.username)}"]
        lines += [f"topic write {prefix}/{kind}" for kind in DEVICE_KINDS]
    return "\n".join(lines) + "\n"


def password_hash(password: str, *, salt: bytes | None = None, iterations: int = 101) -> str:
    """mosquitto 2's password_file hash: PBKDF2-SHA512 (`$7$`), as `mosquitto_passwd` makes."""
    salt = salt if salt is not None else secrets.token_bytes(12)
    digest = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, iterations)
    b64 = base64.b64encode
    return f"$7${iterations}${b64(salt).decode()}${b64(digest).decode()}"


def set_password(path: Path, username: str, password: str) -> bool:
    """Adds or replaces the account's line in a mosquitto password file (made 0600 if new).
    Answers whether the account was new."""
    check_username(username)
    if not password:
        raise ValueError("empty password")
    lines = path.read_text().splitlines() if path.exists() else []
    entry = f"{username}:{password_hash(password)}"
    kept = [line for line in lines if line.split(":", 1)[0] != username]
    new = len(kept) == len(lines)
    if not path.exists():
        path.touch(mode=0o600)
    path.write_text("\n".join([*kept, entry]) + "\n")
    return new
