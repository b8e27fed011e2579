# onnx_check.py: runs simclr export's ONNX models in onnxruntime and compares them with simclr embed.
# Arguments: groups of four paths: model.onnx inputs.npy features.npy z.npy ("-" when the run has no head).
# Inputs are as simclr embed --inputs writes them (images NHWC); the model reads images NCHW.
# Prints one line per model: max |features - embed|, max |embed features|, the same for z (or "- -"), and the
# model's input names.
import sys
import numpy as np
import onnxruntime as ort

args = sys.argv[1:]
for i in range(0, len(args), 4):
    model, x, feats, z = args[i:i + 4]
    s = ort.InferenceSession(model, providers=["CPUExecutionProvider"])
    x = np.load(x)
    if x.ndim == 4:
        x = np.ascontiguousarray(x.transpose(0, 3, 1, 2))
    out = s.run(None, {"x": x})
    f = np.load(feats)
    line = [float(np.abs(out[0] - f).max()), float(np.abs(f).max())]
    if z != "-":
        zz = np.load(z)
        line += [float(np.abs(out[1] - zz).max()), float(np.abs(zz).max())]
    else:
        line += ["-", "-"]
    print(*line, ",".join(o.name for o in s.get_outputs()))
