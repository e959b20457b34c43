"""The work-order lifecycle of the service standards as an explicit state machine.

    new -> assigned -> accepted -> in_progress -> resolved -> verified -> closed
                                                  (confirm: the requester accepts)
                  (reassign)        (rectify)  <- reopened <-  (acceptance failed / low rating)
    cancelled (with a reason) from any open state

Escalation is a flag with a supervisor, not a state: an escalated ticket keeps its place in the
process. Pure: no I/O; the service applies the result and records it in the audit trail.
"""

from __future__ import annotations

from enum import StrEnum

from maintenance.vocabulary import TicketState as S


class Action(StrEnum):
    assign = "assign"  # to a technician (also manual reassignment)
    accept = "accept"  # the technician confirms the content and the committed time
    start = "start"
    resolve = "resolve"
    confirm = "confirm"  # the requester accepts the result on site (the state stays resolved)
    verify = "verify"  # requester acceptance plus the quality inspector's second check
    reject = "reject"  # acceptance failed: rectification
    close = "close"
    reopen = "reopen"  # dissatisfaction or a defect found later
    cancel = "cancel"


TRANSITIONS: dict[Action, tuple[frozenset[S], S]] = {
    Action.assign: (
        frozenset({S.new, S.assigned, S.accepted, S.in_progress, S.reopened}),
        S.assigned,
    ),
    Action.accept: (frozenset({S.assigned, S.reopened}), S.accepted),
    Action.start: (frozenset({S.accepted}), S.in_progress),
    Action.resolve: (frozenset({S.in_progress}), S.resolved),
    Action.confirm: (frozenset({S.resolved}), S.resolved),
    Action.verify: (frozenset({S.resolved}), S.verified),
    Action.reject: (frozenset({S.resolved}), S.reopened),
    Action.close: (frozenset({S.verified}), S.closed),
    Action.reopen: (frozenset({S.resolved, S.verified, S.closed}), S.reopened),
    Action.cancel: (
        frozenset({S.new, S.assigned, S.accepted, S.in_progress, S.reopened}),
        S.cancelled,
    ),
}


class TransitionNotAllowed(Exception):
    def __init__(self, state: S, action: str) -> None:
        self.state = state
        self.action = action
        self.allowed = allowed_actions(state)
        super().__init__(
            f"cannot {action} a ticket in state {state.value}; allowed: "
            f"{', '.join(a.value for a in self.allowed) or 'none'}"
        )


def allowed_actions(state: S) -> list[Action]:
    return [action for action, (sources, _) in TRANSITIONS.items() if state in sources]


def next_state(state: S, action: Action | str) -> S:
    try:
        sources, target = TRANSITIONS[Action(action)]
    except ValueError:
        raise TransitionNotAllowed(state, str(action)) from None
    if state not in sources:
        raise TransitionNotAllowed(state, Action(action).value)
    return target
