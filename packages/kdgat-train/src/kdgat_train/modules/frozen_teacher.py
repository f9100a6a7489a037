"""A frozen teacher network held by a LightningModule without becoming part of it."""

from __future__ import annotations

import torch


class FrozenTeacherMixin:
    """Keeps ``teacher`` in a plain list, so it is neither a submodule (no state-dict entries, no
    optimizer parameters, never switched to train mode) nor forgotten when moving devices.

    With ``teacher_outputs`` (``{split: kdgat_train.teacher_outputs.TeacherOutputs}``) the teacher's
    outputs on a batch of that split are looked up through the batch's ``window_index`` instead of
    running the teacher again; a batch without one (or a split without stored outputs) runs it.
    """

    def _set_teacher(self, teacher, teacher_outputs: dict | None = None) -> None:
        self._teacher = [teacher] if teacher is not None else []
        self._teacher_outputs = dict(teacher_outputs or {})

    @property
    def teacher(self):
        return self._teacher[0] if self._teacher else None

    def teacher_output(self, batch, split: str):
        """The frozen teacher's output on ``batch`` (of split ``split``: ``train`` or ``val``), stored or live."""
        stored = self._teacher_outputs.get(split)
        window_index = getattr(batch, "window_index", None)
        if stored is not None and window_index is not None:
            return stored.for_batch(window_index, device=self.device)
        with torch.no_grad():
            return self.teacher.forward_batch(batch)

    def on_fit_start(self) -> None:
        if self.teacher is not None:
            self.teacher.to(self.device)
