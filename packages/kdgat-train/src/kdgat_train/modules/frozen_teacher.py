"""A frozen teacher network held by a LightningModule without becoming part of it."""

from __future__ import annotations


class FrozenTeacherMixin:
    """Keeps ``teacher`` in a plain list, so it is neither a submodule (no state-dict entries, no
    optimizer parameters, never switched to train mode) nor forgotten when moving devices."""

    def _set_teacher(self, teacher) -> None:
        self._teacher = [teacher] if teacher is not None else []

    @property
    def teacher(self):
        return self._teacher[0] if self._teacher else None

    def on_fit_start(self) -> None:
        if self.teacher is not None:
            self.teacher.to(self.device)
