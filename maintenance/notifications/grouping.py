"""A bound on notifications per site in a flood: the first `burst` of a kind within `window_s`
go out as they come; the rest of that window are held and go out together as one grouped
notification when it ends. A site still flooding then gets one grouped notification per
window until a window passes without any held. Nothing is dropped: the grouped message counts
every held notification and quotes the first of them."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from maintenance.notifications.notifier import Notification

QUOTED = 10  # held messages quoted in a grouped notification; the rest are counted


@dataclass
class _Window:
    started: float
    flooding: bool  # the window before held some: no burst in this one
    sent: int = 0
    held: list[Notification] = field(default_factory=list)
    held_count: int = 0


class FloodGrouping:
    def __init__(
        self, burst: int = 5, window_s: float = 60.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.burst, self.window_s, self.clock = burst, window_s, clock
        self._windows: dict[tuple[str, str], _Window] = {}
        self._lock = threading.Lock()

    def admit(self, notification: Notification) -> list[Notification]:
        """What to send now: this notification, unless held, after any group that is due."""
        key = (notification.site or notification.recipient, notification.kind)
        with self._lock:
            now = self.clock()
            out = self._expire(now)
            window = self._windows.get(key)
            if window is None:
                window = self._windows[key] = _Window(now, flooding=False)
            if not window.flooding and window.sent < self.burst:
                window.sent += 1
                out.append(notification)
            else:
                window.held_count += 1
                if len(window.held) < QUOTED:
                    window.held.append(notification)
            return out

    def due(self) -> list[Notification]:
        """The grouped notifications of windows that have ended."""
        with self._lock:
            return self._expire(self.clock())

    def flush(self) -> list[Notification]:
        """Every held notification, grouped, now (at a stop)."""
        with self._lock:
            return self._expire(float("inf"))

    def _expire(self, now: float) -> list[Notification]:
        out: list[Notification] = []
        for key, window in list(self._windows.items()):
            if now - window.started < self.window_s:
                continue
            del self._windows[key]
            if window.held_count:
                out.append(self._grouped(key[0], key[1], window))
                if now != float("inf"):
                    self._windows[key] = _Window(now, flooding=True)
        return out

    def _grouped(self, where: str, kind: str, window: _Window) -> Notification:
        first = window.held[0]
        quoted = "; ".join(n.message for n in window.held)
        rest = window.held_count - len(window.held)
        more = f"; and {rest} more" if rest > 0 else ""
        return Notification(
            kind,
            first.recipient,
            None,
            f"{window.held_count} more {kind} notifications for {where} within "
            f"{self.window_s:g} s, grouped (a flood): {quoted}{more}",
            site=first.site,
        )
