"""Whether a delimited file can hold padded fields decides if its fields are stripped at all."""

import pytest
from kdgat_data.readers.text import delimited_fields, may_hold_padding


@pytest.mark.parametrize(("raw", "separator", "padded"), [
    (b"a,b\n1,2\n", b",", False),
    (b"a\tb\n1\t2\n", b"\t", False),  # tabs that separate fields are not padding
    (b"a,b\n1,\t2\n", b",", True),
    (b"a,b\n1, 2\n", b",", True),
    (b"a,b\r\n1,2\r\n", b",", True),
    (b"a,b\n1,\xc2\xa02\n", b",", True),  # a no-break space (UTF-8)
])
def test_may_hold_padding(raw, separator, padded):
    assert may_hold_padding(raw, separator) is padded


def test_strip_removes_padding_only_where_asked(tmp_path):
    path = tmp_path / "flows.csv"
    path.write_bytes(b"id.orig_h,label\n 10.0.0.1 ,Benign\n10.0.0.2,\xc2\xa0Malicious\n")
    _, plain = delimited_fields(path, "zeek_csv")
    _, stripped = delimited_fields(path, "zeek_csv", strip=True)
    assert plain["c0"].to_list() == [" 10.0.0.1 ", "10.0.0.2"]
    assert stripped["c0"].to_list() == ["10.0.0.1", "10.0.0.2"] and stripped["c1"].to_list() == ["Benign", "Malicious"]


def test_padding_is_looked_for_from_start_on():
    raw = b"#separator \\x09\n1\t2\n"  # Zeek's header holds a space, its data lines none
    assert may_hold_padding(raw, b"\t") and not may_hold_padding(raw, b"\t", start=raw.index(b"1"))
    assert may_hold_padding(b"a,b\n1,\xc2\xa02\n", b",", start=4)
