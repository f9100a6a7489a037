"""Lightning's tips never reach the console; a pipeline also drops its per-stage INFO lines; files
(train.log) keep every line."""

import io
import logging

import pytest
from kdgat_train.quiet_console import quiet_console

TIP = "💡 Tip: For seamless cloud logging and experiment tracking, try installing [litlogger](...)"


@pytest.mark.parametrize(("chatty", "seed_shown"), [(True, True), (False, False)])
def test_tips_are_dropped_from_the_console_and_kept_in_files(tmp_path, chatty, seed_shown):
    logger = logging.getLogger("lightning.pytorch.utilities.rank_zero")
    console_text, log_file = io.StringIO(), tmp_path / "train.log"
    console, file = logging.StreamHandler(console_text), logging.FileHandler(log_file)
    logger.addHandler(console)
    logger.addHandler(file)
    level, logger.level = logger.level, logging.INFO
    try:
        with quiet_console(chatty=chatty):
            logger.info(TIP)
            logger.info("Seed set to 42")
            logger.warning("a real warning")
        logger.info("after the block")
    finally:
        logger.removeHandler(console)
        logger.removeHandler(file)
        file.close()
        logger.level = level
    shown = console_text.getvalue()
    assert "litlogger" not in shown and "a real warning" in shown and "after the block" in shown
    assert ("Seed set to 42" in shown) is seed_shown
    assert "litlogger" in log_file.read_text() and "Seed set to 42" in log_file.read_text()
