"""Patrol rounds: set up (office), walked and checked in (staff, from a phone), reported."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Form, Query, Response, UploadFile
from pydantic import AwareDatetime

from api.auth import OFFICE, Principal, PrincipalDep, access, audit_name
from api.deps import AttachmentsDep, DatabaseDep, NotifierDep, NowDep
from maintenance.assets.service import visible_site
from maintenance.errors import NotFound
from maintenance.patrols import rounds, runs
from maintenance.patrols.check_ins import Observation, Photo, check_in
from maintenance.patrols.models import PatrolCheckIn, PatrolRound
from maintenance.patrols.schemas import (
    CheckInRead,
    PatrolReport,
    RoundChange,
    RoundCreate,
    RoundRead,
    RunRead,
)
from maintenance.vocabulary import Id

MISSING: dict[int | str, dict[str, Any]] = {404: {"description": "unknown id or code"}}
OFFICE_ONLY = [Depends(access(OFFICE, OFFICE))]
router = APIRouter(tags=["patrol rounds"])
Status = Literal["open", "completed", "late", "incomplete", "missed"]


def _shown(found: PatrolRound, me: Principal) -> RoundRead:
    """A round as the caller may see it: the label codes only for the office that prints them
    (a code is proof of having been at the point)."""
    read = RoundRead.model_validate(found)
    if me.role not in OFFICE:
        read.points = [p.model_copy(update={"code": ""}) for p in read.points]
    return read


@router.post("/patrols/rounds", status_code=201, dependencies=OFFICE_ONLY)
def post_round(data: RoundCreate, db: DatabaseDep, now: NowDep, me: PrincipalDep) -> RoundRead:
    """A round with its points in order; each point gets the short code its label carries."""
    with db.transaction() as s:
        visible_site(s, data.site_id, scope=me.scope)
        return RoundRead.model_validate(rounds.create_round(s, data, now=now))


@router.get("/patrols/rounds")
def list_rounds(db: DatabaseDep, me: PrincipalDep, site_id: Id | None = None) -> list[RoundRead]:
    """The rounds of the caller's sites."""
    with db.transaction() as s:
        found = rounds.all_rounds(s, site_id=site_id, sites=me.scope.site_ids)
        return [_shown(r, me) for r in found]


@router.get("/patrols/rounds/{round_id}", responses=MISSING)
def read_round(round_id: Id, db: DatabaseDep, me: PrincipalDep) -> RoundRead:
    with db.transaction() as s:
        return _shown(rounds.get_round(s, round_id, me.scope.site_ids), me)


@router.patch("/patrols/rounds/{round_id}", dependencies=OFFICE_ONLY, responses=MISSING)
def patch_round(round_id: Id, data: RoundChange, db: DatabaseDep, me: PrincipalDep) -> RoundRead:
    """Rename, pause or resume, or change the window and grace; runs made keep their times."""
    with db.transaction() as s:
        changed = rounds.change_round(s, round_id, data, me.scope.site_ids)
        return RoundRead.model_validate(changed)


@router.get("/patrols/runs")
def list_runs(
    db: DatabaseDep,
    me: PrincipalDep,
    round_id: Id | None = None,
    status: Status | None = None,
    since: AwareDatetime | None = None,
    until: AwareDatetime | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[RunRead]:
    """Newest first, each with its check-ins."""
    with db.transaction() as s:
        found = runs.list_runs(
            s,
            round_id=round_id,
            status=status,
            since=since,
            until=until,
            sites=me.scope.site_ids,
            limit=limit,
        )
        done = runs.check_ins(s, {run.id for run in found})
        return [runs.run_read(run, done[run.id]) for run in found]


@router.get("/patrols/runs/{run_id}", responses=MISSING)
def read_run(run_id: Id, db: DatabaseDep, me: PrincipalDep) -> RunRead:
    with db.transaction() as s:
        run = runs.get_run(s, run_id, me.scope.site_ids)
        return runs.run_read(run, runs.check_ins(s, {run.id})[run.id])


@router.post("/patrols/check-ins", status_code=201, responses=MISSING)
async def post_check_in(
    db: DatabaseDep,
    now: NowDep,
    notifier: NotifierDep,
    store: AttachmentsDep,
    principal: PrincipalDep,
    code: Annotated[str, Form(min_length=1, max_length=40)],
    method: Annotated[Literal["scan", "typed"], Form()] = "typed",
    observation: Annotated[str, Form(max_length=2000)] = "",
    abnormal: Annotated[bool, Form()] = False,
    photo: UploadFile | None = None,
    actor: Annotated[str, Form(max_length=200)] = "api",
) -> CheckInRead:
    """Passing the point whose label carries `code`, on the run taking check-ins now. An
    abnormal observation (say what) opens a repair ticket at the point, with the photo."""
    data = await photo.read(store.max_bytes + 1) if photo is not None else b""
    seen = Observation(
        observation, abnormal, Photo(photo.filename or "photo", data) if photo else None
    )
    with db.transaction() as s:
        made = check_in(
            s,
            code,
            seen,
            actor=audit_name(principal, actor),
            method=method,
            now=now,
            notifier=notifier,
            store=store,
            sites=principal.scope.site_ids,
        )
        return runs.check_in_read(made)


@router.get("/patrols/check-ins/{check_in_id}/photo", response_class=Response, responses=MISSING)
def check_in_photo(
    check_in_id: Id, db: DatabaseDep, store: AttachmentsDep, me: PrincipalDep
) -> Response:
    with db.transaction() as s:
        made = s.get(PatrolCheckIn, check_in_id)
        try:
            if made is None or made.photo_sha256 is None:
                raise NotFound("patrol check-in photo", check_in_id)
            runs.get_run(s, made.run_id, me.scope.site_ids)
        except NotFound:  # one answer whether it exists elsewhere or not at all
            raise NotFound("patrol check-in photo", check_in_id) from None
        data = store.path(made.photo_sha256).read_bytes()
        return Response(data, media_type=made.photo_type or "application/octet-stream")


@router.get("/reports/patrols", dependencies=OFFICE_ONLY)
def patrol_report(
    db: DatabaseDep,
    now: NowDep,
    me: PrincipalDep,
    since: AwareDatetime | None = None,
    until: AwareDatetime | None = None,
    site_id: Id | None = None,
) -> PatrolReport:
    """How runs ended per round (default: the last 7 days) and every point a run missed."""
    until = until or now
    with db.transaction() as s:
        start = since or until - timedelta(days=7)
        return runs.report(s, start, until, site_id=site_id, sites=me.scope.site_ids)
