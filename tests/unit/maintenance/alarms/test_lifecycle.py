from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from maintenance.alarms.lifecycle import (
    AlarmAction,
    AlarmActionNotAllowed,
    AlarmPolicy,
    AlarmState,
    allowed_actions,
    chatter_over,
    in_flood,
    is_chattering,
    next_state,
)

S = AlarmState
A = AlarmAction


def test_the_isa_18_2_paths() -> None:
    # acknowledged while active, then returns to normal
    assert next_state(S.normal, A.raise_) is S.active_unacknowledged
    assert next_state(S.active_unacknowledged, A.acknowledge) is S.active_acknowledged
    assert next_state(S.active_acknowledged, A.clear) is S.normal
    # returns to normal before anyone acknowledged, then acknowledged
    assert next_state(S.active_unacknowledged, A.clear) is S.cleared_unacknowledged
    assert next_state(S.cleared_unacknowledged, A.acknowledge) is S.normal
    # raised again before the acknowledgement: a new occurrence, unacknowledged
    assert next_state(S.cleared_unacknowledged, A.raise_) is S.active_unacknowledged


def test_repeats_from_the_stream_are_deduplicated_not_errors() -> None:
    assert next_state(S.active_acknowledged, A.raise_) is None
    assert next_state(S.active_unacknowledged, A.raise_) is None
    assert next_state(S.normal, A.clear) is None


def test_acknowledging_what_needs_no_acknowledgement_is_refused_with_the_choices() -> None:
    with pytest.raises(AlarmActionNotAllowed) as error:
        next_state(S.active_acknowledged, A.acknowledge)
    assert error.value.allowed == [A.clear, A.reset]
    with pytest.raises(AlarmActionNotAllowed):
        next_state(S.normal, A.acknowledge)
    assert allowed_actions(S.normal) == [A.raise_]


@given(st.lists(st.sampled_from(list(AlarmAction)), max_size=40))
def test_any_sequence_stays_in_a_defined_state(actions: list[AlarmAction]) -> None:
    state = S.normal
    for action in actions:
        try:
            target = next_state(state, action)
        except AlarmActionNotAllowed:
            assert action in (A.acknowledge, A.reset)
            continue
        if target is not None:
            state = target
        assert state in set(AlarmState)
        if action is A.raise_:
            assert state.active
        if action in (A.clear, A.reset):
            assert not state.active


def test_chattering_is_three_raises_in_sixty_seconds_by_default() -> None:
    policy = AlarmPolicy()
    assert not is_chattering([0, 30_000], 30_000, policy)
    assert is_chattering([0, 30_000, 59_999], 59_999, policy)
    assert not is_chattering([0, 30_000, 60_000], 60_000, policy)  # the first left the window
    assert not chatter_over(59_999, 119_998, policy)
    assert chatter_over(59_999, 119_999, policy)


def test_flood_is_more_than_ten_in_the_window() -> None:
    policy = AlarmPolicy()
    assert not in_flood(10, policy)
    assert in_flood(11, policy)


def test_tickets_open_at_or_above_the_configured_severity() -> None:
    policy = AlarmPolicy(ticket_min_severity="major")
    assert [policy.opens_ticket(s) for s in ("critical", "major", "minor", "warning")] == [
        True,
        True,
        False,
        False,
    ]
