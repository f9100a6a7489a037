"""Flow logs: Zeek conn.log, IoT-23 CSV and CIC CSV; counts on the shared captures equal their README; bad input."""

from pathlib import Path

import numpy as np
import pytest
from kdgat_data.domains.internet.flow_readers import FlowOptions, read_flows
from kdgat_data.readers.errors import DataFormatError, OnBadRow

INTERNET = Path(__file__).resolve().parents[5] / ".." / "shared" / "data" / "internet"


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


ZEEK_CSV = "ts,id.orig_h,id.resp_h,id.resp_p,proto,duration,orig_bytes,resp_bytes,conn_state,orig_pkts,resp_pkts,label\n"


def zeek(ts, src, dst, label, orig_bytes="10", sep=","):
    """One IoT-23-style CSV flow line with every counter the reader needs."""
    return sep.join([str(ts), src, dst, "80", "tcp", "1.0", orig_bytes, "20", "SF", "1", "1", label]) + "\n"


def test_cic_improved_relabel_spellings_and_microsecond_timestamps(tmp_path):
    """CIC-IDS2017 "improved" (Engelen et al.): other counter spellings, timestamps with microseconds."""
    path = tmp_path / "improved.csv"
    path.write_text("id,Flow ID,Src IP,Src Port,Dst IP,Dst Port,Protocol,Timestamp,Flow Duration,Total Fwd Packet,"
                    "Total Bwd packets,Total Length of Fwd Packet,Total Length of Bwd Packet,Label,Attempted Category\n"
                    "1,f1,10.0.0.1,5000,10.0.0.2,80,6,2017-07-07 13:39:36.267908,2000000,3,2,300,800,BENIGN,-1\n"
                    "2,f2,10.0.0.3,5001,10.0.0.2,80,6,2017-07-07 13:39:36.5,10,4,0,160,0,DoS Hulk,0\n")
    table, report = read_flows(path)
    assert report.format == "cic"
    assert table.timestamp.tolist() == pytest.approx([1499434776.267908, 1499434776.5])
    assert table.packets_out.tolist() == [3, 4] and table.packets_in.tolist() == [2, 0]
    assert table.bytes_out.tolist() == [300, 160] and table.bytes_in.tolist() == [800, 0]
    assert table.failed.tolist() == [0, 1] and table.attack_counts() == {"DoS Hulk": 1}


@pytest.mark.parametrize(("header", "missing"), [
    (CIC.replace(" Tot Bwd Pkts,", ""), "'Tot Bwd Pkts' or 'Total Backward Packets' or 'Total Bwd Packets'"),
    (CIC.replace(" TotLen Fwd Pkts,", ""), "'TotLen Fwd Pkts'"),
    (ZEEK_CSV.replace("orig_pkts,", ""), "'orig_pkts'"),
    (ZEEK_CSV.replace(",label", ""), "'label'"),
    (ZEEK_CSV.replace("conn_state,", ""), "'conn_state'"),
])
def test_a_missing_counter_or_label_column_is_an_error_not_zeros(tmp_path, header, missing):
    path = tmp_path / "flows.csv"
    path.write_text(header)
    with pytest.raises(DataFormatError) as error:
        read_flows(path)
    assert "missing column(s)" in str(error.value) and missing in str(error.value) and error.value.line == 1


