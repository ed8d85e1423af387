#!/usr/bin/env python3
"""Reference logits with a BF16 KV cache, for the committed reference models (make_reference_models.py made them).

Run from the repository root with the oracle venv:

    .oracle/bin/python scripts/oracle/make_kv_bf16_reference.py tests/src/test/resources/reference

rast keeps a BF16 model's keys and values in BF16: the forward pass computes them in F32 (after RoPE) and the cache
stores them rounded to nearest even; attention then reads every position, the current one included, from the cache.
Hugging Face has no such mode (its BF16 model does all its arithmetic in BF16), so this script builds it: the model
runs in float64 as in make_reference_models.py, and the cache rounds what it is given (f64 -> f32 -> bf16, the
engine's two roundings) before storing and returning it. Everything else is HF's code.

For each model folder it writes kv_bf16_logits.safetensors: "logits" [len(input_ids), vocab] F32 for the
expected.json input_ids, every position, with the cache above. Models with F32 weights get the same treatment (rast
gives them BF16 caches when asked with --kv-cache-dtype bf16).
"""
import json
import os
import sys

import torch
from safetensors.torch import save_file
from transformers import AutoModelForCausalLM, DynamicCache

OUT = sys.argv[1] if len(sys.argv) > 1 else "tests/src/test/resources/reference"
MODELS = ["qwen2-f32", "qwen2-bf16-tied-sharded", "llama3-f32", "llama3-bf16-tied"]


def bf16(x):
    return x.to(torch.float32).to(torch.bfloat16).to(x.dtype)


class Bf16Cache(DynamicCache):
    """A DynamicCache that stores (and hands back) keys and values rounded to BF16."""

    def update(self, key_states, value_states, layer_idx, *args, **kwargs):
        return super().update(bf16(key_states), bf16(value_states), layer_idx, *args, **kwargs)


def main():
    torch.set_num_threads(2)
    for name in MODELS:
        d = os.path.join(OUT, name)
        with open(os.path.join(d, "expected.json")) as f:
            ids = json.load(f)["input_ids"]
        model = AutoModelForCausalLM.from_pretrained(d, attn_implementation="eager", dtype=torch.float64).eval()
        with torch.no_grad():
            cache = Bf16Cache(config=model.config)
            rounded = model(torch.tensor([ids]), past_key_values=cache, use_cache=True).logits[0]
            plain = model(torch.tensor([ids])).logits[0]
        save_file({"logits": rounded.float().contiguous()}, os.path.join(d, "kv_bf16_logits.safetensors"))
        print(f"{name}: {len(ids)} positions; BF16 cache moves logits by up to "
              f"{(rounded - plain).abs().max():.4f} from an F32 cache")


if __name__ == "__main__":
    main()
