"""Names that pages and documents share, said in the current language: the KPIs of the service
standards, an alarm's rule message, a checklist item."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from maintenance.language.catalogue import N_, current, gettext_

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


def rule_message(alarm: Any) -> str:
    """An alarm's message in the reader's language: the rule file's message in it when the
    alarm kept one (`messages`, by language), else the message it was raised with."""
    messages = getattr(alarm, "messages", None)
    if isinstance(messages, Mapping):
        said = messages.get(current())
        if said:
            return str(said)
    return str(getattr(alarm, "message", None) or getattr(alarm, "rule_id", ""))


def checklist_text(item: Mapping[str, Any]) -> str:
    """A checklist item in the reader's language: `texts` by language when the plan has them."""
    texts = item.get("texts")
    if isinstance(texts, Mapping) and texts.get(current()):
        return str(texts[current()])
    return str(item.get("text", ""))
