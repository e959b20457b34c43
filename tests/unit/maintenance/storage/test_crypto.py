from __future__ import annotations

import pytest

from maintenance.storage.crypto import FieldCipher, new_key


def test_values_round_trip_and_equal_values_encrypt_differently() -> None:
    cipher = FieldCipher(new_key())
    one, two = cipher.encrypt("Mrs Chen, 138 0013 8000"), cipher.encrypt("Mrs Chen, 138 0013 8000")
    assert one != two and "Chen" not in one
    assert cipher.decrypt(one) == cipher.decrypt(two) == "Mrs Chen, 138 0013 8000"
    assert cipher.encrypt("") == ""


def test_the_blind_index_is_stable_for_a_key_and_differs_across_keys() -> None:
    key = new_key()
    assert FieldCipher(key).index("unit-1203") == FieldCipher(key).index("unit-1203")
    assert FieldCipher(key).index("unit-1203") != FieldCipher(key).index("unit-1204")
    assert FieldCipher(key).index("unit-1203") != FieldCipher(new_key()).index("unit-1203")


def test_plain_values_from_before_still_read_and_a_wrong_key_is_an_error() -> None:
    cipher = FieldCipher(new_key())
    assert cipher.decrypt("Unit 1203") == "Unit 1203"
    with pytest.raises(ValueError, match="another FACILITY_DATA_KEY"):
        FieldCipher(new_key()).decrypt(cipher.encrypt("Unit 1203"))
