"""Readers on small hand-written files of each format."""

import numpy as np
import pytest
from kdgat_data.domains.automotive.readers.column_mapping import ColumnMapping
from kdgat_data.domains.automotive.readers.dispatch import ReaderOptions, detect_format, read_frames


def test_can_train_test_payload_lengths_and_labels(tmp_path, write):
    path = write(
        tmp_path / "test_01_DoS/a.csv",
        "timestamp,arbitration_id,data_field,attack\n"
        "1.0,1E5,460196E001FE6701,0\n"
        "1.5,000,,1\n"
        "2.0,7FF,AB12,0\n",
    )
    table, report = read_frames(path)
    assert report.format == "can_train_test" and len(table) == 3
    assert table.can_id.tolist() == [0x1E5, 0, 0x7FF]
    assert table.dlc.tolist() == [8, 0, 2]
    assert table.payload[0].tolist() == [0x46, 0x01, 0x96, 0xE0, 0x01, 0xFE, 0x67, 0x01]
    assert table.payload[2].tolist() == [0xAB, 0x12, 0, 0, 0, 0, 0, 0]
    assert table.label.tolist() == [0, 1, 0]
    assert table.attack_counts() == {"dos": 1}  # attack type from the test_01_DoS folder


def test_car_hacking_flag_moves_with_dlc(tmp_path, write):
    path = write(
        tmp_path / "gear_dataset.csv",
        "1478198376.389427,0316,8,05,21,68,09,21,21,00,6f,R\n"
        "1478198376.389636,018f,8,fe,5b,00,00,00,3c,00,00,T\n"
        "1478198376.390820,0260,2,19,21,R\n",
    )
    assert detect_format(path) == "car_hacking"
    table, _ = read_frames(path)
    assert table.can_id.tolist() == [0x316, 0x18F, 0x260]
    assert table.dlc.tolist() == [8, 8, 2]
    assert table.payload[2].tolist() == [0x19, 0x21, 0, 0, 0, 0, 0, 0]
    assert table.label.tolist() == [0, 1, 0]
    assert table.attack_counts() == {"gear_spoofing": 1}


def test_column_mapped_user_csv_with_hex_payload_column(tmp_path, write):
    path = write(tmp_path / "mine.csv", "t;can;data;kind\n0.1;123;0102;ok\n0.2;456;FFEE;evil\n")
    mapping = ColumnMapping(separator=";", timestamp="t", id="can", payload="data", label="kind",
                            normal_values=["ok"], attack_values=["evil"])
    table, _ = read_frames(path, ReaderOptions(format="column_mapped", mapping=mapping))
    assert table.can_id.tolist() == [0x123, 0x456]
    assert table.payload[:, :2].tolist() == [[1, 2], [0xFF, 0xEE]]
    assert table.attack_counts() == {"evil": 1}


def test_boolean_labels_are_read_as_labels_and_unknown_values_are_errors(tmp_path, write):
    """A mapping that leaves the labels to the defaults: False/True is normal/attack; any value it
    does not know is an error naming the file, line and value, never a guessed attack."""
    from kdgat_data.readers.errors import DataFormatError

    mapping = ColumnMapping(timestamp="t", id="id", payload="data", label="ANOMALY")
    booleans = write(tmp_path / "daga.csv", "t,id,data,ANOMALY\n0.1,123,0102,False\n0.2,124,0102,True\n0.3,123,01,False\n")
    table, _ = read_frames(booleans, ReaderOptions(format="column_mapped", mapping=mapping))
    assert table.label.tolist() == [0, 1, 0]
    unknown = write(tmp_path / "odd.csv", "t,id,data,ANOMALY\n0.1,123,0102,False\n0.2,124,0102,Suspicious\n")
    with pytest.raises(DataFormatError, match=r"odd.csv:3: ANOMALY: .*got 'Suspicious'.*normal_values"):
        read_frames(unknown, ReaderOptions(format="column_mapped", mapping=mapping))


DAGA = ("Timestamp,ID,DLC,Payload,ANOMALY\n"
        "0.001,0C1,64,0102030405060708,False\n"
        "0.002,0C5,32,0A0B0C0D,True\n"
        "0.003,0C1,64,0102030405060709,False\n")
DAGA_MAPPING = dict(timestamp="Timestamp", id="ID", dlc="DLC", payload="Payload", label="ANOMALY")


@pytest.mark.parametrize("labels", [{}, {"normal_values": ["False"], "attack_values": ["True"]}, {"normal_values": ["False"]}])
def test_daga_dlc_in_bits_and_anomaly_flags_name_the_attack_from_the_scenario(tmp_path, write, labels):
    """DAGA-style CSVs: the DLC in bits, True/False ANOMALY flags; the attack is named by the
    scenario folder (or file), never "true", whether or not the mapping names the flag values."""
    path = write(tmp_path / "test_02_fuzzing" / "capture.csv", DAGA)
    mapping = ColumnMapping(**DAGA_MAPPING, dlc_unit="bits", **labels)
    table, _ = read_frames(path, ReaderOptions(format="column_mapped", mapping=mapping))
    assert table.dlc.tolist() == [8, 4, 8]
    assert table.payload[1].tolist() == [0x0A, 0x0B, 0x0C, 0x0D, 0, 0, 0, 0]
    assert table.label.tolist() == [0, 1, 0] and table.attack_counts() == {"fuzzing": 1}


