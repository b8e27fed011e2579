#!/usr/bin/env python3
"""JAX peers of gosimclr's benchmark steps (simclr bench), for side-by-side ratios on the CPU.

Needs jax 0.11.2 (Python >= 3.12): scripts/install-jax-peer.sh makes a venv with it, pinned by hash; run this file
with that venv's python (simclr bench --peer jax looks there first). Plain jax.numpy and jax.lax only: no flax, no
optax. Each step (forward, gradient and, for the networks, the Adam update written out below) is one jax.jit; its
parameters and optimiser state are donated, so XLA updates them in place as PyTorch's Adam does.

The models, batch sizes, loss and optimiser match bench/workload.go and bench/convcases.go (and
scripts/peer_pytorch.py), in our NHWC layout with [kh, kw, C_in, C_out] kernels:
  loss      NT-Xent forward and backward alone on z [2N, k] (k = --latent, 128), tau 0.5
  mlp       784 -> 512 (ReLU, bias) -> 128 (no bias), L2-normalised (as arch.MLP with Normalize), NT-Xent over
            2N = 512 views, tau 0.5, Adam
  cnn       conv3x3(1->32, bias), ReLU, 2x2 max-pool; conv3x3(32->64, bias), ReLU, pool; dense 3136->256 + ReLU
            (flattened in (h, w, c) order); head 256->512 (ReLU)->128; 28x28x1, 2N = 512, Adam
  resnet18  ResNet-18 with the CIFAR stem (3x3 conv, stride 1, no max-pool), basic blocks without conv biases, batch
            norm in training mode (batch statistics over N, H, W, eps 1e-5; running averages updated with momentum
            0.9 on the old value, unbiased variance, as ops.BatchNorm), 1x1 projection shortcuts, convolutions padded
            by k//2, global average pool, head 512->512->128; 32x32x3, 2N = 512, Adam
NT-Xent: u = z/(|z| + 1e-12), s = u u^T / tau, self-pairs set to -1e9, the partner of row i is (i + N) mod 2N, the
mean over 2N rows of logsumexp_j s_ij - s_i,partner(i). Adam: lr 1e-3, beta 0.9/0.999, eps 1e-8 (PyTorch's form).
Weights are He-normal (LeCun-normal for the head's output layer; N(0, 2/fan_out) for ResNet convolutions), biases
zero, inputs U[0, 1) (z of the loss U[-0.5, 0.5)), as in the Go bench; the values differ, the distributions not.

Timing as peer_pytorch.py: one warm-up call, then --steps timed steps, each waited for (block_until_ready), median
ms per step. The compile is measured apart: compile_s is jax.jit(...).lower(...).compile() alone; compile_ms is,
as in simclr bench, the first step (compile included) minus a steady-state step.

Threads: XLA's CPU client sizes its thread pools (the intra-op Eigen pool "tf_XLAEigen" that runs dots and
convolutions, and the dispatch pool) by the environment variable PJRT_NPROC (then NPROC), read once when the
client is created, else by the CPU affinity count (taskset). --threads N sets PJRT_NPROC=N before jax is
imported. Checked on jaxlib 0.11.2 by per-thread CPU time: PJRT_NPROC=1 runs a 2048^3 matmul on the calling
thread alone; the default and PJRT_NPROC=2 spread it over the tf_XLAEigen threads; PJRT_NPROC=8 starts 21
threads against 9. The old recipe does not do it: --xla_cpu_multi_thread_eigen=false still spread the matmul
over the pool, and intra_op_parallelism_threads is a TensorFlow option that XLA_FLAGS rejects ("Unknown flag").

Prints a table, or with --json one JSON object per line with the fields of simclr bench --json (backend
"jax-cpu"). --probe prints JAX's own float32 1024^3 matmul rate first: a sound peer reaches >= 50 GFLOP/s on our
2-core machines.
"""
import argparse
import json
import os
import statistics
import sys
import time

WORKLOADS = ("mlp", "cnn", "resnet18", "loss")
TAU = 0.5
LR, BETA1, BETA2, ADAM_EPS = 1e-3, 0.9, 0.999, 1e-8
BN_MOMENTUM, BN_EPS = 0.9, 1e-5
NORM_EPS, LARGE = 1e-12, 1e9


