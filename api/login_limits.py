"""How many wrong passwords a login may try: per account, per client address, and per account
at an address it has logged in from before (OWASP's "device cookie" scheme, with the address
standing for the device).

- An account takes `failures` wrong passwords in `window_s` from addresses it never logged in
  from; then it is locked for them until the window moves on.
- An address takes `client_failures` (much higher: a site's NAT, the control room) wrong
  passwords in the window over all accounts it has not logged in from; then it is refused for
  such accounts. Spraying one password over many accounts stops there.
- An account at an address it logged in from before has a counter of its own there, so an
  attacker elsewhere who locks the account does not lock out its owner, and five wrong passwords
  of one person behind a NAT lock nobody else.

Counters live in the API process (several processes: each counts its own share)."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict, defaultdict, deque
from dataclasses import dataclass

KNOWN_FOR_S = 30 * 24 * 3600.0
KNOWN_MAX = 100_000  # the oldest (account, address) pairs are forgotten beyond this


@dataclass(frozen=True, slots=True)
class Block:
    scope: str  # account | client
    wait_s: float


class LoginLimiter:
    def __init__(self, failures: int, window_s: float, client_failures: int) -> None:
        self.failures, self.window_s, self.client_failures = failures, window_s, client_failures
        self._failed: defaultdict[str, deque[float]] = defaultdict(deque)
        self._known: OrderedDict[tuple[str, str], float] = OrderedDict()
        self._lock = threading.Lock()

    def _known_pair(self, username: str, client: str, now: float) -> bool:
        seen = self._known.get((username, client))
        return seen is not None and now - seen < KNOWN_FOR_S

    def _counters(self, username: str, client: str, now: float) -> list[tuple[str, str, int]]:
        """(counter key, scope, limit) that apply to this attempt."""
        if self._known_pair(username, client, now):
            return [(f"pair:{username}\x00{client}", "account", self.failures)]
        return [
            (f"account:{username}", "account", self.failures),
            (f"client:{client}", "client", self.client_failures),
        ]

    def _wait(self, key: str, limit: int, now: float) -> float:
        attempts = self._failed[key]
        while attempts and now - attempts[0] > self.window_s:
            attempts.popleft()
        if not attempts:
            del self._failed[key]
            return 0.0
        return self.window_s - (now - attempts[0]) if len(attempts) >= limit else 0.0

    def blocked(self, username: str, client: str) -> Block | None:
        """Checked before the password is: a blocked attempt is not tried at all."""
        now = time.monotonic()
        with self._lock:
            for key, scope, limit in self._counters(username, client, now):
                wait = self._wait(key, limit, now)
                if wait > 0:
                    return Block(scope, wait)
        return None

    def failed(self, username: str, client: str) -> Block | None:
        """Count a wrong password; the block it starts, if this was the last one allowed."""
        now = time.monotonic()
        with self._lock:
            counters = self._counters(username, client, now)
            for key, _, _ in counters:
                self._failed[key].append(now)
            if len(self._failed) > KNOWN_MAX:  # invented usernames must not grow memory
                for stale in [k for k, v in self._failed.items() if now - v[-1] > self.window_s]:
                    del self._failed[stale]
            for key, scope, limit in counters:
                wait = self._wait(key, limit, now)
                if wait > 0:
                    return Block(scope, wait)
        return None

    def succeeded(self, username: str, client: str) -> None:
        """A right password: the account's counter it was checked against starts again, and
        the address is known to the account from now on."""
        now = time.monotonic()
        with self._lock:
            key = self._counters(username, client, now)[0][0]
            self._failed.pop(key, None)
            self._known[(username, client)] = now
            self._known.move_to_end((username, client))
            while len(self._known) > KNOWN_MAX:
                self._known.popitem(last=False)