def test_a_dlc_in_bits_read_as_bytes_is_an_error_with_the_hint(tmp_path, write):
    from kdgat_data.readers.errors import DataFormatError

    path = write(tmp_path / "daga.csv", DAGA)
    with pytest.raises(DataFormatError, match=r"daga.csv:2: DLC: expected a DLC from 0 to 8, got '64' .*dlc_unit: bits"):
        read_frames(path, ReaderOptions(format="column_mapped", mapping=ColumnMapping(**DAGA_MAPPING)))
    bad = write(tmp_path / "odd_bits.csv", DAGA.replace(",32,", ",30,"))
    with pytest.raises(DataFormatError, match=r"odd_bits.csv:3: DLC: expected a DLC in bits"):
        read_frames(bad, ReaderOptions(format="column_mapped", mapping=ColumnMapping(**DAGA_MAPPING, dlc_unit="bits")))


def test_per_file_readers_mix_formats_in_one_dataset(tmp_path, write):
    from kdgat_data.domains.automotive.readers.file_reader import FileReader

    road = write(tmp_path / "vehicle_a" / "fuzzing_attack_1.csv",
                 "Time,Id,Byte1,Byte2,Byte3,Byte4,Byte5,Byte6,Byte7,Byte8,Label\n"
                 "0.1,1A0,01,02,03,04,05,06,07,08,Benign\n0.2,FFF,01,02,03,04,05,06,07,08,fuzzing\n")
    daga = write(tmp_path / "vehicle_b" / "dos_run.csv", DAGA)
    options = ReaderOptions(format="road", files=[
        FileReader(files=["vehicle_b/*.csv"], format="column_mapped",
                   mapping=ColumnMapping(**DAGA_MAPPING, dlc_unit="bits"), attack_type="dos_flood")])
    road_table, _ = read_frames(road, options)
    daga_table, _ = read_frames(daga, options)
    assert road_table.can_id.tolist() == [0x1A0, 0xFFF] and road_table.attack_counts() == {"fuzzing": 1}
    assert daga_table.dlc.tolist() == [8, 4, 8]
    assert daga_table.attack_counts() == {"dos_flood": 1}
    assert options.fingerprint() != ReaderOptions(format="road").fingerprint()  # a new cache key


def test_candump_screen_and_log_are_detected(tmp_path, write):
    screen = write(tmp_path / "s.log", " (000.000000)  can0  18FCF200   [2]  E1 FF\n")
    log = write(tmp_path / "l.log", "(1676937898.314919) can0 08FE6E0B#FFFE\n")
    assert detect_format(screen) == "candump_screen"
    assert detect_format(log) == "python_can"
    a, _ = read_frames(screen)
    b, _ = read_frames(log)
    assert a.payload[0, :2].tolist() == [0xE1, 0xFF]
    assert b.payload[0, :2].tolist() == [0xFF, 0xFE]
    assert a.dlc.tolist() == [2] and b.dlc.tolist() == [2]
    assert b.can_id.tolist() == [0x08FE6E0B]


def test_blank_lines_are_ignored_and_line_numbers_kept(tmp_path, write):
    path = write(tmp_path / "a.csv", "timestamp,arbitration_id,data_field,attack\n1.0,100,00,0\n\n2.0,XYZ,00,0\n")
    with pytest.raises(ValueError, match=r"a\.csv:4: arbitration_id"):
        read_frames(path)


def test_frames_table_is_columnar_numpy(tmp_path, write):
    path = write(tmp_path / "a.csv", "timestamp,arbitration_id,data_field,attack\n1.0,100,0102,0\n")
    table, _ = read_frames(path)
    assert table.timestamp.dtype == np.float64 and table.payload.shape == (1, 8) and table.payload.dtype == np.uint8


def test_formats_are_named_as_users_call_them(tmp_path, write):
    """``format: candump`` (a `candump -l` log), ``asc`` and ``blf`` are the python-can reader; a wrong name
    lists them."""
    log = write(tmp_path / "drive.log", "(1676937898.314919) can0 08FE6E0B#FFFE\n(1676937898.315000) can0 123#01\n")
    for alias in ("candump", "candump_log", "asc", "blf"):
        assert ReaderOptions(format=alias).format == "python_can"
    table, report = read_frames(log, ReaderOptions(format="candump", attack_ids=["123"]))
    assert report.format == "python_can" and table.can_id.tolist() == [0x08FE6E0B, 0x123]
    assert table.label.tolist() == [0, 1]
    with pytest.raises(ValueError, match="candump -l logs, ASC and BLF: candump"):
        ReaderOptions(format="kvaser")
