#!/usr/bin/env python3
"""PyTorch eager reference for `cargo xtask bench`: the same model, shapes and token rows
as the criterion benches in benches/benches/model.rs, timed on the same CPU threads.

The model is loaded from the same GGUF file with transformers (every tensor dequantised to
float32 at load time), so both sides run float32 dense layers on identical weights.

Usage (a venv with torch, transformers, gguf, accelerate; see benches/reference/README.md):
    python benches/reference/pytorch_bench.py --gguf models/SmolLM2-135M-Instruct.Q4_1.gguf \
        --threads 2 --reps 10 --out target/bench-reference.json
Prints one JSON object: versions, threads, and per bench the median and every sample (ms).
"""

import argparse
import json
import os
import platform
import statistics
import time


def token_rows(batch, seq, vocab):
    """The Rust benches' deterministic rows: token (b * seq + t) * 7919 mod vocab."""
    return [[((b * seq + t) * 7919) % vocab for t in range(seq)] for b in range(batch)]


def timed(fn, reps, warmup):
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(reps):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000.0)
    return {"median_ms": statistics.median(samples), "samples_ms": samples}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--gguf", required=True, help="path of the GGUF model file")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--reps", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--only", nargs="*", help="bench names to run (default: all)")
    parser.add_argument("--out", help="also write the JSON here")
    args = parser.parse_args()

    import torch
    import transformers
    from transformers import AutoModelForCausalLM

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    directory, name = os.path.split(os.path.abspath(args.gguf))
    model = AutoModelForCausalLM.from_pretrained(directory, gguf_file=name, dtype=torch.float32)
    model.eval()
    vocab = model.config.vocab_size

    def forward_1x32():
        ids = torch.tensor(token_rows(1, 32, vocab))
        with torch.inference_mode():
            model(input_ids=ids).logits

    def forward_backward_8x32():
        # Loss on the last 8 positions, every parameter requires a gradient (as the Rust bench).
        ids = torch.tensor(token_rows(8, 32, vocab))
        model.zero_grad(set_to_none=True)
        logits = model(input_ids=ids).logits
        logp = torch.log_softmax(logits[:, 32 - 1 - 8 : 32 - 1, :], dim=-1)
        targets = ids[:, 32 - 8 :].unsqueeze(-1)
        loss = -logp.gather(2, targets).mean()
        loss.backward()

    def greedy_20():
        ids = torch.tensor(token_rows(1, 5, vocab))
        with torch.inference_mode():
            model.generate(
                input_ids=ids,
                attention_mask=torch.ones_like(ids),
                max_new_tokens=20,
                min_new_tokens=20,
                do_sample=False,
                eos_token_id=None,
                pad_token_id=0,
            )

    a = torch.full((512, 576), 0.5)
    b = torch.full((576, 1536), 0.25)

    def sgemm():
        torch.mm(a, b)

    benches = {
        "sgemm 512x576 @ 576x1536": sgemm,
        "forward 1x32": forward_1x32,
        "forward+backward 8x32 (loss on last 8, all params)": forward_backward_8x32,
        "greedy 20 new tokens (5-token prompt)": greedy_20,
    }
    results = {}
    for bench, fn in benches.items():
        if args.only and bench not in args.only:
            continue
        results[bench] = timed(fn, args.reps, args.warmup)
        print(f"{bench}: {results[bench]['median_ms']:.1f} ms", flush=True)

    report = {
        "tool": "pytorch eager",
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "python": platform.python_version(),
        "threads": args.threads,
        "reps": args.reps,
        "warmup": args.warmup,
        "gguf": os.path.basename(args.gguf),
        "benches": results,
    }
    text = json.dumps(report, indent=1)
    if args.out:
        tmp = args.out + ".tmp"
        with open(tmp, "w") as f:
            f.write(text + "\n")
        os.replace(tmp, args.out)
    print(text)


if __name__ == "__main__":
    main()
