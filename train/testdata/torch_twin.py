"""Loads an encoder written by simclr export into its PyTorch twin and compares the features with simclr embed's.

usage: torch_twin.py ENCODER.npz ENCODER.safetensors INPUTS.npy FEATURES.npy ACTIVATION NORMALIZE DEPTH
       (an mlp: DEPTH hidden layers), or ... cnn - STAGES (the small CNN: STAGES conv+pool stages)
Prints the largest absolute difference of the features, and the names and shapes of both files (equal).
"""
import json, struct, sys
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

npz, st, inputs, feats, act, normalize, depth = sys.argv[1:8]
depth = int(depth)


def read_safetensors(path):
    """A reader of the format (header length, JSON header, data at the offsets), without the safetensors package."""
    b = open(path, "rb").read()
    n = struct.unpack("<Q", b[:8])[0]
    h = json.loads(b[8:8 + n])
    data, out = b[8 + n:], {}
    for name, v in h.items():
        if name == "__metadata__":
            continue
        lo, hi = v["data_offsets"]
        dt = {"F32": np.float32, "I64": np.int64}[v["dtype"]]
        out[name] = np.frombuffer(data[lo:hi], dtype=dt).reshape(v["shape"])
    return out, h.get("__metadata__", {})


z = np.load(npz)
a = {k: z[k] for k in z.files}
b, meta = read_safetensors(st)
assert sorted(a) == sorted(b), (sorted(a), sorted(b))
for k in a:
    assert a[k].shape == b[k].shape and np.array_equal(a[k], b[k]), k
acts = {"relu": nn.ReLU, "tanh": nn.Tanh, "softplus": nn.Softplus, "gelu": nn.GELU, "identity": nn.Identity,
        "leaky_relu": lambda: nn.LeakyReLU(0.2)}
x = torch.from_numpy(np.load(inputs).astype(np.float64))
if act == "cnn":
    layers = []
    for l in range(depth):
        w = a[f"{3 * l}.weight"]
        layers += [nn.Conv2d(w.shape[1], w.shape[0], 3, padding=1), nn.MaxPool2d(2), nn.ReLU()]
    w = a[f"{3 * depth + 1}.weight"]
    layers += [nn.Flatten(), nn.Linear(w.shape[1], w.shape[0]), nn.ReLU()]
    x = x.permute(0, 3, 1, 2)  # NHWC, as simclr embed writes images, to NCHW
else:
    layers, d = [], a["0.weight"].shape[1]
    for l in range(depth):
        m = a[f"{2 * l}.weight"].shape[0]
        layers += [nn.Linear(d, m), acts[act]()]
        d = m
    layers.append(nn.Linear(d, a[f"{2 * depth}.weight"].shape[0], bias=False))
net = nn.Sequential(*layers).double()
net.load_state_dict({k: torch.from_numpy(v.astype(np.float64)) for k, v in a.items() if not k.startswith("head.")})
y = net(x)
if normalize == "true":
    y = F.normalize(y, dim=1, eps=1e-12)
diff = np.abs(y.detach().numpy() - np.load(feats)).max()
print(f"{diff:.3g}", meta.get("model"), " ".join(f"{k}{list(a[k].shape)}" for k in sorted(a)))