def parse():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--workload", default="mlp,cnn,resnet18", help="comma-separated: " + ", ".join(WORKLOADS))
    p.add_argument("--steps", type=int, default=20, help="timed steps after one warm-up (resnet18: at most 3)")
    p.add_argument("--threads", type=int, default=os.cpu_count(), help="XLA CPU threads (PJRT_NPROC)")
    p.add_argument("--pairs", type=int, default=256, help="N pairs per step (2N views); 256 matches simclr bench")
    p.add_argument("--latent", type=int, default=128, help="k of the loss workload")
    p.add_argument("--probe", action="store_true", help="first print JAX's float32 1024^3 matmul rate")
    p.add_argument("--json", action="store_true", help="one JSON object per line")
    a = p.parse_args()
    if a.steps < 1 or a.pairs < 1 or a.threads < 1:
        p.error("--steps, --pairs and --threads must be >= 1")
    a.names = [w.strip() for w in a.workload.split(",")]
    for n in a.names:
        if n not in WORKLOADS:
            p.error(f"unknown workload {n!r}; want one of {', '.join(WORKLOADS)}")
    return a


def set_threads(n):
    """Must run before jax is imported: XLA reads PJRT_NPROC when its CPU client is created."""
    os.environ["PJRT_NPROC"] = str(n)
    os.environ.setdefault("JAX_PLATFORMS", "cpu")


A = parse()
set_threads(A.threads)
try:
    import numpy as np
    import jax
    import jax.numpy as jnp
    from jax import lax
except ImportError:
    sys.exit("peer_jax.py needs jax 0.11.2: run scripts/install-jax-peer.sh, then this file with the venv's python "
             "(${GOSIMCLR_HOME:-$HOME/.local/share/gosimclr}/jax-venv/bin/python)")


# ---- loss -------------------------------------------------------------------------------------------------------

