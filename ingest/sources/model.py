"""The sources file's schema: per source a name, topic filters, a payload format and its mapping."""

from __future__ import annotations

import re
from typing import Annotated, Literal

import jmespath
import jmespath.exceptions
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ingest.catalogue import SYSTEMS
from ingest.payloads import METRIC_NAME, RESERVED_METRICS
from ingest.topics import IDENTIFIER

FORMATS = (
    "facility",
    "thingsboard-gateway",
    "thingsboard-device",
    "sparkplug-b",
    "neuron",
    "influx-line",
    "json",
)
Format = Literal[
    "facility",
    "thingsboard-gateway",
    "thingsboard-device",
    "sparkplug-b",
    "neuron",
    "influx-line",
    "json",
]
# Where each format publishes unless the source says otherwise.
DEFAULT_TOPICS: dict[str, tuple[str, ...]] = {
    "facility": ("facility/#",),
    "thingsboard-gateway": ("v1/gateway/#", "v1/devices/me/#"),
    "sparkplug-b": ("spBv1.0/#",),
    "neuron": ("/neuron/#",),
    "influx-line": ("telegraf/#",),
}
_DEVICE_API = "v1/devices/me/"  # ThingsBoard's device API, under any mount point
_TOPIC_LEVEL = re.compile(r"[^#+]*|\+|#")
Name = Annotated[str, Field(pattern=IDENTIFIER.pattern)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DeviceTarget(_Strict):
    """The device a gateway's name for it stands for; site and system default to the source's."""

    device_id: Name
    site: Name | None = None
    system: str | None = None

    @field_validator("system")
    @classmethod
    def _known_system(cls, value: str | None) -> str | None:
        if value is not None and value not in SYSTEMS:
            raise ValueError(f"unknown system {value!r}; expected one of {', '.join(SYSTEMS)}")
        return value


class MetricTarget(_Strict):
    """A gateway's metric name renamed to a catalogue metric: value * scale + offset."""

    name: str
    scale: float = 1.0
    offset: float = 0.0

    @field_validator("name")
    @classmethod
    def _safe_name(cls, value: str) -> str:
        if not METRIC_NAME.fullmatch(value) or value in RESERVED_METRICS:
            raise ValueError(f"{value!r} is not a safe metric name")
        return value


class JsonPaths(_Strict):
    """JMESPath expressions into any JSON payload."""

    records: str | None = None  # an array of records in one message; unset: the message is one
    device: str | None = None  # unset: the source's `device`
    time: str | None = None  # unset: the time the message arrived
    time_unit: Literal["ms", "s", "us", "ns"] = "ms"  # of a numeric time; strings are RFC 3339
    metrics: dict[str, str] = {}  # metric name -> path
    metrics_object: str | None = None  # path to an object whose members are metrics, as named

    @model_validator(mode="after")
    def _compiles(self) -> JsonPaths:
        if not self.metrics and self.metrics_object is None:
            raise ValueError("metrics or metrics_object: required (where the values are)")
        paths = [self.records, self.device, self.time, self.metrics_object, *self.metrics.values()]
        for path in paths:
            if path is not None:
                try:
                    jmespath.compile(path)
                except jmespath.exceptions.JMESPathError as error:
                    column = getattr(error, "lex_position", getattr(error, "lexer_position", "?"))
                    raise ValueError(
                        f"{path!r} is not a JMESPath expression (error at column {column})"
                    ) from None
        return self


class LineOptions(_Strict):
    device_tag: str = "host"  # the tag naming the device
    precision: Literal["ns", "us", "ms", "s"] = "ns"
    prefix_measurement: bool = False  # metric names `<measurement>_<field>` instead of `<field>`


class Source(_Strict):
    name: Name
    format: Format
    topics: tuple[str, ...] = ()
    site: Name | None = None
    system: str | None = None
    device: str | None = None  # the one device of a source whose topic does not name it
    device_level: int | None = Field(None, ge=0)  # topic level that names the device
    devices: dict[str, DeviceTarget] = {}
    metrics: dict[str, MetricTarget] = {}
    json_paths: JsonPaths | None = Field(None, alias="json")
    line: LineOptions = LineOptions()
    answer_rpc: bool = True  # thingsboard-gateway: answer getSessionLimits as the server would
    rebirth: bool = True  # sparkplug-b: ask a node for its birth on a gap or unknown alias

    @field_validator("system")
    @classmethod
    def _known_system(cls, value: str | None) -> str | None:
        return DeviceTarget._known_system(value)

    @field_validator("metrics", mode="before")
    @classmethod
    def _shorthand(cls, value: object) -> object:
        # `Pump1_Current_A: pump_current` is the rename without scaling.
        if isinstance(value, dict):
            return {k: {"name": v} if isinstance(v, str) else v for k, v in value.items()}
        return value

    @field_validator("topics")
    @classmethod
    def _filters(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for topic in value:
            levels = topic.split("/")
            if not topic or any(not _TOPIC_LEVEL.fullmatch(level) for level in levels):
                raise ValueError(f"{topic!r} is not an MQTT topic filter")
            if "#" in levels[:-1]:
                raise ValueError(f"{topic!r}: '#' must be the last level")
        return value

    @model_validator(mode="after")
    def _complete(self) -> Source:
        if not self.topics and self.format not in DEFAULT_TOPICS:
            raise ValueError(f"topics: required for the {self.format} format")
        if self.format == "json" and self.json_paths is None:
            raise ValueError("json: required for the json format (field paths)")
        if self.format == "thingsboard-device" and self.device_level is None and not self.device:
            raise ValueError(
                "device_level or device: required (the topic level that names the device, "
                "or the one device of this source)"
            )
        return self

    @property
    def filters(self) -> tuple[str, ...]:
        return self.topics or DEFAULT_TOPICS[self.format]

    @property
    def answers(self) -> tuple[str, ...]:
        """The topic filters the service publishes to for this source, for the broker's access
        list: ThingsBoard RPC responses beside the requests it reads, Sparkplug NCMD rebirth
        requests to the groups it reads. A filter that does not name `v1/devices/me/` (or the
        Sparkplug group) grants none: the access list cannot follow a `#`."""
        out: list[str] = []
        for topic in self.filters:
            levels = topic.split("/")
            if self.format.startswith("thingsboard-") and self.answer_rpc:
                at = topic.find(_DEVICE_API)
                if at >= 0 and (at == 0 or topic[at - 1] == "/"):
                    out.append(topic[: at + len(_DEVICE_API)] + "rpc/response/+")
            elif self.format == "sparkplug-b" and self.rebirth and levels[0] == "spBv1.0":
                group = levels[1] if len(levels) > 1 and levels[1] != "#" else "+"
                out.append(f"spBv1.0/{group}/NCMD/+")
        return tuple(dict.fromkeys(out))


class SourcesFile(_Strict):
    sources: list[Source] = Field(min_length=1)
