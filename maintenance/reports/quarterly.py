"""The quarterly service-quality report: the quarter's KPIs against their targets (and the
previous quarter's, for the direction), failure figures by system and the monthly trend."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from maintenance.assets.models import Site
from maintenance.errors import InvalidInput, NotFound
from maintenance.reports.compliance import ProgrammeCompliance, compliance_view
from maintenance.reports.failures import FailureReport, failure_report
from maintenance.reports.quality import QualityReport, quality_report
from maintenance.scope import Scope
from maintenance.storage.db import get_required


@dataclass(frozen=True, slots=True)
class QuarterlyReport:
    year: int
    quarter: int
    site: str | None  # the site's name; None: every site
    start: datetime
    end: datetime
    quality: QualityReport
    previous: QualityReport
    failures: FailureReport
    generated_at: datetime
    compliance: list[ProgrammeCompliance]

    @property
    def title(self) -> str:
        return f"Service quality {self.year} Q{self.quarter}" + (
            f" - {self.site}" if self.site else ""
        )

    @property
    def months(self) -> list[str]:
        return [f"{self.year}-{(self.quarter - 1) * 3 + m:02d}" for m in (1, 2, 3)]


def quarter_bounds(year: int, quarter: int) -> tuple[datetime, datetime]:
    if not 1 <= quarter <= 4:
        raise InvalidInput("quarter", "1 to 4")
    if not 2000 <= year <= 2100:
        raise InvalidInput("year", "2000 to 2100")
    start = datetime(year, 3 * quarter - 2, 1, tzinfo=UTC)
    end = (
        datetime(year + 1, 1, 1, tzinfo=UTC)
        if quarter == 4
        else start.replace(month=3 * quarter + 1)
    )
    return start, end


def quarterly_report(
    session: Session,
    *,
    year: int,
    quarter: int,
    now: datetime,
    scope: Scope,
    site_id: int | None = None,
) -> QuarterlyReport:
    """Of the caller's scope; a site outside it is not found."""
    start, end = quarter_bounds(year, quarter)
    before = quarter_bounds(year - 1, 4) if quarter == 1 else quarter_bounds(year, quarter - 1)
    if site_id is not None and not scope.admits_site(site_id):
        raise NotFound("site", site_id)
    site = get_required(session, Site, site_id, "site").name if site_id is not None else None
    return QuarterlyReport(
        year=year,
        quarter=quarter,
        site=site,
        start=start,
        end=end,
        quality=quality_report(
            session, start=start, end=end, now=now, scope=scope, site_id=site_id
        ),
        previous=quality_report(
            session, start=before[0], end=before[1], now=now, scope=scope, site_id=site_id
        ),
        failures=failure_report(
            session,
            start=start,
            end=end,
            scope=scope,
            group_by="system",
            site_id=site_id,
            now=now,
        ),
        generated_at=now,
        compliance=compliance_view(
            session, start=start, end=end, now=now, scope=scope, site_id=site_id
        ),
    )
