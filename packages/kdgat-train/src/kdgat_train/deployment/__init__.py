"""Deployment of a trained run: export (ONNX / TorchScript) with what it needs to run alone, and the
streaming detector ``kdgat-detect`` that scores live or replayed traffic with the training feature code."""
