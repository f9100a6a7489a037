"""A frozen KD teacher's outputs, computed once per window and read by every student epoch.

A KD student used to run its teacher forward on every training and validation batch of every
epoch, although the teacher is frozen, in eval mode and sees the same windows each epoch: the same
outputs were recomputed 10-50 times, and the teacher's forward was most of a KD epoch. Here the
outputs the student's KD loss reads (the GAT's ``logits``; the VGAE's ``z`` and ``x_reconstruction``)
are computed once for every window of a split, in store order, saved beside the dataset's graph
cache and looked up for each batch through its ``window_index``.

The file is keyed by the sha256 of the teacher's best checkpoint (a retrained or edited teacher is
another file) and checks the cache's manifest hash and window count when read (a rebuilt cache is
recomputed, never misread). The teacher sees each window as it is in the cache: ID dropout, which
shows the STUDENT some nodes as UNK, is applied after the lookup, so the KD target is the teacher's
view of the true window (``distillation_config.teacher_outputs=live`` runs the teacher on the
student's augmented batch instead, as before). Curriculum and class-balanced draws pick windows
and do not change them, so they read the same outputs.
"""

from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import torch
from kdgat_data.batching import WindowBatches, segment_positions
from kdgat_data.cache import GraphCache
from kdgat_data.file_digests import sha256_file
from kdgat_models.self_loops import SelfLoops

FORMAT_VERSION = 1


class TeacherOutputs:
    """One split's teacher outputs, indexed by window.

    Args:
        window_outputs: ``{name: (windows, ...) tensor}``, one row per window (the GAT's logits).
        node_outputs: ``{name: (nodes, ...) tensor}``, one row per node of the split (the VGAE's latent).
        node_ptr: (windows + 1,) the split's node offsets (where each window's nodes start).
    """

    def __init__(self, *, window_outputs: dict[str, torch.Tensor], node_outputs: dict[str, torch.Tensor],
                 node_ptr: np.ndarray) -> None:
        self.window_outputs, self.node_outputs = window_outputs, node_outputs
        self.node_ptr = np.asarray(node_ptr, dtype=np.int64)

    def for_batch(self, window_index: torch.Tensor, device: torch.device | None = None) -> SimpleNamespace:
        """The outputs of the windows ``window_index`` in that order, as the teacher's forward on their
        batch would give them (attributes named as on the network's output).

        Shapes: window_index (B,) -> window outputs (B, ...), node outputs (nodes of the B windows, ...).
        """
        index = window_index.cpu().numpy()
        found = {name: values[torch.from_numpy(index)] for name, values in self.window_outputs.items()}
        if self.node_outputs:
            nodes = torch.from_numpy(segment_positions(self.node_ptr, index)[0])
            found.update({name: values[nodes] for name, values in self.node_outputs.items()})
        if device is not None:
            found = {name: value.to(device, non_blocking=True) for name, value in found.items()}
        return SimpleNamespace(**found)


def store_folder(cache: GraphCache) -> Path:
    """Where teacher outputs for ``cache`` are kept: a sibling folder (the cache folder itself holds
    only the files its checksums list)."""
    return cache.path.parent / f"{cache.path.name}.teacher-outputs"


def store_path(checkpoint: Path, cache: GraphCache, split: str) -> Path:
    """The file holding the outputs of the teacher whose weights are ``checkpoint`` on ``split`` of ``cache``."""
    return store_folder(cache) / f"{sha256_file(checkpoint)[:24]}-{split.replace('/', '_')}.pt"


def compute_teacher_outputs(teacher: torch.nn.Module, arrays, *, window_outputs: tuple[str, ...],
                            node_outputs: tuple[str, ...], batch_size: int = 256) -> TeacherOutputs:
    """Run the frozen ``teacher`` over every window of ``arrays`` (in store order, self-loops added as
    in training) and keep the named outputs."""
    collected: dict[str, list[torch.Tensor]] = {name: [] for name in (*window_outputs, *node_outputs)}
    with torch.no_grad():
        for batch in WindowBatches(arrays, batch_size, transform=SelfLoops()):
            output = teacher.forward_batch(batch)
            for name in collected:
                collected[name].append(getattr(output, name).detach().float().cpu())
    joined = {name: torch.cat(parts) if parts else torch.zeros(0) for name, parts in collected.items()}
    return TeacherOutputs(window_outputs={name: joined[name] for name in window_outputs},
                          node_outputs={name: joined[name] for name in node_outputs},
                          node_ptr=np.asarray(arrays.node_ptr))


def stored_teacher_outputs(teacher: torch.nn.Module, checkpoint: Path, cache: GraphCache, split: str, *,
                           window_outputs: tuple[str, ...], node_outputs: tuple[str, ...],
                           batch_size: int = 256) -> TeacherOutputs:
    """The outputs of ``teacher`` (whose weights are ``checkpoint``) on split ``split`` of ``cache``:
    read from the store when a file for this checkpoint, this cache content and these outputs is
    there, else computed and stored (written atomically; two processes computing the same file
    both write identical content)."""
    log = logging.getLogger(__name__)
    arrays = cache.split(split)
    path = store_path(checkpoint, cache, split)
    wanted = {"format": FORMAT_VERSION, "manifest_hash": cache.manifest.content_hash(), "windows": len(arrays),
              "window_outputs": list(window_outputs), "node_outputs": list(node_outputs)}
    if path.is_file():
        try:
            saved = torch.load(path, map_location="cpu", weights_only=True)
        except Exception as error:  # a truncated or foreign file: recompute it
            log.warning("teacher outputs %s unreadable (%s): recomputing them", path, str(error).splitlines()[0][:120])
        else:
            if saved.get("identity") == wanted:
                log.info("teacher outputs for %s read from %s", split, path)
                return TeacherOutputs(window_outputs=saved["window"], node_outputs=saved["node"],
                                      node_ptr=np.asarray(arrays.node_ptr))
            log.info("teacher outputs %s are for another cache or other outputs: recomputing them", path)
    outputs = compute_teacher_outputs(teacher, arrays, window_outputs=window_outputs, node_outputs=node_outputs,
                                      batch_size=batch_size)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    os.close(handle)
    try:
        torch.save({"identity": wanted, "window": outputs.window_outputs, "node": outputs.node_outputs}, temporary)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    log.info("teacher outputs for %s computed once and stored in %s", split, path)
    return outputs
