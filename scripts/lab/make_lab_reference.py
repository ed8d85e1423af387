#!/usr/bin/env python3
"""The lab's fidelity fixture: greedy decodings that Hugging Face transformers computes from the shipped lab
checkpoints, for each model alone and for RAST (M + lambda * (E - B)) at a few lambdas.

    /work/main/.oracle/bin/python scripts/lab/make_lab_reference.py LAB_DIR OUT.json

LAB_DIR holds M/, B/, E/, M_RL/ and test.jsonl (cli/src/main/resources/dev/rast/cli/lab). Prompts are the qwen-boxed
prompts of test problems, encoded by the `tokenizers` library from the checkpoint's own tokenizer.json (so the
fixture also pins the prompt ids rast's tokenizer must produce). Every model runs in float64 (its BF16 weights
upcast exactly), on the whole sequence at each step (no cache), so the reference has no rounding noise of its own;
decoding stops at an end-of-sequence id (<|im_end|> or <|endoftext|>) or after MAX_NEW tokens. RAST follows
scripts/oracle/make_rast_reference.py: fused = M + sum_i lambda_i * (E_i - B_i), greedy, log-probabilities under
log_softmax(fused).

min_top2_margin is the smallest gap between the best and second-best logit along a path. rast computes in F32 with
BF16 weights (~1e-5 relative error on logits of these sizes), so a path is usable as an exact-token reference only
when its margin is well above that: problems are taken in test-split order, skipping any whose paths (under every
model and every lambda) have a margin below MIN_MARGIN, until PROMPTS are kept.
"""
import json
import os
import sys

import torch
from tokenizers import Tokenizer
from transformers import Qwen2ForCausalLM

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from train import prompt  # noqa: E402  (the qwen-boxed prompt text)

LAB = sys.argv[1] if len(sys.argv) > 1 else "cli/src/main/resources/dev/rast/cli/lab"
OUT = sys.argv[2] if len(sys.argv) > 2 else "tests/src/test/resources/reference/lab/expected.json"
PROMPTS = 4
MAX_NEW = 40
MIN_MARGIN = 1e-2
LAMBDAS = [1.0, 2.0]
MODELS = ["M", "B", "E", "M_RL"]


def load(name):
    return Qwen2ForCausalLM.from_pretrained(os.path.join(LAB, name), dtype=torch.bfloat16).to(torch.float64).eval()


@torch.no_grad()
def greedy(models, lambdas, ids, eos):
    """models[0] alone, or models[0] + sum lambdas[i] * (models[1+2i] - models[2+2i])."""
    seq = list(ids)
    tokens, logprobs, margin = [], [], float("inf")
    for _ in range(MAX_NEW):
        x = torch.tensor([seq])
        rows = [m(input_ids=x).logits[0, -1] for m in models]
        fused = rows[0].clone()
        for i, lam in enumerate(lambdas):
            fused += lam * (rows[1 + 2 * i] - rows[2 + 2 * i])
        top = torch.topk(fused, 2)
        t = int(top.indices[0])
        margin = min(margin, float(top.values[0] - top.values[1]))
        tokens.append(t)
        logprobs.append(float(torch.log_softmax(fused, -1)[t]))
        seq.append(t)
        if t in eos:
            break
    return tokens, logprobs, margin


def main():
    tok = Tokenizer.from_file(os.path.join(LAB, "M", "tokenizer.json"))
    eos = {tok.token_to_id("<|im_end|>"), tok.token_to_id("<|endoftext|>")}
    models = {n: load(n) for n in MODELS}
    rows = [json.loads(l) for l in open(os.path.join(LAB, "test.jsonl"))]
    cases, skipped = [], []
    for r in rows:
        if len(cases) == PROMPTS:
            break
        ids = tok.encode(prompt(r["question"])).ids
        runs = {}
        for n in MODELS:
            runs[n] = greedy([models[n]], [], ids, eos)
        for lam in LAMBDAS:
            runs[f"rast-{lam:g}"] = greedy([models["M"], models["E"], models["B"]], [lam], ids, eos)
        margin = min(v[2] for v in runs.values())
        if margin < MIN_MARGIN:
            skipped.append({"idx": r["idx"], "min_top2_margin": margin})
            continue
        cases.append({
            "idx": r["idx"], "question": r["question"], "prompt_ids": ids,
            "runs": [{"name": k, "models": ["M", "E", "B"] if k.startswith("rast-") else [k],
                      "lambda": float(k.split("-")[1]) if k.startswith("rast-") else None,
                      "tokens": v[0], "logprobs": v[1], "min_top2_margin": v[2],
                      "text": tok.decode(v[0], skip_special_tokens=False)} for k, v in runs.items()],
        })
        print(f"problem {r['idx']}: kept, min margin {margin:.4f}", flush=True)
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w") as f:
        json.dump({"max_new": MAX_NEW, "min_margin": MIN_MARGIN, "cases": cases, "skipped": skipped}, f, indent=1)
    print(f"{len(cases)} problems kept, {len(skipped)} skipped for small margins -> {OUT}")


if __name__ == "__main__":
    main()
