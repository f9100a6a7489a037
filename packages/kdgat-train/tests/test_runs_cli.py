"""``kdgat-runs show``: a broken run.json is said to be broken, not printed as if it were a record."""

from click.testing import CliRunner
from kdgat_train.runs_cli import main


def test_show_of_a_corrupt_run_record_is_an_error_naming_the_file(tmp_path):
    (tmp_path / "run.json").write_text('{"name": "automotive_synthetic_pipeline", "status": "COMPL')
    (tmp_path / "config.yaml").write_text("experiment_name: automotive_synthetic_pipeline\n")
    result = CliRunner().invoke(main, ["show", str(tmp_path)])
    assert result.exit_code == 1
    assert f"{tmp_path / 'run.json'}: broken run record" in result.output
    assert '"status": "COMPL' not in result.output and "Traceback" not in result.output
