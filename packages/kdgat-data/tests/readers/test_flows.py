"""Flow logs: Zeek conn.log, IoT-23 CSV and CIC CSV; counts on the shared captures equal their README; bad input."""

from pathlib import Path

import numpy as np
import pytest
from kdgat_data.readers.errors import DataFormatError, OnBadRow
from kdgat_data.readers.flows import FlowOptions, read_flows

INTERNET = Path(__file__).resolve().parents[4] / ".." / "shared" / "data" / "internet"


def _shared(relative: str) -> Path:
    path = INTERNET / relative
    if not path.exists():
        pytest.skip("../shared/data/internet is absent")
    return path


@pytest.mark.real_data
def test_stratosphere_zeek_log_counts():
    path = _shared("stratosphere-008/conn.log.labeled")
    kept, report = read_flows(path, FlowOptions(background="normal"))
    assert report.format == "zeek" and len(kept) == 5663 and len(kept.hosts) == 1757
    assert kept.attack_frames == 4201 and kept.attack_counts() == {"External-Attack-to-Device": 4201}
    dropped, _ = read_flows(path)  # background ignored by default: 1,402 benign + 4,201 malicious remain
    assert len(dropped) == 1402 + 4201 and np.all(np.diff(dropped.timestamp) >= 0)


@pytest.mark.real_data
@pytest.mark.parametrize(("name", "flows", "hosts", "malicious"), [
    ("CTU-Malware-Capture-34-1-labeled.csv", 23145, 49, 21222),
    ("CTU-Malware-Capture-42-1-labeled.csv", 4426, 46, 6),
])
def test_iot23_csv_counts(name, flows, hosts, malicious):
    table, report = read_flows(_shared(f"iot23/{name}"))
    assert report.format == "zeek_csv" and (len(table), len(table.hosts), table.attack_frames) == (flows, hosts, malicious)
    assert np.all(np.diff(table.timestamp) >= 0)  # the file is not in time order; the table is


CIC = ("Flow ID, Src IP, Src Port, Dst IP, Dst Port, Protocol, Timestamp, Flow Duration, Tot Fwd Pkts, Tot Bwd Pkts, "
       "TotLen Fwd Pkts, TotLen Bwd Pkts, Label\n")


def test_cic_flow_csv(tmp_path):
    path = tmp_path / "cic.csv"
    path.write_text(CIC + "f1,10.0.0.1,5000,10.0.0.2,80,6,03/07/2017 08:55:58,2000000,3,2,300,800,BENIGN\n"
                          "f2,10.0.0.3,5001,10.0.0.2,80,6,03/07/2017 08:55:57,10,1,0,40,0,DoS Hulk\n")
    table, report = read_flows(path)
    assert report.format == "cic" and table.hosts == ("10.0.0.1", "10.0.0.2", "10.0.0.3")
    assert table.label.tolist() == [1, 0] and table.attack_counts() == {"DoS Hulk": 1}  # sorted by time
    assert table.duration.tolist() == pytest.approx([1e-5, 2.0]) and table.failed.tolist() == [1, 0]


@pytest.mark.parametrize(("text", "message", "line"), [
    (CIC.replace("Src IP", "Source Host") + "f,a,1,b,80,6,03/07/2017 08:55:58,1,1,1,1,1,BENIGN\n",
     "not a flow log", 1),
    ("ts,id.orig_h,id.orig_p,id.resp_p,proto,label\n1.0,10.0.0.1,5,80,tcp,Benign\n", "missing column(s) dst", 1),
    ("ts,id.orig_h,id.resp_h,label\nyesterday,10.0.0.1,10.0.0.2,Benign\n", "ts: expected epoch seconds", 2),
    ("ts,id.orig_h,id.resp_h,label\n1.0,10.0.0.1,10.0.0.2,Suspicious\n",
     "label: expected one of attack, background, benign, malicious, normal, got 'Suspicious'", 2),
    (CIC + "f,a,1,b,80,6,2017-13-45,1,1,1,1,1,BENIGN\n", "Timestamp: expected a date", 2),
])
def test_bad_input_names_file_line_and_what_was_expected(tmp_path, text, message, line):
    path = tmp_path / "flows.csv"
    path.write_text(text)
    with pytest.raises(DataFormatError) as error:
        read_flows(path)
    assert message in str(error.value) and error.value.line == line and str(path) in str(error.value)


def test_bad_rows_can_be_skipped(tmp_path):
    path = tmp_path / "flows.csv"
    path.write_text("ts,id.orig_h,id.resp_h,label\n1.0,a,b,Benign\nsoon,a,b,Benign\n2.0,b,a,Malicious\n")
    table, report = read_flows(path, FlowOptions(on_bad_row=OnBadRow.SKIP))
    assert len(table) == 2 and report.skipped_rows == 1


def test_short_rows_quoted_fields_and_crlf(tmp_path):
    path = tmp_path / "flows.csv"
    path.write_text("ts,id.orig_h,id.resp_h,label\n1.0,a,b,Benign\n2.0,b\n")
    with pytest.raises(DataFormatError) as error:
        read_flows(path)
    assert "row: expected 4 fields, got 2" in str(error.value) and error.value.line == 3
    path.write_text('ts,id.orig_h,id.resp_h,label\r\n1.0,"host, one",b,Benign\r\n\r\n2.0,b,a,Malicious\r\n')
    table, _ = read_flows(path)
    assert table.hosts == ("host, one", "b", "a") and table.label.tolist() == [0, 1]
    path.write_text("ts,id.orig_h,id.resp_h,label\r\n1.0,a,b,Benign\r\n2.0,b,a,Malicious\r\n")
    table, _ = read_flows(path)
    assert table.hosts == ("a", "b") and table.attack_counts() == {"Malicious": 1}


def test_every_bad_row_is_found_at_once_and_the_first_is_named(tmp_path):
    path = tmp_path / "flows.csv"
    path.write_text("ts,id.orig_h,id.resp_h,orig_bytes,label\n1.0,a,b,10,Benign\n2.0,a,b,lots,Benign\nlater,a,b,1,Benign\n")
    with pytest.raises(DataFormatError) as error:
        read_flows(path)
    assert error.value.line == 3 and "bytes_out 'lots'" in str(error.value)
    table, report = read_flows(path, FlowOptions(on_bad_row=OnBadRow.SKIP))
    assert len(table) == 1 and report.skipped_rows == 2
