#!/usr/bin/env python3
"""Builds the tiny random reference models and what Hugging Face transformers computes for them.

Run from the repository root with the oracle venv (see docs/architecture.md, "Tests and reference fixtures"):

    .oracle/bin/python scripts/oracle/make_reference_models.py tests/src/test/resources/reference

For each model it writes a Hugging Face folder (config.json + safetensors) and
  expected.json       input_ids, greedy prompt and the 12 greedy ids HF picks (argmax of HF logits, step by step)
  logits.safetensors  "logits" [len(input_ids), vocab] F32: HF's logits for input_ids, every position

bf16 models: weights are stored in bf16, and the reference logits come from HF running those exact bf16 weights
upcast (exactly) to float64, i.e. "bf16 weights, wide math" - what our engine does in f32.
All reference logits are computed in float64 and stored as f32.
Tiny but not trivial: GQA ratio > 1, head_dim != 64, vocab not a multiple of any vector width, llama3 RoPE
scaling with an original context small enough (32) that the scaling changes frequencies the test reaches.
"""
import json
import os
import sys

import torch
from safetensors.torch import save_file
from transformers import LlamaConfig, LlamaForCausalLM, Qwen2Config, Qwen2ForCausalLM

OUT = sys.argv[1] if len(sys.argv) > 1 else "tests/src/test/resources/reference"
GREEDY_PROMPT = 8
GREEDY_NEW = 12


def to_published_layout(path):
    """Rewrites a transformers-5 config.json the way Qwen2.5 / Llama-3.1 configs are published on the Hub."""
    with open(path) as f:
        c = json.load(f)
    rp = c.pop("rope_parameters", None) or {}
    c["rope_theta"] = rp.pop("rope_theta", 10000.0)
    rope_type = rp.get("rope_type", "default")
    c["rope_scaling"] = None if rope_type == "default" else rp
    c["torch_dtype"] = c.pop("dtype", "float32")
    c["transformers_version"] = "4.45.0"
    with open(path, "w") as f:
        json.dump(c, f, indent=2)


def hf_logits(model, ids):
    with torch.no_grad():
        return model(torch.tensor([ids])).logits[0]


def greedy(model, prompt):
    ids, margins = list(prompt), []
    for _ in range(GREEDY_NEW):
        last = hf_logits(model, ids)[-1]
        top2 = torch.topk(last, 2).values
        margins.append(float(top2[0] - top2[1]))
        ids.append(int(torch.argmax(last)))
    return ids[len(prompt):], min(margins)


def build(name, cls, config, dtype, seq_len, seed, layout="v5", shard=None):
    torch.manual_seed(seed)
    model = cls(config).eval()
    if dtype == torch.bfloat16:
        model = model.to(torch.bfloat16)
    d = os.path.join(OUT, name)
    os.makedirs(d, exist_ok=True)
    for f in os.listdir(d):
        os.remove(os.path.join(d, f))
    kwargs = {"max_shard_size": shard} if shard else {}
    model.save_pretrained(d, **kwargs)
    for f in ("generation_config.json",):
        if os.path.exists(os.path.join(d, f)):
            os.remove(os.path.join(d, f))
    if layout == "published":
        to_published_layout(os.path.join(d, "config.json"))

    # Reference: reload from disk (so HF reads exactly the files we ship) and compute in float64, so the reference
    # carries no rounding noise of its own (HF in f32 differs from f64 by ~3e-5 on these models).
    ref = cls.from_pretrained(d, attn_implementation="eager", dtype=torch.float64).eval()
    g = torch.Generator().manual_seed(seed + 1)
    ids = torch.randint(0, config.vocab_size, (seq_len,), generator=g).tolist()
    logits = hf_logits(ref, ids)
    tokens, margin = greedy(ref, ids[:GREEDY_PROMPT])
    save_file({"logits": logits.float().contiguous()}, os.path.join(d, "logits.safetensors"))
    with open(os.path.join(d, "expected.json"), "w") as f:
        json.dump({"input_ids": ids, "greedy_prompt": ids[:GREEDY_PROMPT], "greedy_tokens": tokens,
                   "min_top2_margin": margin, "dtype": str(dtype).replace("torch.", ""), "config_layout": layout,
                   "made_by": "scripts/oracle/make_reference_models.py with transformers " +
                              __import__("transformers").__version__ + ", torch " + torch.__version__}, f, indent=1)
    print(f"{name}: {len(ids)} ids, logits range [{logits.min():.3f}, {logits.max():.3f}], "
          f"greedy {tokens} (min top-2 margin {margin:.4f})")


def qwen_config(tied):
    # head_dim absent: derived as hidden_size / num_attention_heads = 20; GQA 6 heads over 2 KV heads.
    return Qwen2Config(vocab_size=999, hidden_size=120, intermediate_size=232, num_hidden_layers=3,
                       num_attention_heads=6, num_key_value_heads=2, max_position_embeddings=256,
                       rms_norm_eps=1e-6, rope_theta=10000.0, tie_word_embeddings=tied, initializer_range=0.12,
                       bos_token_id=1, eos_token_id=2, use_sliding_window=False)


def llama_config(tied):
    # llama3 scaling with original context 32: wavelengths > 32 are slowed 8x, 8..32 blended.
    return LlamaConfig(vocab_size=1001, hidden_size=128, intermediate_size=200, num_hidden_layers=3,
                       num_attention_heads=4, num_key_value_heads=2, head_dim=32, max_position_embeddings=256,
                       rms_norm_eps=1e-5, tie_word_embeddings=tied, initializer_range=0.12,
                       rope_parameters={"rope_type": "llama3", "rope_theta": 500000.0, "factor": 8.0,
                                        "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                                        "original_max_position_embeddings": 32},
                       bos_token_id=1, eos_token_id=2)


if __name__ == "__main__":
    torch.set_num_threads(2)
    build("qwen2-f32", Qwen2ForCausalLM, qwen_config(False), torch.float32, 20, 11, layout="v5")
    build("qwen2-bf16-tied-sharded", Qwen2ForCausalLM, qwen_config(True), torch.bfloat16, 20, 22,
          layout="published", shard="150KB")
    build("llama3-f32", LlamaForCausalLM, llama_config(False), torch.float32, 48, 13, layout="published")
    build("llama3-bf16-tied", LlamaForCausalLM, llama_config(True), torch.bfloat16, 48, 24, layout="v5")
