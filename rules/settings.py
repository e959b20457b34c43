"""The rules' part of the settings: which rule files, and the anomaly models' training."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from ingest.settings import IngestSettings, items
from rules.rulefile import SHIPPED


class RuleSettings(IngestSettings):
    rules_enabled: bool = Field(True, description="evaluate rules and anomaly models here")
    rule_files: str = Field(
        "shipped", description="comma-separated rule files; `shipped` is the shipped set"
    )
    anomaly_enabled: bool = True
    anomaly_models_dir: Path | None = Field(None, description="unset: <state dir>/models")
    anomaly_training_days: float = Field(14.0, gt=0)
    anomaly_retrain_interval_h: float = Field(24.0, gt=0)

    @property
    def rule_paths(self) -> list[Path]:
        return [SHIPPED if n == "shipped" else Path(n) for n in items(self.rule_files)]

    @property
    def models_dir(self) -> Path:
        return self.anomaly_models_dir or self.state_dir / "models"
