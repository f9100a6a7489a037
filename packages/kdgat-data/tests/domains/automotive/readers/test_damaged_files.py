"""Files a user or a broken download produces: BOM, gzip (whole and truncated), garbage BLF, a huge
bad field, frames that go back in time, a header missing a column. Each is read correctly or refused
with one message naming the file (and line) - never a traceback, never silently wrong frames."""

import gzip

import numpy as np
import pytest
from kdgat_data.domains.automotive.readers.dispatch import ReaderOptions, read_frames
from kdgat_data.layout import capture_files
from kdgat_data.readers.errors import DataFormatError
from kdgat_data.readers.time_order import TimeOrder

HEADER = "timestamp,arbitration_id,data_field,attack\n"
ROWS = "1.0,100,0011,0\n1.5,101,22,1\n2.0,100,0011,0\n"


def test_utf8_byte_order_mark_reads_like_the_plain_file(tmp_path):
    plain = tmp_path / "plain.csv"
    plain.write_text(HEADER + ROWS)
    marked = tmp_path / "marked.csv"
    marked.write_bytes(b"\xef\xbb\xbf" + (HEADER + ROWS).encode())
    table, report = read_frames(marked)
    assert report.format == "can_train_test"
    np.testing.assert_array_equal(table.can_id, read_frames(plain)[0].can_id)


def test_gzip_capture_reads_like_the_plain_file_and_is_found_in_folders(tmp_path):
    (tmp_path / "a.csv.gz").write_bytes(gzip.compress((HEADER + ROWS).encode()))
    assert capture_files(tmp_path) == [tmp_path / "a.csv.gz"]
    table, report = read_frames(tmp_path / "a.csv.gz")
    assert report.format == "can_train_test" and len(table) == 3 and table.label.tolist() == [0, 1, 0]


def test_truncated_gzip_is_one_clear_error(tmp_path):
    whole = gzip.compress((HEADER + ROWS * 50).encode())
    path = tmp_path / "cut.csv.gz"
    path.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(DataFormatError, match="not a complete gzip file") as error:
        read_frames(path)
    assert error.value.path == str(path)


@pytest.mark.parametrize("fmt", [None, "can_train_test"])
def test_gzip_not_named_gz_is_read_through_gzip_and_a_truncated_one_names_the_file(tmp_path, fmt):
    from kdgat_data.domains.automotive.readers.dispatch import ReaderOptions

    whole = gzip.compress((HEADER + ROWS * 50).encode())
    (tmp_path / "plain-name.csv").write_bytes(whole)
    table, _ = read_frames(tmp_path / "plain-name.csv", ReaderOptions(format=fmt))
    assert len(table) == 150
    (tmp_path / "cut.csv").write_bytes(whole[: len(whole) // 2])
    with pytest.raises(DataFormatError, match="not a complete gzip file") as error:  # was polars' "unexpected end of file"
        read_frames(tmp_path / "cut.csv", ReaderOptions(format=fmt))
    assert error.value.path == str(tmp_path / "cut.csv")


def test_garbage_blf_is_one_clear_error(tmp_path):
    path = tmp_path / "log.blf"
    path.write_bytes(np.random.default_rng(0).integers(0, 256, 4000, dtype=np.uint8).tobytes())
    with pytest.raises(DataFormatError, match="python-can could not parse the log") as error:
        read_frames(path)
    assert error.value.path == str(path)


def test_a_huge_bad_field_is_not_echoed_whole(tmp_path):
    path = tmp_path / "big.csv"
    path.write_text(HEADER + "1.0,100," + "Z" * 2_000_000 + ",0\n")
    with pytest.raises(DataFormatError) as error:
        read_frames(path)
    message = str(error.value)
    assert len(message) < 1000 and "characters cut" in message
    assert message.startswith(f"{path}:2: data_field") and "--on-bad-row skip" in message


def test_negative_timestamp_is_a_bad_row_with_its_line(tmp_path):
    path = tmp_path / "neg.csv"
    path.write_text(HEADER + "1.0,100,00,0\n-0.5,100,00,0\n")
    with pytest.raises(DataFormatError, match="0 or more seconds") as error:
        read_frames(path)
    assert error.value.line == 3


def test_frames_out_of_time_order_are_sorted_stably_and_counted(tmp_path):
    path = tmp_path / "back.csv"
    path.write_text(HEADER + "1.0,100,00,0\n3.0,101,00,1\n2.0,102,00,0\n2.0,103,00,0\n4.0,104,00,0\n")
    table, report = read_frames(path)
    assert table.timestamp.tolist() == [1.0, 2.0, 2.0, 3.0, 4.0]
    assert table.can_id.tolist() == [0x100, 0x102, 0x103, 0x101, 0x104]  # equal times keep the file's order
    assert table.label.tolist() == [0, 0, 0, 1, 0]  # labels move with their frames
    assert report.reordered_frames == 3


def test_frames_out_of_time_order_are_refused_with_the_line_when_asked(tmp_path):
    path = tmp_path / "back.csv"
    path.write_text(HEADER + "1.0,100,00,0\n\n3.0,101,00,1\n2.0,102,00,0\n")
    with pytest.raises(DataFormatError, match="goes back in time") as error:
        read_frames(path, ReaderOptions(time_order=TimeOrder.ERROR))
    assert error.value.line == 5  # the blank line counts


def test_catalog_time_order_reaches_the_reader(tmp_path):
    from kdgat_data.catalog import DatasetEntry

    path = tmp_path / "back.csv"
    path.write_text(HEADER + "3.0,101,00,1\n2.0,102,00,0\n")
    entry = DatasetEntry(path=str(tmp_path), time_order="error")
    with pytest.raises(DataFormatError, match="goes back in time"):
        read_frames(path, entry.reader_options())


def test_detected_header_missing_a_column_names_the_column(tmp_path):
    path = tmp_path / "a.csv"
    path.write_text("Time,Id,Byte1,Byte2,Byte3,Byte4,Byte5,Byte6,Byte7,Byte8\n0.1,1a0,0,0,0,0,0,0,0,0\n")
    with pytest.raises(DataFormatError, match="road header without column.s. label") as error:
        read_frames(path)
    assert error.value.line == 1


def test_header_columns_in_another_order_are_detected(tmp_path):
    path = tmp_path / "a.csv"
    path.write_text("attack,timestamp,data_field,arbitration_id\n0,1.0,00,100\n1,2.0,11,101\n")
    table, report = read_frames(path)
    assert report.format == "can_train_test" and table.can_id.tolist() == [0x100, 0x101]
