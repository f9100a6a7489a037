from pathlib import Path

from kdgat_models.cli import main

PRESETS = Path(__file__).resolve().parents[3] / "configs" / "model_sizes.toml"


def test_summary_table(capsys):
    main(["summary", "--vocab-size", "100", "--presets", str(PRESETS)])
    out = capsys.readouterr().out
    rows = [line.split() for line in out.splitlines() if line.startswith(("gat", "vgae", "dqn"))]
    assert [(r[0], r[1]) for r in rows] == [(f, s) for f in ("gat", "vgae", "dqn") for s in ("teacher", "student")]
    assert all(int(r[2].replace(",", "")) > 0 and float(r[3]) > 0 for r in rows)
