"""The data module's cache opening: the validation windows per class are said at the start of training."""

import logging

from kdgat_train.config.settings import DatasetSettings
from kdgat_train.window_data_module import open_cache


def _validation_messages(caplog, settings, minimum):
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="kdgat_train.window_data_module"):
        cache = open_cache(settings, min_class_windows=minimum)
    return cache, [r for r in caplog.records if "validation:" in r.getMessage()]


def test_training_start_warns_when_validation_is_short_of_a_class(project, caplog, capsys):
    """Every run's log says it; the console hears it once per process (a pipeline opens the cache in each
    of its stages: it was said 12 times), in kdgat-train's own voice."""
    settings = DatasetSettings(name="synthetic", window=50, stride=50)
    cache, _ = _validation_messages(caplog, settings, 1)
    val = cache.manifest.splits["val"]
    assert min(val.normal_windows, val.attack_windows) >= 1, "the tiny synthetic validation should hold both classes"

    capsys.readouterr()
    for _ in range(3):  # three stages of one pipeline
        _, said = _validation_messages(caplog, settings, val.attack_windows + 1)
        assert len(said) == 1  # in each run's log
    assert f"{val.normal_windows} normal and {val.attack_windows} attack windows" in said[0].getMessage()
    assert "fewer than" in said[0].getMessage() and "attack" in said[0].getMessage()
    console = [line for line in capsys.readouterr().err.splitlines() if "validation:" in line]
    assert len(console) == 1 and console[0].startswith("kdgat-train: warning: synthetic validation:")

    _, said = _validation_messages(caplog, settings, min(val.normal_windows, val.attack_windows))
    assert len(said) == 1 and said[0].levelno == logging.INFO


def test_cache_build_steps_reach_the_console_and_a_reuse_does_not(capsys, caplog):
    import logging

    from kdgat_train.window_data_module import _cache_progress

    progress = _cache_progress(logging.getLogger("kdgat_train.window_data_module"))
    with caplog.at_level(logging.INFO):
        progress("reading train_01_attack_free/normal-1.csv")
        progress("reusing cache data/cache/synthetic/abc")
    shown = capsys.readouterr().err
    assert "cache: reading train_01_attack_free/normal-1.csv [0 s]" in shown and "reusing" not in shown
    assert "reusing cache" in caplog.text  # train.log still says it
