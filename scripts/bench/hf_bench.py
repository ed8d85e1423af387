#!/usr/bin/env python3
"""The peer measurement for `rast bench`: Hugging Face transformers (CPU, PyTorch) on the same model folder.

    .oracle/bin/python scripts/bench/hf_bench.py MODEL_DIR [--prompt-len 128] [--gen 64] [--threads 2]

Loads the folder in its stored dtype (bf16 stays bf16, as `rast` keeps it), prefills a random prompt of
--prompt-len tokens, then decodes --gen tokens greedily with the KV cache, one token per forward call (what
`rast bench` times). Prints the median of --runs passes after one warm-up. Not used by tests or CI.
"""
import argparse
import statistics
import time

import torch
from transformers import AutoModelForCausalLM

ap = argparse.ArgumentParser()
ap.add_argument("model")
ap.add_argument("--prompt-len", type=int, default=128)
ap.add_argument("--gen", type=int, default=64)
ap.add_argument("--threads", type=int, default=2)
ap.add_argument("--runs", type=int, default=3)
a = ap.parse_args()
torch.set_num_threads(a.threads)
model = AutoModelForCausalLM.from_pretrained(a.model, dtype="auto").eval()
g = torch.Generator().manual_seed(42)
prompt = torch.randint(0, min(model.config.vocab_size, 100_000), (1, a.prompt_len), generator=g)
prefill, decode = [], []
with torch.inference_mode():
    for r in range(a.runs + 1):
        t0 = time.perf_counter()
        out = model(prompt, use_cache=True, logits_to_keep=1)
        t1 = time.perf_counter()
        pkv, nxt = out.past_key_values, out.logits[:, -1:].argmax(-1)
        for _ in range(a.gen):
            out = model(nxt, past_key_values=pkv, use_cache=True)
            pkv, nxt = out.past_key_values, out.logits[:, -1:].argmax(-1)
        t2 = time.perf_counter()
        if r > 0:
            prefill.append(a.prompt_len / (t1 - t0))
            decode.append(a.gen / (t2 - t1))
print(f"hf-transformers {__import__('transformers').__version__} torch {torch.__version__} "
      f"dtype {model.dtype} threads {a.threads}")
print(f"prefill  {a.prompt_len} tokens: {statistics.median(prefill):8.1f} tok/s")
print(f"decode   {a.gen} tokens: {statistics.median(decode):8.1f} tok/s")
