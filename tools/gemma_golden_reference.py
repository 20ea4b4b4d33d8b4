#!/usr/bin/env python3
"""Golden reference for Gemma-3-270M (GGUF Q4_K_M) from transformers, float32 on CPU.

transformers loads the GGUF itself (`from_pretrained(dir, gguf_file=...)`: it dequantises,
shifts the norm weights back by 1, and rebuilds the tokenizer from the metadata). For each
prompt the fixture keeps the token ids (BOS included, as `tokenizer(text)` adds it), the
top-5 logits and the logsumexp at recorded positions (all positions of short prompts; the
last 8 of the long one, which crosses the 512-token sliding window), and 8 greedily
generated tokens; and for a list of texts only their token ids (tokenizer golden).

Usage (with a Python that has torch, transformers and gguf, e.g. /work/pyref):
    python tools/gemma_golden_reference.py models gemma-3-270m-q4_k_m.gguf \
        crates/kne-model/tests/fixtures/gemma3-270m-golden.json
"""

import hashlib
import importlib.metadata
import json
import sys

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

PROMPTS = [
    "The capital of France is",
    "The Eiffel Tower is located in the city of",
    "def fibonacci(n):\n    if n < 2:\n        return n\n    return",
    "Question: Who wrote Hamlet?\nAnswer:",
    "Zürich, naïve café — 東京 and 🙂 emoji",
]

TOKENIZE_ONLY = [
    "",
    " ",
    "  two spaces, then\ttab and\n\nnewlines\n",
    "   leading and trailing   ",
    "numbers 1234567890 3.14159 -42 1e-6",
    "MixedCase camelCase snake_case kebab-case SCREAMING",
    "<start_of_turn>user\nHi<end_of_turn>\n<start_of_turn>model\n",
    "Ünïcödé: ñ ß ø å ç ğ ş — “quotes” ‘single’ … ∑ ∫ √ ≤ ≥",
    "中文 日本語 한국어 العربية हिन्दी русский ελληνικά",
    "emoji 🙂🚀👍🏽 and rare bytes \u0001\u0007",
    "URL https://example.com/a/b?c=d&e=f#g and e-mail a.b@c.de",
    "Knowledge editing updates facts like: The president of the USA is",
]

SENTENCES = [
    "The river flows past the old mill toward the sea.",
    "In 1969 astronauts first walked on the Moon.",
    "Photosynthesis turns light, water and carbon dioxide into sugar.",
    "The library opens at nine and closes at six on weekdays.",
    "Mount Everest is the highest mountain above sea level.",
    "A prime number has exactly two distinct divisors.",
    "The orchestra tuned their instruments before the concert.",
    "Copper conducts electricity better than iron does.",
]

LONG_REPEATS = 6  # 8 sentences x 6 repeats: ~760 tokens, past the 512-token window
RECORD_LAST = 8
GENERATE = 8


def long_prompt():
    parts = []
    for r in range(LONG_REPEATS):
        for i, s in enumerate(SENTENCES):
            parts.append("(%d.%d) %s" % (r + 1, i + 1, s))
    return " ".join(parts)


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


@torch.no_grad()
def record(model, ids, positions):
    logits = model(torch.tensor([ids])).logits[0].float()
    lse = torch.logsumexp(logits, dim=-1)
    rows = []
    for p in positions:
        values, top = torch.topk(logits[p], 5)
        rows.append(
            {
                "position": p,
                "top5_ids": [int(t) for t in top],
                "top5_logits": [float(v) for v in values],
                "logsumexp": float(lse[p]),
            }
        )
    return rows


@torch.no_grad()
def greedy(model, ids, n):
    out = model.generate(
        torch.tensor([ids]), max_new_tokens=n, do_sample=False, num_beams=1, top_k=None, top_p=None
    )
    return [int(t) for t in out[0, len(ids) :]]


def main(folder, gguf_file, out):
    torch.manual_seed(0)
    tok = AutoTokenizer.from_pretrained(folder, gguf_file=gguf_file)
    model = AutoModelForCausalLM.from_pretrained(folder, gguf_file=gguf_file, dtype=torch.float32)
    model.eval()
    prompts = []
    for text in PROMPTS + [long_prompt()]:
        ids = tok(text).input_ids
        long = len(ids) > 64
        positions = list(range(len(ids) - RECORD_LAST, len(ids))) if long else list(range(len(ids)))
        entry = {"text": text, "ids": ids, "rows": record(model, ids, positions)}
        if not long:
            entry["greedy"] = greedy(model, ids, GENERATE)
        prompts.append(entry)
        print("%4d tokens: %r" % (len(ids), text[:50]))
    fixture = {
        "source": "transformers %s, torch %s, float32, CPU; AutoModelForCausalLM.from_pretrained(dir, gguf_file=...)"
        % (importlib.metadata.version("transformers"), torch.__version__),
        "script": "tools/gemma_golden_reference.py",
        "file": gguf_file,
        "file_sha256": sha256_file("%s/%s" % (folder, gguf_file)),
        "sliding_window": model.config.sliding_window,
        "prompts": prompts,
        "tokenize": [{"text": t, "ids": tok(t).input_ids} for t in TOKENIZE_ONLY],
    }
    with open(out, "w") as f:
        json.dump(fixture, f, ensure_ascii=False)
        f.write("\n")
    print("-> %s" % out)


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2], sys.argv[3])
