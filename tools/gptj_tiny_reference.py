#!/usr/bin/env python3
"""A tiny random GPT-J and its reference outputs from transformers, float32 on CPU.

Writes an HF folder (config.json, model.safetensors, a 256-token byte-level BPE
tokenizer.json) and a JSON fixture with, for a few fixed token-id sequences, the logits at
every position and 8 greedily generated tokens (`generate(do_sample=False)`, which uses
transformers' KV cache).

The random init is made non-trivial on purpose: weights with std 1/sqrt(fan_in) (so the
logits are O(1) and the greedy choices are not near-ties), LayerNorm weights around 1 with
random biases, and random biases in fc_in, fc_out and lm_head, so that every bias and the
partial interleaved rotary embedding are exercised.

Usage (no network needed):
    /work/pyref/bin/python tools/gptj_tiny_reference.py \
        crates/kne-model/tests/fixtures/gptj-tiny \
        crates/kne-model/tests/fixtures/gptj-tiny-golden.json
"""

import importlib.metadata
import json
import math
import sys
from pathlib import Path

import torch
from tokenizers import Tokenizer, decoders, models, pre_tokenizers
from transformers import GPTJConfig, GPTJForCausalLM

SEED = 1234
SEQUENCES = [
    [1, 2, 3, 4, 5, 6],
    [200, 17, 99, 99, 3, 250, 0, 128, 64, 31, 7, 255, 12, 180, 44, 90],
    [72, 101, 108, 108, 111, 44, 32, 119, 111, 114, 108, 100],  # b"Hello, world"
]
GENERATE = 8
TEXTS = ["Hello, world", " naïve café ☕", ""]


def config() -> GPTJConfig:
    return GPTJConfig(
        vocab_size=256,
        n_positions=64,
        n_embd=64,
        n_layer=2,
        n_head=4,
        rotary_dim=8,  # of head_dim 16: the last 8 dims of each head pass unrotated
        n_inner=128,
        activation_function="gelu_new",
        layer_norm_epsilon=1e-5,
        tie_word_embeddings=False,
        bos_token_id=None,
        eos_token_id=None,
        pad_token_id=None,
    )


def randomise(model: GPTJForCausalLM) -> None:
    gen = torch.Generator().manual_seed(SEED)
    with torch.no_grad():
        for name, p in model.named_parameters():
            noise = torch.randn(p.shape, generator=gen)
            if name.endswith("wte.weight"):
                p.copy_(noise)
            elif ".ln_" in name or name.startswith("transformer.ln_f"):
                p.copy_(1.0 + 0.3 * noise if name.endswith("weight") else 0.2 * noise)
            elif name.endswith("bias"):
                p.copy_(0.2 * noise)
            else:  # a linear weight [out, in]
                p.copy_(noise / math.sqrt(p.shape[1]))


def byte_tokenizer() -> Tokenizer:
    """GPT-2's byte-level BPE with the 256 byte tokens and no merges: id = byte value."""
    alphabet = pre_tokenizers.ByteLevel.alphabet()
    # GPT-2's bytes_to_unicode: printable bytes map to themselves, the rest to 256 + n.
    printable = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1)]
    printable += list(range(ord("®"), ord("ÿ") + 1))
    chars, extra = {}, 0
    for b in range(256):
        if b in printable:
            chars[b] = chr(b)
        else:
            chars[b] = chr(256 + extra)
            extra += 1
    assert sorted(chars.values()) == sorted(alphabet)
    vocab = {chars[b]: b for b in range(256)}
    tok = Tokenizer(models.BPE(vocab=vocab, merges=[]))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    return tok


def main(out_dir: str, fixture_path: str) -> None:
    torch.manual_seed(SEED)
    model = GPTJForCausalLM(config()).eval()
    model.config._attn_implementation = "eager"
    randomise(model)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out, safe_serialization=True)
    (out / "generation_config.json").unlink(missing_ok=True)
    tok = byte_tokenizer()
    tok.save(str(out / "tokenizer.json"))

    records = []
    with torch.no_grad():
        for ids in SEQUENCES:
            x = torch.tensor([ids])
            logits = model(x).logits[0]
            new = model.generate(
                x,
                attention_mask=torch.ones_like(x),
                do_sample=False,
                max_new_tokens=GENERATE,
                min_new_tokens=GENERATE,
                pad_token_id=0,
            )[0, len(ids) :]
            records.append(
                {
                    "ids": ids,
                    "logits": [[float(v) for v in row] for row in logits],
                    "greedy": new.tolist(),
                }
            )
    fixture = {
        "model": "random GPT-J (tools/gptj_tiny_reference.py)",
        "seed": SEED,
        "transformers": importlib.metadata.version("transformers"),
        "torch": torch.__version__,
        "sequences": records,
        "texts": [{"text": t, "ids": tok.encode(t).ids} for t in TEXTS],
    }
    Path(fixture_path).write_text(json.dumps(fixture) + "\n")
    names = sorted(n for n, _ in model.state_dict().items())
    print(f"wrote {out} ({len(names)} tensors) and {fixture_path}")


if __name__ == "__main__":
    main(*sys.argv[1:3])
