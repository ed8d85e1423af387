#!/usr/bin/env python3
"""What the analyses of `rast analyze` compute, by Hugging Face transformers, on the RAST reference trio.

Run from the repository root with the oracle venv (see README "Reference fixtures"):

    .oracle/bin/python scripts/oracle/make_analysis_reference.py tests/src/test/resources/reference/analysis

Reads the trio of scripts/oracle/make_rast_reference.py (M with a padded vocabulary of 1024 rows, 1000 shared; pairs
E1/B1 and E2/B2) and writes expected.json: a few fixed trajectories (prompt ids, generated ids; one of them the
trio's own greedy paths of M + 1.0*(E1 - B1) and of the two-pair fusion, so their PCR under that configuration
is 1) and, per trajectory:

  pcr        for each configuration: matches (positions i = 1..n-1 where argmax of the configuration's logits after
             prompt + t_1..t_i equals t_{i+1}) and positions (n - 1); configurations are
             "M" (M's whole row), "pair1" (M + 1.0*(E1 - B1)) and "two-pairs" (M + 0.7*(E1 - B1) - 0.3*(E2 - B2));
             fused rows are -inf on ids >= 1000, as RAST samples them
  kl         for P in {"pair1", "two-pairs"}: KL(P || Q) in nats at every position i = 0..n-1 (the logits that
             predicted t_{i+1}; 0-based tokens[i]), Q = M over the shared ids (the fusion with every lambda 0),
             each a softmax over its own row; and their mean
  kl_models  KL(E1 || B1) at every position, each model alone over its whole row (two separate models, as
             `rast analyze kl --model E1 --against-model B1` compares them), and its mean
  cosine     cos(E1 - B1, E2 - B2) over the 1000 shared ids at every position, and their mean
  min_margin the smallest gap between the best and second-best logit of any configuration at any counted position:
             float32 inference differs from this float64 reference by ~1e-5, so a margin well above that means the
             counts must agree exactly

Every model runs in float64 (the stored F32 weights upcast exactly) on the whole sequence at once.
"""
import json
import os
import sys

import torch
from transformers import Qwen2ForCausalLM

OUT = sys.argv[1] if len(sys.argv) > 1 else "tests/src/test/resources/reference/analysis"
TRIO = os.path.join(os.path.dirname(OUT.rstrip("/")), "rast-trio")
SHARED = 1000
CONFIGS = {"M": [], "pair1": [("E1", "B1", 1.0)], "two-pairs": [("E1", "B1", 0.7), ("E2", "B2", -0.3)]}


def all_logits(model, prompt, tokens):
    """Rows that predicted tokens[0..n): positions len(prompt)-1 .. len(prompt)+n-2 of prompt + tokens."""
    ids = torch.tensor([prompt + tokens[:-1]])
    with torch.no_grad():
        out = model(ids).logits[0]
    return out[len(prompt) - 1:]


def fused(rows, pairs):
    if not pairs:
        return rows["M"].clone()
    f = torch.full_like(rows["M"], float("-inf"))
    f[:, :SHARED] = rows["M"][:, :SHARED]
    for e, b, lam in pairs:
        f[:, :SHARED] += lam * (rows[e][:, :SHARED] - rows[b][:, :SHARED])
    return f


def kl(p_logits, q_logits):
    lp, lq = torch.log_softmax(p_logits, -1), torch.log_softmax(q_logits, -1)
    p = lp.exp()
    terms = torch.where(p > 0, p * (lp - lq), torch.zeros_like(p))
    return terms.sum(-1)


def trajectories():
    with open(os.path.join(TRIO, "expected.json")) as f:
        trio = json.load(f)
    case = {c["name"]: c for c in trio["cases"]}
    g = torch.Generator().manual_seed(45)
    rnd = lambda n: torch.randint(3, SHARED, (n,), generator=g).tolist()
    return [
        {"id": "greedy-pair1", "prompt_tokens": trio["prompt"], "tokens": case["pair1-lambda1"]["tokens"]},
        {"id": "greedy-two-pairs", "prompt_tokens": trio["prompt"], "tokens": case["two-pairs"]["tokens"]},
        {"id": "random-a", "prompt_tokens": rnd(5), "tokens": rnd(17)},
        {"id": "random-b", "prompt_tokens": rnd(1), "tokens": rnd(9)},
        {"id": "one-token", "prompt_tokens": rnd(3), "tokens": rnd(1)},
    ]


if __name__ == "__main__":
    torch.set_num_threads(2)
    models = {k: Qwen2ForCausalLM.from_pretrained(os.path.join(TRIO, k), attn_implementation="eager",
                                                  dtype=torch.float64).eval() for k in ("M", "E1", "B1", "E2", "B2")}
    out = []
    min_margin = float("inf")
    for t in trajectories():
        rows = {k: all_logits(m, t["prompt_tokens"], t["tokens"]) for k, m in models.items()}
        target = torch.tensor(t["tokens"])
        row = dict(t)
        row["pcr"] = {}
        for name, pairs in CONFIGS.items():
            f = fused(rows, pairs)
            hit = (f.argmax(-1) == target)[1:]
            row["pcr"][name] = {"matches": int(hit.sum()), "positions": int(hit.numel())}
            if hit.numel():
                top2 = torch.topk(f[1:], 2, dim=-1).values
                min_margin = min(min_margin, float((top2[:, 0] - top2[:, 1]).min()))
        q = fused(rows, [(e, b, 0.0) for e, b, _ in CONFIGS["two-pairs"]])
        row["kl"] = {}
        for name in ("pair1", "two-pairs"):
            d = kl(fused(rows, CONFIGS[name]), q)
            row["kl"][name] = {"per_position": d.tolist(), "mean": float(d.mean())}
        d = kl(rows["E1"], rows["B1"])
        row["kl_models"] = {"per_position": d.tolist(), "mean": float(d.mean())}
        d1 = rows["E1"][:, :SHARED] - rows["B1"][:, :SHARED]
        d2 = rows["E2"][:, :SHARED] - rows["B2"][:, :SHARED]
        cos = (d1 * d2).sum(-1) / (d1.norm(dim=-1) * d2.norm(dim=-1))
        row["cosine"] = {"per_position": cos.tolist(), "mean": float(cos.mean())}
        out.append(row)
        print(t["id"], {k: v["matches"] for k, v in row["pcr"].items()}, "kl", row["kl"]["pair1"]["mean"], "cos", row["cosine"]["mean"])
    assert min_margin > 1e-3, f"a top-2 margin of {min_margin} is too small for an f32 comparison"
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, "expected.json"), "w") as f:
        json.dump({"trio": "../rast-trio", "shared_vocab": SHARED,
                   "configurations": {k: [{"expert": e, "base": b, "lambda": l} for e, b, l in v] for k, v in CONFIGS.items()},
                   "min_margin": min_margin, "trajectories": out,
                   "made_by": "scripts/oracle/make_analysis_reference.py with transformers " +
                              __import__("transformers").__version__ + ", torch " + torch.__version__}, f, indent=1)
    print(f"min top-2 margin {min_margin:.4f}; wrote {OUT}/expected.json")
