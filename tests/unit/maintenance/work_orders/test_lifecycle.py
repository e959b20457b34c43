from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from maintenance.vocabulary import TicketState
from maintenance.work_orders.lifecycle import (
    TRANSITIONS,
    Action,
    TransitionNotAllowed,
    allowed_actions,
    next_state,
)


def test_the_happy_path_of_the_service_standards() -> None:
    state = TicketState.new
    for action in ("assign", "accept", "start", "resolve", "verify", "close"):
        state = next_state(state, action)
    assert state is TicketState.closed


def test_a_refused_transition_names_the_state_and_what_is_allowed() -> None:
    with pytest.raises(TransitionNotAllowed) as refused:
        next_state(TicketState.new, Action.close)
    assert refused.value.state is TicketState.new
    assert refused.value.allowed == [Action.assign, Action.cancel]
    assert "cannot close a ticket in state new; allowed: assign, cancel" in str(refused.value)


def test_terminal_states() -> None:
    assert allowed_actions(TicketState.cancelled) == []
    assert allowed_actions(TicketState.closed) == [Action.reopen]


@given(st.lists(st.sampled_from([*Action, "fly"]), max_size=40))
def test_random_sequences_never_reach_an_undefined_state(actions: list[str]) -> None:
    state = TicketState.new
    for action in actions:
        allowed = allowed_actions(state)
        try:
            new = next_state(state, action)
        except TransitionNotAllowed:
            assert action not in allowed
            continue
        assert action in allowed
        assert new in TicketState
        assert new == TRANSITIONS[Action(action)][1]
        state = new
