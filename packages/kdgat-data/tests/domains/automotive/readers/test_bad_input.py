"""Bad input: each gets an error naming file, line and what was expected; skip mode counts rows."""

import pytest
from kdgat_data.domains.automotive.readers.dispatch import ReaderOptions, read_frames
from kdgat_data.readers.bad_row_policy import OnBadRow
from kdgat_data.readers.errors import DataFormatError

HEADER = "timestamp,arbitration_id,data_field,attack\n"


def _error(path, options=None) -> DataFormatError:
    with pytest.raises(DataFormatError) as error:
        read_frames(path, options)
    assert error.value.path == str(path)
    return error.value


def test_missing_column(tmp_path, write):
    path = write(tmp_path / "a.csv", "timestamp,arbitration_id,data_field\n1.0,100,00\n")
    error = _error(path, ReaderOptions(format="can_train_test"))
    assert error.line == 1 and "missing column(s) attack" in str(error)


def test_bad_hex_id(tmp_path, write):
    path = write(tmp_path / "a.csv", HEADER + "1.0,100,00,0\n1.1,1G5,00,0\n")
    error = _error(path)
    assert error.line == 3 and "arbitration_id" in str(error) and "'1G5'" in str(error)
    assert "hexadecimal CAN ID" in str(error)


def test_bad_hex_payload(tmp_path, write):
    path = write(tmp_path / "a.csv", HEADER + "1.0,100,0Z,0\n")
    error = _error(path)
    assert error.line == 2 and "data_field" in str(error) and "'0Z'" in str(error)


def test_more_than_eight_payload_bytes(tmp_path, write):
    path = write(tmp_path / "a.csv", HEADER + "1.0,100,000102030405060708,0\n")
    error = _error(path)
    assert error.line == 2 and "0 to 8 payload bytes" in str(error)


def test_empty_file(tmp_path, write):
    path = write(tmp_path / "a.csv", "")
    error = _error(path)
    assert "empty" in str(error)


def test_header_only(tmp_path, write):
    path = write(tmp_path / "a.csv", HEADER)
    assert "no frames" in str(_error(path))


@pytest.mark.parametrize("value", ["NaN", "abc", ""])
def test_nan_or_non_numeric_timestamp(tmp_path, value, write):
    path = write(tmp_path / "a.csv", HEADER + "1.0,100,00,0\n" + f"{value},100,00,0\n")
    error = _error(path)
    assert error.line == 3 and "numeric timestamp" in str(error)


def test_unknown_label_value(tmp_path, write):
    path = write(tmp_path / "a.csv", HEADER + "1.0,100,00,2\n")
    assert "expected one of 0, 1" in str(_error(path))


def test_unknown_format(tmp_path, write):
    path = write(tmp_path / "a.csv", "hello world\nthis is not CAN\n")
    error = _error(path)
    assert error.line == 1 and "unknown capture format" in str(error) and "--format" in str(error)


def test_car_hacking_wrong_field_count(tmp_path, write):
    path = write(tmp_path / "a.csv", "1.0,0316,8,05,21,R\n")
    assert "expected 12 comma-separated fields for DLC 8" in str(_error(path))


def test_skip_mode_drops_and_counts_bad_rows(tmp_path, write):
    path = write(tmp_path / "a.csv", HEADER + "1.0,100,00,0\n1.1,XYZ,00,0\nnan,100,00,0\n1.3,200,0102,1\n")
    table, report = read_frames(path, ReaderOptions(on_bad_row=OnBadRow.SKIP))
    assert len(table) == 2 and report.skipped_rows == 2
    assert table.can_id.tolist() == [0x100, 0x200]


def test_earliest_bad_line_is_reported_with_all_its_problems(tmp_path, write):
    path = write(tmp_path / "a.csv", HEADER + "1.0,100,00,0\nx,YYY,00,0\n1.2,ZZZ,00,0\n")
    error = _error(path)
    assert error.line == 3
    assert "timestamp" in str(error) and "arbitration_id" in str(error)


def test_skip_mode_with_no_valid_row_is_an_error(tmp_path, write):
    path = write(tmp_path / "a.csv", HEADER + "1.1,XYZ,00,0\n")
    with pytest.raises(DataFormatError, match="all 1 rows are malformed"):
        read_frames(path, ReaderOptions(on_bad_row=OnBadRow.SKIP))
