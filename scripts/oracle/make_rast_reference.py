#!/usr/bin/env python3
"""Builds the RAST reference trio and the fused greedy decoding Hugging Face transformers computes for it.

Run from the repository root with the oracle venv (see docs/architecture.md, "Tests and reference fixtures"):

    .oracle/bin/python scripts/oracle/make_rast_reference.py tests/src/test/resources/reference/rast-trio

Models (tiny random Qwen2, F32, tied embeddings), each a Hugging Face folder (config.json + model.safetensors):
  M        the large base: hidden 64, 3 layers, vocab_size 1024 of which ids 1000..1023 are padding rows. Their
           embedding rows are scaled up so M alone often prefers a padding id: fusion must mask them (−inf).
  B1, B2   small bases: hidden 32, 2 layers, vocab_size 1000 (the shared vocabulary).
  E1, E2   "RL experts": their base's weights plus random noise (as fine-tuning moves a model a little).

expected.json: for each case (λ = 0, 0.5, 1.0 with pair 1; λ1 = 0.7, λ2 = -0.3 with both pairs), the 12 tokens of
greedy fused decoding from a fixed prompt, and the log-probability of each chosen token under
log_softmax(fused logits) over M's whole row (padding ids at -inf, so they carry no mass), where
fused = M + sum_i lambda_i * (E_i - B_i) on ids < 1000. Every model runs in float64 (the stored F32 weights upcast
exactly), on the whole sequence at each step (no cache), so the reference carries no rounding noise of its own.
min_top2_margin is the smallest gap between the best and second-best fused logit along the path: f32 inference
differs from this by ~1e-5, so a margin well above that means f32 cannot pick a different token.
"""
import json
import os
import sys

import torch
from transformers import Qwen2Config, Qwen2ForCausalLM

OUT = sys.argv[1] if len(sys.argv) > 1 else "tests/src/test/resources/reference/rast-trio"
SHARED = 1000
PADDED = 1024
NEW_TOKENS = 12
PADDING_SCALE = 3.0   # how much larger M's padding rows are than its real rows
EXPERT_NOISE = 0.5    # expert = base + noise of this size relative to each weight tensor's std
CASES = [
    ("pair1-lambda0", [("E1", "B1", 0.0)]),
    ("pair1-lambda0.5", [("E1", "B1", 0.5)]),
    ("pair1-lambda1", [("E1", "B1", 1.0)]),
    ("two-pairs", [("E1", "B1", 0.7), ("E2", "B2", -0.3)]),
]


def config(vocab, hidden, layers, intermediate):
    # head_dim = hidden / 4 (16 for M, 8 for the small models); GQA 4 heads over 2 KV heads.
    return Qwen2Config(vocab_size=vocab, hidden_size=hidden, intermediate_size=intermediate, num_hidden_layers=layers,
                       num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=128,
                       rms_norm_eps=1e-6, rope_theta=10000.0, tie_word_embeddings=True, initializer_range=0.12,
                       bos_token_id=1, eos_token_id=2, use_sliding_window=False)


def save(model, name):
    d = os.path.join(OUT, name)
    os.makedirs(d, exist_ok=True)
    for f in os.listdir(d):
        os.remove(os.path.join(d, f))
    model.save_pretrained(d)
    if os.path.exists(os.path.join(d, "generation_config.json")):
        os.remove(os.path.join(d, "generation_config.json"))
    return d


def build_models():
    torch.manual_seed(41)
    m = Qwen2ForCausalLM(config(PADDED, 64, 3, 128)).eval()
    with torch.no_grad():
        m.model.embed_tokens.weight[SHARED:] *= PADDING_SCALE
    dirs = {"M": save(m, "M")}
    for i, seed in ((1, 42), (2, 43)):
        torch.manual_seed(seed)
        base = Qwen2ForCausalLM(config(SHARED, 32, 2, 64)).eval()
        dirs[f"B{i}"] = save(base, f"B{i}")
        with torch.no_grad():
            for p in base.parameters():
                std = float(p.std()) if p.numel() > 1 and float(p.std()) > 0 else 0.02
                p.add_(torch.randn_like(p) * std * EXPERT_NOISE)
        dirs[f"E{i}"] = save(base, f"E{i}")
    return dirs


def last_logits(model, ids):
    with torch.no_grad():
        return model(torch.tensor([ids])).logits[0, -1]


def fused_greedy(models, prompt, pairs):
    ids, tokens, logprobs, margins, base_prefers_padding = list(prompt), [], [], [], 0
    for _ in range(NEW_TOKENS):
        m = last_logits(models["M"], ids)
        fused = torch.full((PADDED,), float("-inf"), dtype=torch.float64)
        fused[:SHARED] = m[:SHARED]
        for e, b, lam in pairs:
            fused[:SHARED] += lam * (last_logits(models[e], ids) - last_logits(models[b], ids))
        top2 = torch.topk(fused, 2).values
        tok = int(torch.argmax(fused))
        margins.append(float(top2[0] - top2[1]))
        logprobs.append(float(torch.log_softmax(fused, -1)[tok]))
        base_prefers_padding += int(torch.argmax(m)) >= SHARED
        tokens.append(tok)
        ids.append(tok)
    return tokens, logprobs, min(margins), base_prefers_padding


if __name__ == "__main__":
    torch.set_num_threads(2)
    dirs = build_models()
    # Reload from disk so the reference runs exactly the files we ship, in float64.
    models = {k: Qwen2ForCausalLM.from_pretrained(d, attn_implementation="eager", dtype=torch.float64).eval()
              for k, d in dirs.items()}
    g = torch.Generator().manual_seed(44)
    prompt = torch.randint(3, SHARED, (6,), generator=g).tolist()
    cases = []
    for name, pairs in CASES:
        tokens, logprobs, margin, padding_steps = fused_greedy(models, prompt, pairs)
        cases.append({"name": name, "pairs": [{"expert": e, "base": b, "lambda": lam} for e, b, lam in pairs],
                      "tokens": tokens, "logprobs": logprobs, "min_top2_margin": margin,
                      "steps_where_M_alone_prefers_padding": padding_steps})
        print(f"{name}: {tokens} min top-2 margin {margin:.4f}, M alone prefers a padding id at {padding_steps} steps")
    assert min(c["min_top2_margin"] for c in cases) > 1e-3, "a top-2 margin is too small for an f32 comparison"
    with open(os.path.join(OUT, "expected.json"), "w") as f:
        json.dump({"prompt": prompt, "shared_vocab": SHARED, "new_tokens": NEW_TOKENS, "cases": cases,
                   "made_by": "scripts/oracle/make_rast_reference.py with transformers " +
                              __import__("transformers").__version__ + ", torch " + torch.__version__}, f, indent=1)
    total = sum(os.path.getsize(os.path.join(dp, f)) for dp, _, fs in os.walk(OUT) for f in fs)
    print(f"{OUT}: {total / 1e6:.2f} MB")
