#!/usr/bin/env python3
"""Reference dequantisation of a GGUF file with gguf-py, for kne-model's tests.

Writes a small JSON fixture: the file's sha256, and for every tensor its ggml type, its
ggml dims, the sha256 of its dequantised values (float32, little-endian, ggml memory
order), their float64 sum and largest magnitude; and for a few tensors (one of each
type) a few dozen values at fixed indices. The Rust test dequantises the same file and
must match every digest bit for bit.

Usage (with a Python that has gguf and numpy, e.g. /work/pyref):
    python tools/gguf_dequant_reference.py models/gemma-3-270m-q4_k_m.gguf \
        crates/kne-model/tests/fixtures/gemma3-270m-dequant.json
"""

import hashlib
import importlib.metadata
import json
import sys

import gguf
import numpy as np
from gguf.quants import dequantize

# Values sampled per chosen tensor: the first 32, 32 spread over the whole tensor, and for
# the k-quants one whole 256-value super-block in the middle.
SAMPLED = 32


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def sample_indices(n, k_quant):
    idx = list(range(min(SAMPLED, n)))
    idx += [int(i) for i in np.linspace(0, n - 1, SAMPLED).round()]
    if k_quant:
        mid = (n // 2) // 256 * 256
        idx += list(range(mid, min(mid + 256, n)))
    return sorted(set(idx))


def main(model, out):
    reader = gguf.GGUFReader(model)
    tensors = []
    sampled_types = set()
    for t in reader.tensors:
        values = np.asarray(dequantize(t.data, t.tensor_type), dtype=np.float32).reshape(-1)
        entry = {
            "name": t.name,
            "type": t.tensor_type.name,
            "dims": [int(d) for d in t.shape],
            "n": int(values.size),
            "sha256_f32le": hashlib.sha256(values.astype("<f4").tobytes()).hexdigest(),
            "sum": float(values.astype(np.float64).sum()),
            "max_abs": float(np.abs(values).max()),
            "finite": bool(np.isfinite(values).all()),
        }
        # One tensor of each type gets sampled values (the first of its type in the file).
        if t.tensor_type.name not in sampled_types:
            sampled_types.add(t.tensor_type.name)
            idx = sample_indices(values.size, t.tensor_type.name.endswith("_K"))
            entry["samples"] = {"index": idx, "value": [float(values[i]) for i in idx]}
        tensors.append(entry)
    fixture = {
        "source": "gguf-py %s (gguf.quants.dequantize), numpy %s"
        % (importlib.metadata.version("gguf"), np.__version__),
        "script": "tools/gguf_dequant_reference.py",
        "file": model.split("/")[-1],
        "file_sha256": sha256_file(model),
        "tensors": tensors,
    }
    # One line per tensor: small, and diffs stay readable.
    head = {k: v for k, v in fixture.items() if k != "tensors"}
    with open(out, "w") as f:
        f.write(json.dumps(head)[:-1] + ', "tensors": [\n')
        f.write(",\n".join(json.dumps(t) for t in tensors))
        f.write("\n]}\n")
    n_samples = sum(len(t.get("samples", {}).get("index", [])) for t in tensors)
    print("%d tensors, %d sampled values -> %s" % (len(tensors), n_samples, out))


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
