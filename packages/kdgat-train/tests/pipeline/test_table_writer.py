"""The one table writer: each format's escape rule, for every table the tool writes."""

import csv
import io
import json

import numpy as np
import pytest
from kdgat_train.pipeline.table_writer import csv_text, json_text, latex_table, markdown_table


def test_a_pipe_in_a_cell_cannot_split_a_markdown_row():
    lines = markdown_table(["row", "F1"], [["GAT | student", "0.9"]])
    assert lines == ["| row | F1 |", "|---|---|", "| GAT &#124; student | 0.9 |"]


def test_latex_cells_are_escaped_and_bold_where_asked():
    text = latex_table(["model", "dos_attack"], [["GAT_1 & 50%", "0.9 ± 0.1"], ["gbdt", "0.8"]], align="lr",
                       bold={(0, 1)}, caption="F1 per scenario, mean ± interval")
    assert text.splitlines()[0] == r"% F1 per scenario, mean $\pm$ interval"
    assert r"GAT\_1 \& 50\% & \textbf{0.9 $\pm$ 0.1} \\" in text and r"gbdt & 0.8 \\" in text
    assert r"model & dos\_attack \\" in text and text.rstrip().endswith(r"\end{tabular}")


def test_csv_reads_back_what_was_written():
    text = csv_text(["model", "f1"], [["GAT, student", 0.5], ["gbdt", None]])
    assert "\r" not in text
    assert list(csv.reader(io.StringIO(text))) == [["model", "f1"], ["GAT, student", "0.5"], ["gbdt", ""]]


def test_json_writes_numpy_scalars_as_numbers_and_refuses_what_it_cannot_encode():
    assert json.loads(json_text({"mean": np.float32(0.5), "seeds": [np.int64(3)]})) == {"mean": 0.5, "seeds": [3]}
    with pytest.raises(TypeError, match="object"):
        json_text({"when": object()})
