"""The words of the vocabulary as a person reads them. API values (enum members, field names)
stay English: they are the contract; only their label is translated."""

from __future__ import annotations

from datetime import datetime

from maintenance.language import formats
from maintenance.language.catalogue import N_, gettext_

LABELS: dict[str, str] = {
    # systems
    "elevator": N_("elevator"),
    "water": N_("water"),
    "power": N_("power"),
    "fire": N_("fire"),
    "camera": N_("camera"),
    # ticket types
    "repair": N_("repair"),
    "complaint": N_("complaint"),
    "suggestion": N_("suggestion"),
    "inspection": N_("inspection"),
    "alarm": N_("alarm"),
    # channels a ticket comes in by
    "hotline": N_("hotline"),
    "app": N_("app"),
    "wechat": N_("WeChat"),
    "front_desk": N_("front desk"),
    "api": N_("API"),
    "schedule": N_("schedule"),
    # priorities: `priority()` (their "normal" is not a status's "normal")
    "emergency": N_("emergency"),
    "urgent": N_("urgent"),
    "low": N_("low"),
    "normal": N_("normal"),
    # ticket states
    "new": N_("new"),
    "assigned": N_("assigned"),
    "accepted": N_("accepted"),
    "in_progress": N_("in progress"),
    "resolved": N_("resolved"),
    "verified": N_("verified"),
    "closed": N_("closed"),
    "reopened": N_("reopened"),
    "cancelled": N_("cancelled"),
    # a predictive inspection's verdict on its anomaly finding
    "confirmed": N_("fault confirmed"),
    "no_fault_found": N_("no fault found"),
    # ticket actions and audit entries
    "assign": N_("assign"),
    "accept": N_("accept"),
    "start": N_("start"),
    "resolve": N_("resolve"),
    "confirm": N_("confirm"),
    "verify": N_("verify"),
    "reject": N_("reject"),
    "close": N_("close"),
    "reopen": N_("reopen"),
    "cancel": N_("cancel"),
    "create": N_("created"),
    "attach": N_("file attached"),
    "rate": N_("rated"),
    "checklist": N_("checklist recorded"),
    "escalate": N_("escalate"),
    "alarm_attached": N_("alarm attached"),
    "dispatch": N_("dispatched"),
    "breach:response": N_("response time breached"),
    "breach:resolution": N_("resolution time breached"),
    "comment:comment": N_("comment"),
    "comment:progress": N_("progress note"),
    "comment:feedback": N_("feedback"),
    "comment:return_visit": N_("return visit"),
    "comment": N_("comment"),
    "progress": N_("progress note"),
    "feedback": N_("feedback"),
    "return_visit": N_("return visit"),
    # alarm states and severities
    "active_unacknowledged": N_("active unacknowledged"),
    "active_acknowledged": N_("active acknowledged"),
    "cleared_unacknowledged": N_("cleared unacknowledged"),
    "critical": N_("critical"),
    "major": N_("major"),
    "minor": N_("minor"),
    "warning": N_("warning"),
    "info": N_("info"),
    "medium": N_("medium"),
    "high": N_("high"),
    # who did it, when it was the service itself
    "console": N_("console"),
    "sla": N_("SLA watch"),
    # things that can be asked for by id
    "ticket": N_("ticket"),
    "asset": N_("asset"),
    "location": N_("location"),
    "user": N_("user"),
    "plan": N_("plan"),
    "attachment": N_("attachment"),
    "device": N_("device"),
    "patrol round": N_("patrol round"),
    "patrol run": N_("patrol run"),
    "patrol point": N_("patrol point"),
    "patrol check-in photo": N_("patrol check-in photo"),
    # SLA clocks
    "response": N_("response"),
    "resolution": N_("resolution"),
    # report groupings
    "system": N_("system"),
    "site": N_("site"),
    "asset_type": N_("asset type"),
    # site status
    "offline": N_("offline"),
    "online": N_("online"),
    # checklist results
    "pass": N_("pass"),
    "fail": N_("fail"),
    "not_applicable": N_("not applicable"),
    # KPI status
    "ok": N_("ok"),
    "below_target": N_("below target"),
    "no_data": N_("no data"),
    # roles
    "admin": N_("admin"),
    "manager": N_("manager"),
    "engineer": N_("engineer"),
    "technician": N_("technician"),
    "contractor": N_("contractor"),
    "requester": N_("requester"),
}


def label(value: object) -> str:
    """The current language's word for a vocabulary value; an unknown value as it is, with
    spaces for underscores (a new enum member shows, untranslated, rather than failing)."""
    text = str(value)
    known = LABELS.get(text)
    return gettext_(known) if known is not None else text.replace("_", " ")


PRIORITIES: dict[str, str] = {"normal": N_("normal (priority)")}


def priority(value: object) -> str:
    """A ticket's priority: its own word for "normal" (the English catalogue says "normal")."""
    known = PRIORITIES.get(str(value))
    return gettext_(known) if known is not None else label(value)


# A ticket's audited fields (maintenance/work_orders/service.py AUDITED) in the audit trail.
FIELDS: dict[str, str] = {
    "state": N_("state"),
    "priority": N_("priority"),
    "assignee_id": N_("assignee"),
    "assignment_reason": N_("why assigned"),
    "committed_at": N_("committed arrival"),
    "escalated": N_("escalated"),
    "escalated_to": N_("escalated to"),
    "escalation_reason": N_("why escalated"),
    "response_due": N_("response due"),
    "resolution_due": N_("resolution due"),
    "progress_due": N_("progress report due"),
    "responded_at": N_("responded"),
    "resolved_at": N_("resolved"),
    "closed_at": N_("closed"),
    "response_breached_at": N_("response breached"),
    "resolution_breached_at": N_("resolution breached"),
    "in_scope": N_("in the service scope"),
    "return_visit_due": N_("return visit due"),
    "return_visit_at": N_("return visit"),
    "satisfaction": N_("satisfaction"),
    "reopen_count": N_("times reopened"),
    "cancel_reason": N_("why cancelled"),
    "verified_by": N_("verified by"),
    "requester_confirmed_at": N_("requester confirmed"),
    "finding": N_("finding"),
}


# Fields whose values are written text (a person's reason, the dispatcher's explanation, a
# name): shown as recorded, not translated.
FREE_TEXT = frozenset(
    {"assignment_reason", "escalation_reason", "cancel_reason", "escalated_to", "verified_by"}
)


def field_label(name: object) -> str:
    known = FIELDS.get(str(name))
    return gettext_(known) if known is not None else str(name).replace("_", " ")


def audit_value(value: object) -> str:
    """A recorded value as a person reads it: nothing as -, yes/no, times in the page's zone
    and format, vocabulary words in the language; other text as it was recorded."""
    if value is None or value == "":
        return "-"
    if isinstance(value, bool):
        return gettext_("yes") if value else gettext_("no")
    if isinstance(value, str) and len(value) >= 19 and value[4] == "-" and value[10] == "T":
        try:
            return formats.when(datetime.fromisoformat(value))
        except ValueError:
            return value
    return label(value) if isinstance(value, str) else str(value)
