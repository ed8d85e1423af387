#!/usr/bin/env python3
"""Reference logits for n continuations of one shared prompt (what forked KV caches must reproduce).

Run from the repository root with the oracle venv, after make_reference_models.py made the models:

    .oracle/bin/python scripts/oracle/make_fork_references.py tests/src/test/resources/reference

For each reference model folder it adds
  forks.json               "prompt" (the first PROMPT ids of qwen2-f32's input_ids) and "continuations": one list of
                           random ids per sequence, of different lengths, diverging from the first token. The same
                           ids for every model (all below the smallest vocabulary), so that models can be tested
                           advancing in lockstep on one set of sequences.
  fork_logits.safetensors  "logits_<s>" [1 + len(continuation s), vocab] F32: HF's logits of prompt + continuation s
                           at the positions from the prompt's last token on (row 0: after the prompt, shared by all)

Each sequence is run through HF on its own, from scratch (no cache sharing), in float64 like the other fixtures.
"""
import json
import os
import sys

import torch
from safetensors.torch import save_file
from transformers import AutoModelForCausalLM

OUT = sys.argv[1] if len(sys.argv) > 1 else "tests/src/test/resources/reference"
MODELS = ["qwen2-f32", "qwen2-bf16-tied-sharded", "llama3-f32", "llama3-bf16-tied"]
PROMPT = 9
LENGTHS = [7, 2, 9, 5]  # sequences leave the batch at different steps


def main():
    torch.set_num_threads(2)
    with open(os.path.join(OUT, MODELS[0], "expected.json")) as f:
        prompt = json.load(f)["input_ids"][:PROMPT]
    vocab = min(json.load(open(os.path.join(OUT, m, "config.json")))["vocab_size"] for m in MODELS)
    g = torch.Generator().manual_seed(100)
    conts = [torch.randint(0, vocab, (n,), generator=g).tolist() for n in LENGTHS]
    for name in MODELS:
        d = os.path.join(OUT, name)
        model = AutoModelForCausalLM.from_pretrained(d, attn_implementation="eager", dtype=torch.float64).eval()
        out = {}
        for s, cont in enumerate(conts):
            with torch.no_grad():
                logits = model(torch.tensor([prompt + cont])).logits[0]
            out[f"logits_{s}"] = logits[PROMPT - 1:].float().contiguous()
        save_file(out, os.path.join(d, "fork_logits.safetensors"))
        with open(os.path.join(d, "forks.json"), "w") as f:
            json.dump({"prompt": prompt, "continuations": conts,
                       "made_by": "scripts/oracle/make_fork_references.py with transformers " +
                                  __import__("transformers").__version__ + ", torch " + torch.__version__}, f, indent=1)
        print(f"{name}: prompt {len(prompt)} ids, continuations of {LENGTHS}")


if __name__ == "__main__":
    main()
