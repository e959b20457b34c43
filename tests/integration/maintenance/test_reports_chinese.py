"""The quarterly report for a Chinese estate: its PDF in Chinese, the glyphs in an embedded CJK
font (Debian's fonts-noto-cjk), its times in the site's zone; read back with pypdf."""

from __future__ import annotations

import io
from pathlib import Path

from fastapi.testclient import TestClient
from pypdf import PdfReader

from api.main import create_app
from maintenance.assets.schemas import SiteCreate
from maintenance.assets.service import create_site
from maintenance.storage.db import Database
from tests.helpers import authorized
from tests.integration.api.test_tickets_api import make_runtime
from tests.integration.maintenance.test_reports import NOW


def test_the_quarterly_pdf_carries_chinese_text_in_an_embedded_cjk_font(
    database: Database, tmp_path: Path
) -> None:
    """A Chinese estate's report reads in Chinese: the glyphs are in the PDF (a CJK font from
    Debian's fonts-noto-cjk, embedded), not empty boxes; read back with pypdf."""
    with database.transaction() as s:
        site = create_site(s, SiteCreate(code="hepan", name="河畔花园", timezone="Asia/Shanghai"))
        site_id = site.id
    runtime = make_runtime(database, tmp_path)
    app = create_app(runtime)
    app.state.clock = lambda: NOW
    client = authorized(TestClient(app), runtime.database)
    try:
        pdf = client.get(
            "/reports/quarterly",
            params={"year": 2026, "quarter": 4, "site_id": site_id, "format": "pdf"},
            headers={"Accept-Language": "zh-CN"},
        )
        assert pdf.status_code == 200
        reader = PdfReader(io.BytesIO(pdf.content))
        text = "".join(page.extract_text() for page in reader.pages)
        assert "河畔花园" in text
        # The report's own words in Chinese too, and its times in the site's zone.
        assert "2026 年第 4 季度服务质量报告" in text
        assert "服务质量与服务标准对照" in text and "及时响应率" in text
        assert "生成于 2026年12月15日 08:00:00" in text
        fonts = {
            str(font.get_object()["/BaseFont"])
            for page in reader.pages
            for font in page["/Resources"]["/Font"].values()  # type: ignore[index]
        }
        # the Chinese text in an embedded CJK font (the TrueType one the report prefers)
        assert any("WenQuanYi" in name for name in fonts), fonts
        assert not any("Noto" in name for name in fonts), fonts  # not a second CJK font
    finally:
        runtime.stop()
