"""A ticket's title as its reader sees it: what the service wrote, in their language."""

from __future__ import annotations

from dataclasses import dataclass

from api.documents.words import ticket_title
from maintenance.language.catalogue import using
from rules.model import Rule
from rules.rulefile import shipped_rules


class Shipped:
    def __init__(self) -> None:
        self.rules = {r.id: r for r in shipped_rules()}

    def rule(self, rule_id: str) -> Rule | None:
        return self.rules.get(rule_id)


@dataclass
class Ticket:
    title: str
    fault: str | None = None


def test_an_alarm_tickets_title_in_its_rules_words() -> None:
    alarm = Ticket(
        "Passenger trapped in the car: LIFT-A1 (Block A / roof)", "elevator-trapped-passenger"
    )
    with using("zh-CN"):
        assert ticket_title(alarm, Shipped()) == "乘客被困轿厢: LIFT-A1 (Block A / roof)"
    with using("en"):
        assert ticket_title(alarm, Shipped()) == alarm.title


def test_service_written_titles_and_a_persons_title() -> None:
    with using("zh-CN"):
        assert ticket_title(Ticket("Patrol 夜巡: Gate: door open")) == "巡更 夜巡：Gate：door open"
        assert ticket_title(Ticket("Inspection #7 failed: Doors")) == "巡检 #7 不合格项：Doors"
        assert ticket_title(Ticket("水龙头漏水")) == "水龙头漏水"
        renamed = Ticket("Passenger trapped: typed by a person", "elevator-trapped-passenger")
        assert ticket_title(renamed, Shipped()) == renamed.title
