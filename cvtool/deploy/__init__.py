"""Using trained models outside training: open any model file for inference (`models`), and
export checkpoints to ONNX or TorchScript with their metadata and a parity check (`export`)."""
