from __future__ import annotations

from api.documents.charts import bar_chart


def test_a_kpi_without_data_is_drawn_as_no_data_not_as_zero() -> None:
    svg = str(bar_chart([("Response on time", None, 0.9), ("Satisfied", 0.5, 0.8)], title="KPIs"))
    assert svg.count("no data") == 1 and ">0.0 %" not in svg
    assert "50.0 %" in svg
    assert 'width="0.0"' in svg  # the empty bar has no length; its target tick stays
    assert svg.count("<line") == 2
