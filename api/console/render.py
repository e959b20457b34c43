"""Templates and the filters the pages share; every page is rendered in its reader's language
(api/language.py) with Jinja2's i18n extension over the Babel catalogues."""

from __future__ import annotations

import json
from collections.abc import Collection
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

from babel.messages.extract import extract_from_file
from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from markupsafe import Markup

from api.auth import Principal
from api.console.csrf import logout_token
from api.documents.words import checklist_text, kpi_name, rule_message, ticket_title
from api.language import display_zone, request_language
from maintenance.language import catalogue, formats, phrases
from maintenance.language.metrics import metric_said, unit_said
from maintenance.language.words import FREE_TEXT, audit_value, field_label, label, priority
from maintenance.work_orders.service import is_predictive

templates = Jinja2Templates(directory=Path(__file__).parent / "templates")
templates.env.add_extension("jinja2.ext.i18n")
templates.env.install_gettext_callables(  # type: ignore[attr-defined]
    catalogue.gettext_, catalogue.ngettext_, newstyle=True
)
SCRIPT = Path(__file__).parent / "static" / "console.js"


def _when(value: datetime | None) -> str:
    return formats.when(value)


def _ms_when(value: int) -> str:
    return _when(datetime.fromtimestamp(value / 1000, UTC))


def _written(text: str | None) -> Markup:
    """What the service wrote, in the reader's language; a person's words as written, marked
    `.recorded` (the language tests skip them: they are the writer's language)."""
    spoken = phrases.said(text)
    if spoken is not None:
        return Markup("<span>{}</span>").format(spoken)
    return Markup('<span class="recorded">{}</span>').format(text or "-")


def _iso(value: datetime | None) -> str:
    return value.isoformat() if value else ""


templates.env.filters["when"] = _when
templates.env.filters["iso"] = _iso
templates.env.filters["ms_when"] = _ms_when
templates.env.filters["label"] = label
templates.env.tests["predictive"] = is_predictive  # resolved with a finding: two buttons
templates.env.filters["priority"] = priority
templates.env.globals["written"] = _written
templates.env.globals["written_lines"] = phrases.said_lines
templates.env.filters["number"] = formats.number
templates.env.filters["percent"] = formats.percent
templates.env.globals["kpi_name"] = kpi_name
templates.env.globals["metric_name"] = metric_said
templates.env.globals["unit_said"] = unit_said
templates.env.globals["audit_value"] = audit_value
templates.env.globals["free_text"] = FREE_TEXT
templates.env.filters["field"] = field_label
templates.env.globals["rule_message"] = rule_message
templates.env.globals["checklist_text"] = checklist_text


@cache
def script_messages() -> tuple[str, ...]:
    """The messages console.js says (its t("...") calls), as the catalogue extracted them."""
    found = extract_from_file("javascript", str(SCRIPT), keywords={"t": None})
    return tuple(sorted({str(message) for _, message, _, _ in found}))


@cache
def _script_catalogue(language: str) -> str:
    """The script's messages in the page's language, as JSON for <body data-words> (the
    page's CSP allows no inline script); the template escapes it as an attribute."""
    words = {m: catalogue.in_language(language, m) for m in script_messages()}
    return json.dumps(words, ensure_ascii=False)


def respond(
    request: Request,
    name: str,
    context: dict[str, Any],
    *,
    account_language: str | None = None,
    resident: bool = False,
    status_code: int = 200,
    sites: Collection[int] | None = None,
) -> HTMLResponse:
    """Renders a template in the request's language, times in the zone of the reader's sites
    (`sites`: their scope); the response says which language."""
    language = request_language(request, account_language, resident=resident)
    engine = getattr(getattr(request.app.state, "alarms", None), "engine", None)
    said = {
        "lang": language,
        "script_words": _script_catalogue(language),
        "rule_message": lambda alarm: rule_message(alarm, engine),
        "ticket_title": lambda ticket: ticket_title(ticket, engine),
    }
    with catalogue.using(language), formats.in_zone(display_zone(request, sites)):
        response = templates.TemplateResponse(
            request, name, {**said, **context}, status_code=status_code
        )
    response.headers["Content-Language"] = language
    return response


def reader_language(request: Request, principal: Principal) -> str:
    """The language `page` renders in for this person."""
    return request_language(request, principal.language, resident=principal.role == "requester")


def page(
    request: Request, name: str, principal: Principal, *, status_code: int = 200, **context: Any
) -> HTMLResponse:
    return respond(
        request,
        name,
        {"me": principal, "csrf": logout_token(request, principal), **context},
        account_language=principal.language,
        resident=principal.role == "requester",
        status_code=status_code,
        sites=principal.scope.site_ids,
    )