@pytest.mark.parametrize(("text", "message", "line"), [
    (CIC.replace("Src IP", "Source Host") + "f,a,1,b,80,6,03/07/2017 08:55:58,1,1,1,1,1,BENIGN\n",
     "not a flow log", 1),
    (ZEEK_CSV.replace("id.resp_h,", "") + "1.0,10.0.0.1,80,tcp,1,1,1,SF,1,1,Benign\n", "missing column(s) 'id.resp_h'", 1),
    (ZEEK_CSV + zeek("yesterday", "10.0.0.1", "10.0.0.2", "Benign"), "ts: expected epoch seconds", 2),
    (ZEEK_CSV + zeek(1.0, "10.0.0.1", "10.0.0.2", "Suspicious"),
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
    path.write_text(ZEEK_CSV + zeek(1.0, "a", "b", "Benign") + zeek("soon", "a", "b", "Benign") + zeek(2.0, "b", "a", "Malicious"))
    table, report = read_flows(path, FlowOptions(on_bad_row=OnBadRow.SKIP))
    assert len(table) == 2 and report.skipped_rows == 1


def test_short_rows_quoted_fields_and_crlf(tmp_path):
    path = tmp_path / "flows.csv"
    path.write_text(ZEEK_CSV + zeek(1.0, "a", "b", "Benign") + "2.0,b\n")
    with pytest.raises(DataFormatError) as error:
        read_flows(path)
    assert "row: expected 12 fields, got 2" in str(error.value) and error.value.line == 3
    crlf = lambda text: text.replace("\n", "\r\n")  # noqa: E731
    path.write_text(crlf(ZEEK_CSV + zeek(1.0, '"host, one"', "b", "Benign") + "\n" + zeek(2.0, "b", "a", "Malicious")))
    table, _ = read_flows(path)
    assert table.hosts == ("host, one", "b", "a") and table.label.tolist() == [0, 1]
    path.write_text(crlf(ZEEK_CSV + zeek(1.0, "a", "b", "Benign") + zeek(2.0, "b", "a", "Malicious")))
    table, _ = read_flows(path)
    assert table.hosts == ("a", "b") and table.attack_counts() == {"Malicious": 1}


def test_every_bad_row_is_found_at_once_and_the_first_is_named(tmp_path):
    path = tmp_path / "flows.csv"
    path.write_text(ZEEK_CSV + zeek(1.0, "a", "b", "Benign") + zeek(2.0, "a", "b", "Benign", orig_bytes="lots")
                    + zeek("later", "a", "b", "Benign", orig_bytes="1"))
    with pytest.raises(DataFormatError) as error:
        read_flows(path)
    assert error.value.line == 3 and "bytes_out 'lots'" in str(error.value)
    table, report = read_flows(path, FlowOptions(on_bad_row=OnBadRow.SKIP))
    assert len(table) == 1 and report.skipped_rows == 2


ZEEK_TSV = ("#separator \\x09\n#fields\tts\tid.orig_h\tid.resp_h\tid.resp_p\tproto\tduration\torig_bytes\tresp_bytes\t"
            "conn_state\torig_pkts\tresp_pkts\tlabel\n")


@pytest.mark.parametrize(("text", "typed"), [
    # a clean log: the numbers straight from the CSV parser ('-' unset, a trailing #close line)
    (ZEEK_TSV + "2.5\ta\tb\t80\ttcp\t-\t10\t-\tSF\t1\t1\tBenign\n1.0\tb\ta\t-\tudp\t0.5\t1e3\t20\tS0\t2\t0\tMalicious\n"
     "#close\t2022-06-17-00-00-07\n", True),
    # "(empty)" is no number for the CSV parser: the whole log is read as text, to the same values
    (ZEEK_TSV + "2.5\ta\tb\t80\ttcp\t(empty)\t10\t-\tSF\t1\t1\tBenign\n1.0\tb\ta\t-\tudp\t0.5\t1e3\t20\tS0\t2\t0\tMalicious\n",
     False),
    # a comment between flows would not parse as a time: text again
    (ZEEK_TSV + "2.5\ta\tb\t80\ttcp\t-\t10\t-\tSF\t1\t1\tBenign\n#note\n1.0\tb\ta\t-\tudp\t0.5\t1e3\t20\tS0\t2\t0\tMalicious\n",
     False),
])
def test_numbers_parsed_by_the_csv_reader_equal_the_text_reading(tmp_path, text, typed):
    from kdgat_data.domains.internet.flow_readers import _flow_rows

    path = tmp_path / "conn.log"
    path.write_text(text)
    header, fast, parsed_as_numbers = _flow_rows(path, "zeek", typed=True)
    _, slow, parsed_from_text = _flow_rows(path, "zeek", typed=False)
    assert parsed_as_numbers is typed and parsed_from_text is False
    columns = ["line", "timestamp", "duration", "bytes_out", "bytes_in", "packets_out", "packets_in", "port", "src", "value"]
    assert fast.select(columns).equals(slow.select(columns))
    table, _ = read_flows(path)
    assert table.timestamp.tolist() == [1.0, 2.5] and table.dst_port.tolist() == [-1, 80]
    assert table.bytes_out.tolist() == [1000.0, 10.0] and table.bytes_in.tolist() == [20.0, 0.0]
    assert table.duration.tolist() == [0.5, 0.0] and table.failed.tolist() == [1, 0]


def test_a_bad_number_in_a_clean_looking_log_is_named_with_its_text(tmp_path):
    path = tmp_path / "conn.log"
    path.write_text(ZEEK_TSV + "2.5\ta\tb\t80\ttcp\t1.0\t10\tnan\tSF\t1\t1\tBenign\n")  # parses as a float, NaN
    with pytest.raises(DataFormatError) as error:
        read_flows(path)
    assert "got bytes_in 'nan'" in str(error.value) and error.value.line == 3
