"""Any JSON, read by JMESPath field paths for the records, device, time and metrics."""

from __future__ import annotations

import jmespath

from ingest.sources.decoded import Decoded, Problem, readings_of
from ingest.sources.formats.common import FormatError, json_body, time_ms
from ingest.sources.model import JsonPaths, Source


class MappedJson:
    def __init__(self, source: Source) -> None:
        self.source = source
        paths = source.json_paths
        assert paths is not None  # the model requires it for this format
        self.paths: JsonPaths = paths
        compile_ = jmespath.compile
        self._records = compile_(paths.records) if paths.records else None
        self._device = compile_(paths.device) if paths.device else None
        self._time = compile_(paths.time) if paths.time else None
        self._metrics = {name: compile_(path) for name, path in paths.metrics.items()}
        self._object = compile_(paths.metrics_object) if paths.metrics_object else None

    def decode(self, topic: str, payload: bytes, now_ms: int) -> list[Decoded]:
        body = json_body(payload)
        records = [body]
        if self._records is not None:
            found = self._records.search(body)
            if not isinstance(found, list):
                raise FormatError(f"json path {self.paths.records!r} found no array of records")
            records = found
        out: list[Decoded] = []
        for index, record in enumerate(records):
            where = f"record {index}: " if self._records is not None else ""
            try:
                out.extend(self._record(record, where))
            except FormatError as error:
                out.append(Problem(f"{where}{error}"))
        return out

    def _record(self, record: object, where: str) -> list[Decoded]:
        device = self.source.device
        if self._device is not None:
            found = self._device.search(record)
            if not isinstance(found, str | int) or isinstance(found, bool) or found == "":
                raise FormatError(f"json path {self.paths.device!r} found no device name")
            device = str(found)
        if device is None:
            raise FormatError("no device: set json.device or the source's device")
        ts = None
        if self._time is not None:
            found = self._time.search(record)
            if found is None:
                raise FormatError(f"json path {self.paths.time!r} found nothing")
            ts = time_ms(found, self.paths.time_unit)
        values: dict[str, object] = {}
        missing: list[Decoded] = []
        if self._object is not None:
            found = self._object.search(record)
            if isinstance(found, dict):
                values.update(found)
            else:
                object_path = self.paths.metrics_object
                missing.append(
                    Problem(f"{where}json path {object_path!r} found no object of metrics")
                )
        for name, path in self._metrics.items():
            found = path.search(record)
            if found is None:
                missing.append(
                    Problem(f"{where}json path {self.paths.metrics[name]!r} ({name}) found nothing")
                )
            else:
                values[name] = found
        return (readings_of(device, ts, values) if values else []) + missing
