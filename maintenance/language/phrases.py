"""What the service itself writes into a ticket's trail and titles (dispatch reasons, SLA
breaches, alarm links, checklist and patrol repairs), said in the reader's language.

The trail stores English (the record and the API keep one language, whoever reads it); each
phrase is a catalogue message with named values, so a page recognises a stored text as the
phrase it was written from and says it again in its reader's language, the values (ids, times,
vocabulary words) kept and shown in the reader's formats. A text no phrase wrote (a person's
note) is shown as written."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from maintenance.language.catalogue import N_, gettext_
from maintenance.language.metrics import metric_said
from maintenance.language.words import audit_value, label

_VALUE = re.compile(r"%\((\w+)\)s")


@dataclass(frozen=True)
class Phrase:
    message: str  # the catalogue's message: English with %(name)s values
    # How a value is said (default: as a recorded value: times, vocabulary words).
    readers: dict[str, Callable[[str], str]] = field(default_factory=dict)

    def write(self, **values: object) -> str:
        return self.message % values

    def pattern(self) -> re.Pattern[str]:
        parts = _VALUE.split(self.message)
        body = "".join(
            re.escape(part) if n % 2 == 0 else f"(?P<{part}>.+?)" for n, part in enumerate(parts)
        )
        return re.compile(body, re.DOTALL)

    def read(self, text: str) -> str | None:
        found = _PATTERNS[self.message].fullmatch(text)
        if found is None:
            return None
        values = {
            name: self.readers.get(name, audit_value)(value)
            for name, value in found.groupdict().items()
        }
        return gettext_(self.message) % values


def _as_written(value: str) -> str:
    return value


def _in_catalogue(value: str) -> str:
    return gettext_(value)  # a shipped checklist item's text; anything else as it is


def _metric(value: str) -> str:
    return metric_said(value, value)


def _drivers(value: str) -> str:
    """An anomaly's drivers, each said in turn (`; ` between them, as written)."""
    return "; ".join(DRIVER.read(part) or part for part in value.split("; "))


# Dispatch (maintenance.dispatch.service)
DISPATCHED = Phrase(
    N_(
        "auto: skill %(skill)s, covers site %(site)s, on duty, workload %(load)s open "
        "ticket(s), the lowest of %(candidates)s candidate(s)"
    )
)
DISPATCHED_ANY_SKILL = Phrase(
    N_(
        "auto: any skill (no asset), covers site %(site)s, on duty, workload %(load)s open "
        "ticket(s), the lowest of %(candidates)s candidate(s)"
    )
)
NOBODY_ON_DUTY = Phrase(
    N_(
        "no technician with skill %(skill)s covering site %(site)s on duty (%(covering)s "
        "cover the site, %(skilled)s of them skilled, none on duty)"
    )
)
NOBODY_ON_DUTY_ANY_SKILL = Phrase(
    N_(
        "no technician covering site %(site)s on duty (%(covering)s cover the site, "
        "%(skilled)s of them skilled, none on duty)"
    )
)
DISPATCHED_CONTRACTOR = Phrase(
    N_(
        "auto: contractor %(contractor)s's skill %(skill)s, covers site %(site)s, on duty, "
        "workload %(load)s open ticket(s), the lowest of %(candidates)s candidate(s)"
    )
)
NOBODY_ON_DUTY_CONTRACTOR = Phrase(
    N_(
        "no contractor %(contractor)s's technician with skill %(skill)s covering site %(site)s "
        "on duty (%(covering)s cover the site, %(skilled)s of them skilled, none on duty)"
    )
)
MANUAL_ASSIGNMENT = Phrase(N_("manual assignment by %(actor)s"), {"actor": _as_written})
# The SLA watch (maintenance.flows.sla_watch)
SLA_WAS_DUE = Phrase(N_("%(clock)s was due %(due)s"))
# Alarms joining an open ticket (maintenance.alarms.tickets)
ALARM_ATTACHED = Phrase(
    N_("alarm %(alarm)s (%(rule)s on %(device)s) raised at %(raised)s"),
    {"rule": _as_written, "device": _as_written},
)
# Checklist results (maintenance.plans.results)
FAILED_ITEMS = Phrase(N_("%(count)s failed item(s)"))
INSPECTION_FAILED = Phrase(N_("Inspection #%(ticket)s failed: %(item)s"), {"item": _in_catalogue})
RESULT_FAILED = Phrase(
    N_("Checklist item %(item)s failed: %(notes)s"), {"item": _in_catalogue, "notes": _as_written}
)
RESULT_FAILED_AT_READING = Phrase(
    N_("Checklist item %(item)s failed at a reading of %(reading)s: %(notes)s"),
    {"item": _in_catalogue, "reading": _as_written, "notes": _as_written},
)
# An alarm's ticket (maintenance.alarms.tickets)
ALARM_DESCRIPTION = Phrase(
    N_(
        "Alarm %(alarm)s, rule %(rule)s, severity %(severity)s, raised %(raised)s. "
        "Values: %(values)s"
    ),
    {"rule": _as_written, "severity": label, "values": _as_written},
)
ANOMALY_EXPLANATION = Phrase(
    N_("Model %(model)s, anomaly score %(score)s. Metrics behind it: %(drivers)s"),
    {"model": _as_written, "score": _as_written, "drivers": _drivers},
)
DRIVER = Phrase(
    N_("%(metric)s = %(value)s (normal %(normal)s, %(share)s of the score)"),
    {"metric": _metric, "value": _as_written, "normal": _as_written, "share": _as_written},
)
# A resident's low rating reopens the work (maintenance.work_orders.service)
RECTIFICATION = Phrase(
    N_("satisfaction %(rating)s/5: rectification (%(comment)s)"), {"comment": _as_written}
)
RECTIFICATION_NO_COMMENT = Phrase(N_("satisfaction %(rating)s/5: rectification (no comment)"))
# Patrol rounds (maintenance.patrols.check_ins)
PATROL_ABNORMAL = Phrase(
    N_("Patrol %(round)s: %(point)s: %(seen)s"),
    {"round": _as_written, "point": _as_written, "seen": _as_written},
)

PHRASES = (
    DISPATCHED,
    DISPATCHED_ANY_SKILL,
    NOBODY_ON_DUTY,
    NOBODY_ON_DUTY_ANY_SKILL,
    DISPATCHED_CONTRACTOR,
    NOBODY_ON_DUTY_CONTRACTOR,
    MANUAL_ASSIGNMENT,
    SLA_WAS_DUE,
    ALARM_ATTACHED,
    FAILED_ITEMS,
    INSPECTION_FAILED,
    RECTIFICATION_NO_COMMENT,
    RECTIFICATION,
    PATROL_ABNORMAL,
    RESULT_FAILED_AT_READING,
    RESULT_FAILED,
    ALARM_DESCRIPTION,
    ANOMALY_EXPLANATION,
)
_PATTERNS = {p.message: p.pattern() for p in (*PHRASES, DRIVER)}


def said(text: str | None) -> str | None:
    """The text in the current language if the service wrote it from a phrase, else None."""
    if not text:
        return None
    for phrase in PHRASES:
        spoken = phrase.read(text)
        if spoken is not None:
            return spoken
    return None


def said_lines(text: str | None) -> list[tuple[str, bool]]:
    """Each line of a text: (in the current language, True) where a phrase wrote it, else
    (as written, False)."""
    out = []
    for line in (text or "").splitlines():
        spoken = said(line)
        out.append((spoken, True) if spoken is not None else (line, False))
    return out


def say(text: str) -> str:
    """The text in the current language if a phrase wrote it, else as it was written."""
    return said(text) or text
