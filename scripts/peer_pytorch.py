#!/usr/bin/env python3
"""PyTorch peers of gosimclr's benchmark steps (simclr bench), for side-by-side ratios on any machine with
PyTorch (Debian: apt-get install python3-torch; then run with /usr/bin/python3).

The models, batch sizes, loss and optimiser match bench/workload.go and bench/convcases.go:
  mlp       784 -> 512 (ReLU, bias) -> 128 (no bias), L2-normalised, NT-Xent over 2N = 512 views, tau 0.5, Adam
  cnn       conv3x3(1->32)+pool+ReLU, conv3x3(32->64)+pool+ReLU, dense 3136->256+ReLU, head 256->512->128,
            28x28x1, 2N = 512, Adam
  resnet18  torchvision ResNet-18 with the CIFAR stem (3x3 conv, no max-pool), head 512->512->128,
            32x32x3, 2N = 512, Adam
  loss      NT-Xent forward and backward alone on z [2N, k] (k = --latent, 128), tau 0.5
Prints a table, or with --json one JSON object per line with the fields of simclr bench --json.
--probe prints the peer's own float32 1024^3 matmul rate first: a sound peer reaches >= 50 GFLOP/s on our
2-core machines; below that its BLAS is broken (no threads, wrong kernel) and its times are not to be quoted.
simclr bench --peer pytorch runs this file (embedded in the binary) in the same run.
"""
import argparse
import json
import os
import statistics
import sys
import time

try:
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
except ImportError:
    sys.exit("peer_pytorch.py needs PyTorch (Debian: apt-get install python3-torch, then run /usr/bin/python3)")


def nt_xent(z, tau):
    """Mean NT-Xent over 2N rows; row i and row (i+N) mod 2N are positives; self-pairs masked."""
    z = F.normalize(z, dim=1, eps=1e-12)
    n2 = z.shape[0]
    s = z @ z.t() / tau
    s = s.masked_fill(torch.eye(n2, dtype=torch.bool, device=z.device), -1e9)
    partner = (torch.arange(n2, device=z.device) + n2 // 2) % n2
    return F.cross_entropy(s, partner)


def head(features):
    return nn.Sequential(nn.Linear(features, 512), nn.ReLU(), nn.Linear(512, 128))


def mlp(views):
    net = nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 128, bias=False))
    b = views
    return net, (b, 784), 2 * (b * (784 * 512 + 512 * 128)) * 2 + 2 * b * (512 * 128) + 4 * b * b * 128


def cnn(views):
    net = nn.Sequential(
        nn.Conv2d(1, 32, 3, padding=1), nn.MaxPool2d(2), nn.ReLU(),
        nn.Conv2d(32, 64, 3, padding=1), nn.MaxPool2d(2), nn.ReLU(),
        nn.Flatten(), nn.Linear(7 * 7 * 64, 256), nn.ReLU(), head(256))
    return net, (views, 1, 28, 28), None


def resnet18(views):
    import torchvision
    net = torchvision.models.resnet18(num_classes=10)
    net.conv1 = nn.Conv2d(3, 64, 3, stride=1, padding=1, bias=False)
    net.maxpool = nn.Identity()
    net.fc = head(512)
    return net, (views, 3, 32, 32), None


WORKLOADS = {"mlp": mlp, "cnn": cnn, "resnet18": resnet18, "loss": None}


def probe(threads):
    """float32 1024^3 matmul rate in GFLOP/s, best of 3 runs of 10."""
    a, b = torch.randn(1024, 1024), torch.randn(1024, 1024)
    for _ in range(3):
        a @ b
    best = 0.0
    for _ in range(3):
        t0 = time.perf_counter()
        for _ in range(10):
            a @ b
        best = max(best, 2 * 1024 ** 3 * 10 / (time.perf_counter() - t0) / 1e9)
    return {"probe": "matmul1024", "gflops": best, "framework": "pytorch", "version": torch.__version__,
            "torch_version": torch.__version__, "threads": threads,
            "sound": best >= 50}


