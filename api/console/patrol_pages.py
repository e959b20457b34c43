"""Patrol rounds on screen: the open runs and a code box on a phone, the page a point's QR
label opens (the phone's own camera reads it: no app), a run point by point, and the office's
printable labels and recent runs."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

import segno
from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from api.auth import OFFICE, PATROL, Principal
from api.console.render import page
from api.console.session import viewer
from api.deps import DatabaseDep, NowDep
from maintenance.assets.models import Site
from maintenance.patrols import rounds, runs, schedule
from maintenance.patrols.check_ins import NoRunOpen, point_in_scope, run_now
from maintenance.patrols.models import PatrolRound, PatrolRun
from maintenance.vocabulary import Id

router = APIRouter()
Patrol = Annotated[Principal, Depends(viewer(PATROL))]
Office = Annotated[Principal, Depends(viewer(OFFICE))]


def _sites(s: Session) -> dict[int, str]:
    return {site.id: site.name for site in s.query(Site)}


def _progress(s: Session, found: list[PatrolRun]) -> dict[int, int]:
    done = runs.check_ins(s, {run.id for run in found})
    return {run_id: len(rows) for run_id, rows in done.items()}


@router.get("/console/patrols", response_class=HTMLResponse)
def patrols_page(request: Request, db: DatabaseDep, now: NowDep, me: Patrol) -> HTMLResponse:
    """The runs taking check-ins now (opened here if the clock's job has not yet), and for the
    office every round with its last day of runs."""
    with db.transaction() as s:
        schedule.watch(s, now)
        sites = me.scope.site_ids
        opened = runs.list_runs(s, status="open", sites=sites)
        open_runs = [r for r in opened if r.starts_at <= now]
        recent = (
            runs.list_runs(s, since=now - timedelta(days=1), sites=sites)
            if me.role in OFFICE
            else []
        )
        all_rounds = {r.id: r for r in rounds.all_rounds(s, sites=sites)}
        return page(
            request,
            "patrols.html",
            me,
            open_runs=open_runs,
            recent=recent,
            rounds=all_rounds,
            sites=_sites(s),
            progress=_progress(s, open_runs + recent),
        )


@router.get("/console/patrols/check-in/{code}", response_class=HTMLResponse)
def check_in_page(
    code: str, request: Request, db: DatabaseDep, now: NowDep, me: Patrol, typed: bool = False
) -> HTMLResponse:
    """What a point's label opens: the point, its run now, and the check-in form."""
    with db.transaction() as s:
        point, found = point_in_scope(s, code[:40], me.scope.site_ids)
        run: PatrolRun | None = None
        closed: NoRunOpen | None = None
        try:
            run = run_now(s, found, now)
        except NoRunOpen as refused:
            closed = refused
        done = runs.check_ins(s, {run.id})[run.id] if run else []
        already = next((c for c in done if c.point_id == point.id), None)
        return page(
            request,
            "patrol_check_in.html",
            me,
            point=point,
            round=found,
            run=run,
            closed=closed,
            already=already,
            method="typed" if typed else "scan",
            late=run is not None and now > run.on_time_by,
        )


@router.get("/console/patrols/runs/{run_id}", response_class=HTMLResponse)
def run_page(run_id: Id, request: Request, db: DatabaseDep, me: Patrol) -> HTMLResponse:
    with db.read() as s:
        run = runs.get_run(s, run_id, me.scope.site_ids)
        found = rounds.get_round(s, run.round_id)
        done = {c.point_id: c for c in runs.check_ins(s, {run.id})[run.id]}
        return page(
            request, "patrol_run.html", me, run=run, round=found, done=done, points=found.points
        )


def qr_svg(url: str) -> str:
    """An inline SVG (no image request, nothing for the CSP to refuse) a phone camera reads."""
    return str(segno.make(url, error="m").svg_inline(scale=4, border=2))


def label_url(request: Request, code: str) -> str:
    base = request.app.state.runtime.settings.console_url or str(request.base_url)
    return f"{base.rstrip('/')}/console/patrols/check-in/{code}"


@router.get("/console/patrols/rounds/{round_id}/labels", response_class=HTMLResponse)
def labels_page(round_id: Id, request: Request, db: DatabaseDep, me: Office) -> HTMLResponse:
    """One label per point to print and fix at the place: QR code, point, short code."""
    with db.read() as s:
        found: PatrolRound = rounds.get_round(s, round_id, me.scope.site_ids)
        labels: list[dict[str, Any]] = [
            {"point": p, "qr": qr_svg(label_url(request, p.code))} for p in found.points
        ]
        return page(request, "patrol_labels.html", me, round=found, labels=labels)
