"""Console lines that say nothing to a kdgat user, dropped from the terminal while a run works; each
run's train.log still gets every line."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

# Lightning's advertisement on every Trainer: "Tip: For seamless cloud logging ... litlogger"
TIPS = ("💡 Tip:",)
# per-stage INFO lines ("Seed set", "GPU available", ...): noise when a pipeline trains ten stages
CHATTY = ("lightning.pytorch.utilities.rank_zero", "lightning.fabric.utilities.seed")


class QuietConsole(logging.Filter):
    """Drops Lightning's tips always, and its per-stage INFO lines when ``chatty`` is false.

    Args:
        chatty: keep the per-stage INFO lines (a single stage shows them; a pipeline does not).
    """

    def __init__(self, *, chatty: bool) -> None:
        super().__init__()
        self.chatty = chatty

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno > logging.INFO:
            return True
        if str(record.msg).startswith(TIPS):
            return False
        return self.chatty or record.name not in CHATTY


@contextmanager
def quiet_console(*, chatty: bool) -> Iterator[None]:
    """Inside the block, every console handler (a plain `StreamHandler` on any logger) filters with
    `QuietConsole`; file handlers such as train.log are left alone."""
    quiet = QuietConsole(chatty=chatty)
    loggers = [logging.getLogger(), *(logger for logger in logging.Logger.manager.loggerDict.values()
                                      if isinstance(logger, logging.Logger))]
    consoles = {handler for logger in loggers for handler in logger.handlers if type(handler) is logging.StreamHandler}
    for handler in consoles:
        handler.addFilter(quiet)
    try:
        yield
    finally:
        for handler in consoles:
            handler.removeFilter(quiet)
