from __future__ import annotations

import pytest

from ingest.store.base import Point
from ingest.store.lineprotocol import UnrepresentableError, encode_point


def test_numbers_are_floats_seq_is_integer_and_flags_booleans() -> None:
    p = Point(
        "water",
        (("site", "s1"), ("device_id", "p1")),
        {"flow": 30.0, "seq": 4, "on": True, "code": 'a "b"'},
        1000,
    )
    assert (
        encode_point(p)
        == 'water,device_id=p1,site=s1 flow=30.0,seq=4i,on=true,code="a \\"b\\"" 1000'
    )


def test_separators_in_names_are_escaped() -> None:
    p = Point("my water,x", (("device_id", "a b,c=d"),), {"f x=,": 1.5}, 5)
    assert encode_point(p) == "my\\ water\\,x,device_id=a\\ b\\,c\\=d f\\ x\\=\\,=1.5 5"


@pytest.mark.parametrize("bad", ["back\\slash", "line\nbreak", ""])
def test_names_that_cannot_be_represented_are_refused(bad: str) -> None:
    with pytest.raises(UnrepresentableError):
        encode_point(Point("water", (("device_id", bad),), {"f": 1.0}, 5))


def test_the_caching_encoder_agrees_with_encode_point() -> None:
    from ingest.store.lineprotocol import LineEncoder

    encoder = LineEncoder(max_cached=2)
    points = [
        Point("water", (("site", "s1"), ("device_id", "p1")), {"flow": 30.0, "seq": 4}, 1000),
        Point("my water,x", (("device_id", "a b,c=d"),), {"f x=,": 1.5, "on": False}, 5),
        Point("water", (("site", "s1"), ("device_id", "p2")), {"code": 'a "b"', "x": 1e20}, 7),
        Point("water", (("site", "s1"), ("device_id", "p1")), {"flow": -0.5}, 1001),
    ]
    for p in points * 2:
        assert encoder.encode(p) == encode_point(p)
    with pytest.raises(UnrepresentableError):
        encoder.encode(Point("water", (("device_id", "p1"),), {"f": float("nan")}, 5))
    with pytest.raises(UnrepresentableError):
        encoder.encode(Point("water", (("device_id", "back\\\\slash"),), {"f": 1.0}, 5))
