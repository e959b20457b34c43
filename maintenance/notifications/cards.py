"""What a notification says to a group of people, in their language: a title, the facts that
matter on duty (severity, site, device, ticket, alarm, when) and a link back to the console.
The robots (robots.py) lay a card out in their platform's own format."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from maintenance.language.catalogue import N_, gettext_, using
from maintenance.language.formats import in_zone, when
from maintenance.language.words import label
from maintenance.notifications.notifier import Notification

TITLES = {
    "critical_alarm": N_("Critical alarm"),
    "sla_breach": N_("Service time breached"),
    "sla_near_breach": N_("Service time nearly due"),
    "escalation": N_("Ticket escalated"),
    "regulated_overdue": N_("Regulated inspection overdue"),
}
# A platform's colour (or emphasis) for a card: red for what cannot wait.
URGENT = frozenset({"critical_alarm", "sla_breach", "escalation", "regulated_overdue"})


@dataclass(frozen=True, slots=True)
class Card:
    kind: str
    title: str
    text: str
    facts: list[tuple[str, str]]  # (label, value) in the card's language
    link: str | None
    link_text: str

    @property
    def urgent(self) -> bool:
        return self.kind in URGENT


def card(n: Notification, *, language: str, zone: str, console_url: str | None) -> Card:
    with using(language), in_zone(zone):
        known = TITLES.get(n.kind)
        return Card(
            kind=n.kind,
            title=gettext_(known) if known else label(n.kind),
            text=_text(n, language),
            facts=_facts(n),
            link=_link(n, console_url),
            link_text=gettext_("Open in the console"),
        )


def _text(n: Notification, language: str) -> str:
    facts = n.facts or {}
    said = facts.get(f"message:{language}")
    if said:
        return said
    if n.kind in ("sla_breach", "sla_near_breach") and "sla" in facts and "due" in facts:
        due = when(datetime.fromisoformat(facts["due"]))
        if n.kind == "sla_breach":
            return gettext_("The {what} time was due {due}.").format(
                what=label(facts["sla"]), due=due
            )
        return gettext_("The {what} time is due {due}.").format(what=label(facts["sla"]), due=due)
    return n.message


def _facts(n: Notification) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    if n.severity:
        out.append((gettext_("Severity"), label(n.severity)))
    if n.site:
        out.append((gettext_("Site"), n.site))
    if n.device:
        out.append((gettext_("Device"), n.device))
    if n.ticket_id is not None:
        out.append((gettext_("Ticket"), f"#{n.ticket_id}"))
    if n.alarm_id is not None:
        out.append((gettext_("Alarm"), f"#{n.alarm_id}"))
    if n.recipient:
        out.append((gettext_("For"), n.recipient))
    return out


def _link(n: Notification, console_url: str | None) -> str | None:
    if not console_url:
        return None
    base = console_url.rstrip("/")
    if n.ticket_id is not None:
        return f"{base}/console/tickets/{n.ticket_id}"
    return f"{base}/console/alarms"


def markdown(c: Card, *, red: str = "**{}**") -> str:
    """The card as markdown (WeCom's and DingTalk's robots); `red` marks the title of an
    urgent card in the platform's way."""
    title = red.format(c.title) if c.urgent else f"**{c.title}**"
    lines = [f"### {title}", "", c.text, ""]
    lines += [f"> {name}: {value}" for name, value in c.facts]
    if c.link:
        lines += ["", f"[{c.link_text}]({c.link})"]
    return "\n".join(lines)
