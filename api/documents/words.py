"""Names that pages and documents share, said in the current language: the KPIs of the service
standards, an alarm's rule message, a checklist item."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Protocol

from maintenance.alarms.tickets import said_title
from maintenance.language import phrases
from maintenance.language.catalogue import N_, current, gettext_
from maintenance.language.words import label
from maintenance.plans.defaults import shipped_title
from rules.model import Rule
from rules.scoring import CLEARED, REBASELINED

KPI_NAMES = {
    "response_on_time": N_("Response on time"),
    "resolution_on_time": N_("Resolution on time"),
    "complaint_handling_on_time": N_("Complaints handled on time"),
    "complaint_rate": N_("Complaint rate"),
    "satisfied": N_("Satisfied (4-5 of 5)"),
    "pm_compliance": N_("Preventive maintenance on time"),
}


def kpi_name(name: str) -> str:
    known = KPI_NAMES.get(name)
    return gettext_(known) if known else name


class RuleSource(Protocol):
    def rule(self, rule_id: str) -> Rule | None: ...


def rule_message(alarm: Any, rules: RuleSource | None = None) -> str:
    """An alarm's message in the reader's language: its rule's message in that language (the
    rule files' `messages`), else the message it was raised with (an anomaly's own words)."""
    rule = rules.rule(str(alarm.rule_id)) if rules is not None else None
    if rule is not None and rule.messages:
        return rule.message_in(current())
    message = str(getattr(alarm, "message", None) or getattr(alarm, "rule_id", ""))
    return anomaly_message(message)


def ticket_title(ticket: Any, rules: RuleSource | None = None) -> str:
    """A ticket's title in the reader's language where the service wrote it: an alarm's (its
    rule's message in that language, the equipment as written), a shipped plan's inspection,
    a predictive inspection, a checklist or patrol repair; a person's title as written."""
    title = str(ticket.title)
    fault = getattr(ticket, "fault", None)
    rule = rules.rule(fault) if rules is not None and fault else None
    if rule is not None and rule.messages and rule.message:
        if title.startswith(f"{rule.message}: "):
            return rule.message_in(current()) + title[len(rule.message) :]
    return said_title(shipped_title(phrases.say(title)))


_RAISED = re.compile(
    r"Behaves unlike its normal history \(anomaly score (?P<score>[\d.]+); (?P<names>.*)\)"
)
_ANOMALY_SAID = {
    CLEARED: N_("Back to its normal behaviour"),
    REBASELINED: N_("The change lasted: the model takes it as its new baseline"),
}


def anomaly_message(message: str) -> str:
    """An anomaly finding's message (rules.scoring's words) in the reader's language; any
    other message as it was raised."""
    if message in _ANOMALY_SAID:
        return gettext_(_ANOMALY_SAID[message])
    found = _RAISED.fullmatch(message)
    if found is None:
        return message
    said = gettext_("Behaves unlike its normal history (anomaly score %(score)s; %(names)s)")
    return said % {"score": found["score"], "names": found["names"]}


def checklist_text(item: Mapping[str, Any]) -> str:
    """A checklist item in the reader's language: `texts` by language when the plan has them."""
    texts = item.get("texts")
    if isinstance(texts, Mapping) and texts.get(current()):
        return str(texts[current()])
    return str(item.get("text", ""))


# CSV columns as words, on request (`headers=words`): a spreadsheet for a person, not a program.
COLUMNS = {
    "month": N_("Month"),
    "failures": N_("Failures"),
    "assets": N_("Assets"),
    "failures_per_asset": N_("Failures per asset"),
    "kpi": N_("Measure"),
    "value": N_("Value"),
    "target": N_("Target"),
    "status": N_("Status"),
    "numerator": N_("Met"),
    "denominator": N_("Counted"),
}


def column_words(header: list[str]) -> list[str]:
    return [gettext_(COLUMNS[c]) if c in COLUMNS else label(c) for c in header]
