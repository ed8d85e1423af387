#!/usr/bin/env python3
"""Reference logits for F32 checkpoints computed with BF16 weights (rast --dtype bf16), for the committed F32
reference models (make_reference_models.py made them).

Run from the repository root with the oracle venv:

    .oracle/bin/python scripts/oracle/make_weight_cast_reference.py tests/src/test/resources/reference

rast --dtype bf16 rounds every F32 tensor of the checkpoint to BF16 (nearest even) as it loads, then computes in
F32 as always. Hugging Face's torch_dtype=torch.bfloat16 rounds the same tensors but then also computes in BF16, so
the reference here is: load in float32, round every parameter with torch's .to(torch.bfloat16) (the rounding under
test, done by torch), then run the model in float64 (as make_reference_models.py does), KV cache unrounded.

For each model folder it writes bf16_weights_logits.safetensors: "logits" [len(input_ids), vocab] F32 for the
expected.json input_ids, every position.
"""
import json
import os
import sys

import torch
from safetensors.torch import save_file
from transformers import AutoModelForCausalLM

OUT = sys.argv[1] if len(sys.argv) > 1 else "tests/src/test/resources/reference"
MODELS = ["qwen2-f32", "llama3-f32"]


def main():
    torch.set_num_threads(2)
    for name in MODELS:
        d = os.path.join(OUT, name)
        with open(os.path.join(d, "expected.json")) as f:
            ids = json.load(f)["input_ids"]
        model = AutoModelForCausalLM.from_pretrained(d, attn_implementation="eager", dtype=torch.float32).eval()
        with torch.no_grad():
            for p in model.parameters():
                p.data = p.data.to(torch.bfloat16).to(torch.float32)
            model = model.to(torch.float64)
            rounded = model(torch.tensor([ids])).logits[0]
            plain = AutoModelForCausalLM.from_pretrained(d, attn_implementation="eager", dtype=torch.float64).eval()(
                torch.tensor([ids])).logits[0]
        save_file({"logits": rounded.float().contiguous()}, os.path.join(d, "bf16_weights_logits.safetensors"))
        diff = (rounded - plain).abs().flatten()
        print(f"{name}: {len(ids)} positions; BF16 weights move logits by up to {diff.max():.4f} "
              f"(99th percentile {diff.quantile(0.99):.4f}) from F32 weights")


if __name__ == "__main__":
    main()
