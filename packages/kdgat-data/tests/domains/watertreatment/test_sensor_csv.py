"""Plant CSVs (BATADAL / SWaT style): counts on the shared BATADAL files, label values, attack windows, bad input."""

from pathlib import Path

import numpy as np
import pytest
from kdgat_data.domains.watertreatment.sensor_csv import (
    SensorCsvOptions,
    read_attack_windows,
    read_sensor_csv,
)
from kdgat_data.readers.errors import DataFormatError, OnBadRow

BATADAL = Path(__file__).resolve().parents[5] / ".." / "shared" / "data" / "watertreatment" / "batadal"


@pytest.mark.real_data
def test_batadal_counts_equal_the_readme():
    if not BATADAL.is_dir():
        pytest.skip("../shared/data/watertreatment is absent")
    normal, _ = read_sensor_csv(BATADAL / "BATADAL_train_dataset_1.csv")
    attacked, _ = read_sensor_csv(BATADAL / "BATADAL_train_dataset_2.csv")  # ", " separators, -999 = not attack
    assert (len(normal), normal.attack_frames) == (8761, 0)
    assert (len(attacked), attacked.attack_frames) == (4177, 219)
    assert len(normal.sensors) == 43 and normal.sensors[0] == "L_T1" and attacked.sensors == normal.sensors
    assert np.all(np.diff(attacked.timestamp) == 3600)  # hourly, sorted
    windows = SensorCsvOptions(attack_windows=str(BATADAL / "attacks_official_table.transcribed.csv"))
    official, _ = read_sensor_csv(BATADAL / "BATADAL_train_dataset_2.csv", windows)
    assert official.attack_frames == 50 + 24 + 60 + 94 + 60 + 94 + 110  # the table's 7 attacks of dataset 2, in hours
    assert official.attack_counts()["attack_3"] == 60


def test_swat_style_labels_and_times(tmp_path):
    path = tmp_path / "swat.csv"
    path.write_text(" Timestamp,FIT101,LIT101,Normal/Attack\n"
                    "28/12/2015 10:00:01 AM,2.4,520.1,Normal\n"
                    "28/12/2015 10:00:00 AM,2.5,520.0,Normal\n"
                    "28/12/2015 10:00:02 AM,0.0,530.0,A ttack\n")
    table, report = read_sensor_csv(path)
    assert table.sensors == ("FIT101", "LIT101") and report.rows == 3
    assert table.label.tolist() == [0, 0, 1]  # sorted by time
    assert table.values[0].tolist() == pytest.approx([2.5, 520.0])


def test_attack_windows_override_the_row_flags(tmp_path):
    data = tmp_path / "plant.csv"
    data.write_text("DATETIME,A,B,ATT_FLAG\n" + "".join(f"01/01/20 {h:02d},{h},{2 * h},0\n" for h in range(6)))
    table_file = tmp_path / "windows.csv"
    table_file.write_text("# comment\nattack_id,start,end\n9,2020-01-01 02:00,2020-01-01 03:00\n")
    assert read_attack_windows(table_file)[0][2] == "attack_9"
    table, _ = read_sensor_csv(data, SensorCsvOptions(attack_windows=str(table_file)))
    assert table.label.tolist() == [0, 0, 1, 1, 0, 0] and table.attack_counts() == {"attack_9": 2}


@pytest.mark.parametrize(("row", "message"), [
    ("01/13/20 00,1,2,0", "timestamp: expected a date"),
    ("01/01/20 00,1,2,maybe", "ATT_FLAG: expected one of 1, Attack, A ttack, 0, -999, Normal, got 'maybe'"),
    ("01/01/20 00,1,x,0", "B: expected a number, got 'x'"),
    ("01/01/20 00,1", "row: expected 4 columns, got 2"),
])
def test_bad_rows_name_file_line_and_field(tmp_path, row, message):
    path = tmp_path / "plant.csv"
    path.write_text("DATETIME,A,B,ATT_FLAG\n01/01/20 01,1,2,0\n" + row + "\n")
    with pytest.raises(DataFormatError) as error:
        read_sensor_csv(path)
    assert error.value.line == 3 and message in str(error.value) and str(path) in str(error.value)
    table, report = read_sensor_csv(path, SensorCsvOptions(on_bad_row=OnBadRow.SKIP))
    assert len(table) == 1 and report.skipped_rows == 1


def test_configurable_label_values(tmp_path):
    path = tmp_path / "plant.csv"
    path.write_text("time,A,state\n2020-01-01 00:00,1,ok\n2020-01-01 01:00,2,bad\n")
    table, _ = read_sensor_csv(path, SensorCsvOptions(label_column="state", attack_values=("bad",), normal_values=("ok",)))
    assert table.label.tolist() == [0, 1] and table.sensors == ("A",)
