"""What technicians said of earlier anomaly findings, as the training takes it (kept by
`maintenance.alarms.findings`, used by `rules.training`)."""

from __future__ import annotations

from dataclasses import dataclass, field

Window = tuple[int, int]  # [start_ms, end_ms]
DeviceId = tuple[str, str, str]  # (site, system, device_id)


@dataclass(frozen=True, slots=True)
class Feedback:
    """Per device: windows a finding covered where no fault was found (`normal`: trained on as
    normal, wherever they lie in time) and windows of confirmed faults (`faulty`: never trained
    on)."""

    normal: dict[DeviceId, list[Window]] = field(default_factory=dict)
    faulty: dict[DeviceId, list[Window]] = field(default_factory=dict)
