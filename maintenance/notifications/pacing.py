"""A receiver's rate limits, kept on our side: a DingTalk or WeCom group robot takes 20
messages a minute, a Feishu bot 100 a minute and 5 a second. Past a limit the message waits
(DeliveryDeferred), it is never dropped."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Sequence


class Pace:
    def __init__(
        self, limits: Sequence[tuple[int, float]], clock: Callable[[], float] = time.time
    ) -> None:
        """`limits`: (messages, per seconds) pairs, every one kept."""
        self.limits = tuple(limits)
        self.clock = clock
        self._sent: deque[float] = deque()
        self._horizon = max((per for _, per in self.limits), default=0.0)

    def wait_s(self) -> float:
        """How long until one more message keeps every limit (0: now)."""
        now = self.clock()
        while self._sent and now - self._sent[0] >= self._horizon:
            self._sent.popleft()
        wait = 0.0
        for count, per in self.limits:
            recent = [t for t in self._sent if now - t < per]
            if len(recent) >= count:
                wait = max(wait, recent[-count] + per - now)
        return wait

    def taken(self) -> None:
        self._sent.append(self.clock())