def nt_xent(z, tau=TAU):
    """Mean NT-Xent over 2N rows; row i and row (i+N) mod 2N are positives; self-pairs masked by -1e9."""
    u = z / (jnp.sqrt(jnp.sum(z * z, axis=1, keepdims=True)) + NORM_EPS)
    n2 = z.shape[0]
    s = (u @ u.T) / tau
    s = jnp.where(jnp.eye(n2, dtype=bool), -LARGE, s)
    partner = (jnp.arange(n2) + n2 // 2) % n2
    pos = jnp.take_along_axis(s, partner[:, None], axis=1)[:, 0]
    return jnp.mean(jax.nn.logsumexp(s, axis=1) - pos)


# ---- layers -----------------------------------------------------------------------------------------------------

def normal(rng, shape, std):
    return jnp.asarray(rng.standard_normal(shape, dtype=np.float32) * np.float32(std))


def dense_init(rng, d_in, d_out, bias=True, std=None):
    p = {"w": normal(rng, (d_in, d_out), std if std is not None else np.sqrt(2 / d_in))}
    if bias:
        p["b"] = jnp.zeros((d_out,), jnp.float32)
    return p


def dense(p, x):
    y = x @ p["w"]
    return y + p["b"] if "b" in p else y


def head_init(rng, features):
    return {"hidden": dense_init(rng, features, 512), "output": dense_init(rng, 512, 128, std=np.sqrt(1 / 512))}


def head(p, h):
    return dense(p["output"], jax.nn.relu(dense(p["hidden"], h)))


def conv(x, w, stride=1):
    """NHWC x, [kh, kw, C_in, C_out] w, zero padding k//2 on every side (PyTorch's padding=k//2)."""
    k = w.shape[0]
    pad = ((k // 2, k // 2), (k // 2, k // 2))
    return lax.conv_general_dilated(x, w, (stride, stride), pad, dimension_numbers=("NHWC", "HWIO", "NHWC"))


def max_pool2(x):
    """2x2 max-pool, stride 2, an odd row or column dropped (VALID)."""
    return lax.reduce_window(x, -jnp.inf, lax.max, (1, 2, 2, 1), (1, 2, 2, 1), "VALID")


def bn_init(c):
    return {"scale": jnp.ones((c,), jnp.float32), "bias": jnp.zeros((c,), jnp.float32)}, \
           {"mean": jnp.zeros((c,), jnp.float32), "var": jnp.ones((c,), jnp.float32)}


def batch_norm(p, stats, x):
    """Training mode: batch statistics over N, H, W (biased variance) normalise; the running averages are updated
    with the unbiased variance, outside the gradient."""
    mu = jnp.mean(x, axis=(0, 1, 2))
    var = jnp.mean(jnp.square(x - mu), axis=(0, 1, 2))
    y = (x - mu) / jnp.sqrt(var + BN_EPS) * p["scale"] + p["bias"]
    n = x.shape[0] * x.shape[1] * x.shape[2]
    mu_, var_ = lax.stop_gradient(mu), lax.stop_gradient(var)
    new = {"mean": BN_MOMENTUM * stats["mean"] + (1 - BN_MOMENTUM) * mu_,
           "var": BN_MOMENTUM * stats["var"] + (1 - BN_MOMENTUM) * var_ * (n / (n - 1))}
    return y, new


# ---- models: init(rng) -> (params, state, x shape); apply(params, state, x) -> (z, new state) -----------------------

def mlp_model(views):
    def init(rng):
        return {"hidden": dense_init(rng, 784, 512), "output": dense_init(rng, 512, 128, bias=False)}, {}

    def apply(p, s, x):
        g = dense(p["output"], jax.nn.relu(dense(p["hidden"], x)))
        return g / (jnp.sqrt(jnp.sum(g * g, axis=1, keepdims=True)) + NORM_EPS), s
    return init, apply, (views, 784)


def cnn_model(views):
    def init(rng):
        return {"conv_0": {"w": normal(rng, (3, 3, 1, 32), np.sqrt(2 / 9)), "b": jnp.zeros((32,), jnp.float32)},
                "conv_1": {"w": normal(rng, (3, 3, 32, 64), np.sqrt(2 / (9 * 32))), "b": jnp.zeros((64,), jnp.float32)},
                "dense": dense_init(rng, 7 * 7 * 64, 256), "head": head_init(rng, 256)}, {}

    def apply(p, s, x):
        for c in ("conv_0", "conv_1"):
            x = max_pool2(jax.nn.relu(conv(x, p[c]["w"]) + p[c]["b"]))
        h = jax.nn.relu(dense(p["dense"], x.reshape(x.shape[0], -1)))
        return head(p["head"], h), s
    return init, apply, (views, 28, 28, 1)


def resnet_blocks(w=64):
    blocks, c_in = [], w
    for stage, c_out in enumerate((w, 2 * w, 4 * w, 8 * w)):
        for i in range(2):
            stride = 2 if (i == 0 and stage > 0) else 1
            blocks.append((f"block_{stage + 1}_{i}", c_in, c_out, stride, stride != 1 or c_in != c_out))
            c_in = c_out
    return blocks


def resnet18_model(views):
    blocks = resnet_blocks()

    def conv_w(rng, k, c_in, c_out):
        return normal(rng, (k, k, c_in, c_out), np.sqrt(2 / (k * k * c_out)))

    def init(rng):
        p, s = {"stem": {"w": conv_w(rng, 3, 3, 64)}}, {}
        p["stem"]["bn"], s["stem"] = bn_init(64)
        for name, c_in, c_out, _, proj in blocks:
            bp, bs = {"w1": conv_w(rng, 3, c_in, c_out), "w2": conv_w(rng, 3, c_out, c_out)}, {}
            bp["bn1"], bs["bn1"] = bn_init(c_out)
            bp["bn2"], bs["bn2"] = bn_init(c_out)
            if proj:
                bp["ws"] = conv_w(rng, 1, c_in, c_out)
                bp["bns"], bs["bns"] = bn_init(c_out)
            p[name], s[name] = bp, bs
        p["head"] = head_init(rng, 512)
        return p, s

    def apply(p, s, x):
        ns = {}
        x, ns["stem"] = batch_norm(p["stem"]["bn"], s["stem"], conv(x, p["stem"]["w"]))
        x = jax.nn.relu(x)
        for name, _, _, stride, proj in blocks:
            bp, bs, nb = p[name], s[name], {}
            y, nb["bn1"] = batch_norm(bp["bn1"], bs["bn1"], conv(x, bp["w1"], stride))
            y, nb["bn2"] = batch_norm(bp["bn2"], bs["bn2"], conv(jax.nn.relu(y), bp["w2"]))
            sc = x
            if proj:
                sc, nb["bns"] = batch_norm(bp["bns"], bs["bns"], conv(x, bp["ws"], stride))
            x, ns[name] = jax.nn.relu(y + sc), nb
        return head(p["head"], jnp.mean(x, axis=(1, 2))), ns
    return init, apply, (views, 32, 32, 3)


MODELS = {"mlp": mlp_model, "cnn": cnn_model, "resnet18": resnet18_model}


# ---- steps ------------------------------------------------------------------------------------------------------

def adam(params, grads, m, v, t):
    """One Adam step (Kingma & Ba 2015, PyTorch's form): t is the step count after this step."""
    m = jax.tree.map(lambda m, g: BETA1 * m + (1 - BETA1) * g, m, grads)
    v = jax.tree.map(lambda v, g: BETA2 * v + (1 - BETA2) * g * g, v, grads)
    c1, c2 = 1 - BETA1 ** t, 1 - BETA2 ** t
    params = jax.tree.map(lambda p, m, v: p - LR * (m / c1) / (jnp.sqrt(v / c2) + ADAM_EPS), params, m, v)
    return params, m, v


def train_step(name, views):
    """Returns (jitted step, its first arguments): step(state, x) -> (state, loss) with state donated."""
    init, apply, shape = MODELS[name](views)
    rng = np.random.default_rng(1)
    params, stats = init(rng)
    zeros = jax.tree.map(jnp.zeros_like, params)
    state = (params, stats, zeros, jax.tree.map(jnp.zeros_like, params), jnp.zeros((), jnp.float32))
    x = jnp.asarray(rng.random(shape, dtype=np.float32))

    def loss_fn(p, s, x):
        z, ns = apply(p, s, x)
        return nt_xent(z), ns

    def step(state, x):
        p, s, m, v, t = state
        (loss, ns), g = jax.value_and_grad(loss_fn, has_aux=True)(p, s, x)
        t = t + 1
        p, m, v = adam(p, g, m, v, t)
        return (p, ns, m, v, t), loss
    return jax.jit(step, donate_argnums=(0,)), (state, x), shape


def loss_step(views, k):
    rng = np.random.default_rng(1)
    z = jnp.asarray(rng.random((views, k), dtype=np.float32) - np.float32(0.5))
    return jax.jit(jax.value_and_grad(nt_xent)), (z,), (views, k)


def run(name, steps, views, k):
    if name == "loss":
        fn, args, shape = loss_step(views, k)
        flops = 4 * views * views * k
    else:
        fn, args, shape = train_step(name, views)
        flops = None
    t0 = time.perf_counter()
    compiled = fn.lower(*args).compile()
    compile_s = time.perf_counter() - t0
    if name == "loss":
        def call():
            return jax.block_until_ready(compiled(*args))
    else:
        state, x = args

        def call():
            nonlocal state
            state, loss = compiled(state, x)
            return jax.block_until_ready((state, loss))
    t0 = time.perf_counter()
    call()
    first = (time.perf_counter() - t0) * 1e3
    times = []
    for _ in range(steps):
        t0 = time.perf_counter()
        call()
        times.append((time.perf_counter() - t0) * 1e3)
    med = statistics.median(times)
    r = {"workload": name, "backend": "jax-cpu", "ms_per_step": med, "min_ms": min(times), "max_ms": max(times),
         "steps": steps, "samples_per_s": shape[0] / (med / 1e3),
         "compile_ms": max(0.0, compile_s * 1e3 + first - med), "compile_s": compile_s, "first_call_ms": first,
         "views": shape[0], "pairs": shape[0] // 2, "framework": "jax", "version": jax.__version__,
         "jax_version": jax.__version__, "threads": A.threads, "device": "cpu",
         "latent_dim": k if name == "loss" else 128}
    if flops:
        r["gflops"] = flops / (med * 1e6)
    return r


def probe(threads):
    """float32 1024^3 matmul rate in GFLOP/s, best of 3 runs of 10 (each waited for)."""
    rng = np.random.default_rng(0)
    a = jnp.asarray(rng.standard_normal((1024, 1024), dtype=np.float32))
    b = jnp.asarray(rng.standard_normal((1024, 1024), dtype=np.float32))
    mm = jax.jit(jnp.matmul)
    for _ in range(3):
        mm(a, b).block_until_ready()
    best = 0.0
    for _ in range(3):
        t0 = time.perf_counter()
        for _ in range(10):
            mm(a, b).block_until_ready()
        best = max(best, 2 * 1024 ** 3 * 10 / (time.perf_counter() - t0) / 1e9)
    return {"probe": "matmul1024", "gflops": best, "framework": "jax", "version": jax.__version__,
            "jax_version": jax.__version__, "threads": threads, "sound": best >= 50}


def main():
    a = A
    if a.probe:
        pr = probe(a.threads)
        if a.json:
            print(json.dumps(pr), flush=True)
        else:
            print(f"peer check: JAX {pr['version']} float32 1024^3 matmul {pr['gflops']:.0f} GFLOP/s ({a.threads} threads)"
                  + ("" if pr["sound"] else "  << UNSOUND PEER: its times are not to be quoted"), flush=True)
    if not a.json:
        print("| workload | backend | ms/step (median) | min-max ms | samples/s | compile s |")
        print("|---|---|---:|---:|---:|---:|")
    for n in a.names:
        steps = min(a.steps, 3) if n == "resnet18" else a.steps
        r = run(n, steps, 2 * a.pairs, a.latent)
        if a.json:
            print(json.dumps(r), flush=True)
        else:
            print(f"| {n} | {r['backend']} | {r['ms_per_step']:.2f} | {r['min_ms']:.2f}-{r['max_ms']:.2f} "
                  f"| {r['samples_per_s']:.0f} | {r['compile_s']:.2f} |", flush=True)


if __name__ == "__main__":
    main()