def run_loss(device, steps, views, k):
    torch.manual_seed(1)
    z0 = (torch.rand(views, k, device=device) - 0.5).requires_grad_(True)

    def step():
        z0.grad = None
        loss = nt_xent(z0, 0.5)
        loss.backward()
        if device == "cuda":
            torch.cuda.synchronize()
        return loss.item()
    return step, (views, k), 4 * views * views * k


def run(name, device, steps, views, k=128):
    if name == "loss":
        step, shape, flops = run_loss(device, steps, views, k)
    else:
        torch.manual_seed(1)
        net, shape, flops = WORKLOADS[name](views)
        net = net.to(device)
        opt = torch.optim.Adam(net.parameters(), lr=1e-3)
        x = torch.rand(*shape, device=device)

        def step():
            opt.zero_grad(set_to_none=True)
            loss = nt_xent(net(x), 0.5)
            loss.backward()
            opt.step()
            if device == "cuda":
                torch.cuda.synchronize()
            return loss.item()

    t0 = time.perf_counter()
    step()
    first = (time.perf_counter() - t0) * 1e3
    times = []
    for _ in range(steps):
        t0 = time.perf_counter()
        step()
        times.append((time.perf_counter() - t0) * 1e3)
    med = statistics.median(times)
    r = {"workload": name, "backend": "pytorch-" + device, "ms_per_step": med, "min_ms": min(times),
         "max_ms": max(times), "steps": steps, "samples_per_s": shape[0] / (med / 1e3),
         "compile_ms": max(0.0, first - med), "views": shape[0], "pairs": shape[0] // 2,
         "framework": "pytorch", "version": torch.__version__, "torch_version": torch.__version__,
         "threads": torch.get_num_threads(),
         "device": torch.cuda.get_device_name(0) if device == "cuda" else "cpu",
         "latent_dim": k if name == "loss" else 128}
    if flops:
        r["gflops"] = flops / (med * 1e6)
    return r


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--workload", default="mlp,cnn,resnet18", help="comma-separated: " + ", ".join(WORKLOADS))
    p.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    p.add_argument("--steps", type=int, default=20, help="timed steps after one warm-up (resnet18 on cpu: at most 3)")
    p.add_argument("--threads", type=int, default=os.cpu_count(), help="torch CPU threads")
    p.add_argument("--pairs", type=int, default=256, help="N pairs per step (2N views); 256 matches simclr bench")
    p.add_argument("--latent", type=int, default=128, help="k of the loss workload")
    p.add_argument("--probe", action="store_true", help="first print the peer's float32 1024^3 matmul rate")
    p.add_argument("--json", action="store_true", help="one JSON object per line")
    a = p.parse_args()
    if a.steps < 1 or a.pairs < 1:
        p.error("--steps and --pairs must be >= 1")
    if a.device == "cuda" and not torch.cuda.is_available():
        sys.exit("peer_pytorch.py: --device cuda but torch.cuda.is_available() is False")
    torch.set_num_threads(a.threads)
    names = [w.strip() for w in a.workload.split(",")]
    for n in names:
        if n not in WORKLOADS:
            p.error(f"unknown workload {n!r}; want one of {', '.join(WORKLOADS)}")
    if a.probe:
        pr = probe(a.threads)
        if a.json:
            print(json.dumps(pr), flush=True)
        else:
            print(f"peer check: PyTorch {pr['torch_version']} float32 1024^3 matmul {pr['gflops']:.0f} GFLOP/s"
                  + ("" if pr["sound"] else "  << UNSOUND PEER: fix its BLAS before quoting it"), flush=True)
    if not a.json:
        print("| workload | backend | ms/step (median) | min-max ms | samples/s |")
        print("|---|---|---:|---:|---:|")
    for n in names:
        steps = min(a.steps, 3) if (n == "resnet18" and a.device == "cpu") else a.steps
        r = run(n, a.device, steps, 2 * a.pairs, a.latent)
        if a.json:
            print(json.dumps(r), flush=True)
        else:
            print(f"| {n} | {r['backend']} | {r['ms_per_step']:.2f} | {r['min_ms']:.2f}-{r['max_ms']:.2f} | {r['samples_per_s']:.0f} |", flush=True)


if __name__ == "__main__":
    main()
