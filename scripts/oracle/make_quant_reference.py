#!/usr/bin/env python3
"""Reference logits for the reference models with Q8_0 / Q4_0 weights (rast --dtype q8_0 / q4_0).

Run from the repository root with the oracle venv:

    .oracle/bin/python scripts/oracle/make_quant_reference.py tests/src/test/resources/reference

rast quantizes every matrix of the checkpoint (every parameter of rank 2: the projections, the embedding table and an
untied LM head; a tied head is the embedding) into llama.cpp's blocks of 32 along the input dimension as it loads,
then computes with them as llama.cpp does (below). Norm weights and biases stay as stored. Here torch applies the same
rules, written from llama.cpp's reference quantizers (ggml-quants.c, quantize_row_q8_0_ref / quantize_row_q4_0_ref),
to each matrix of the model loaded in float32 (a row not a multiple of 32 is padded with zeros to whole blocks):

  Q8_0: d = amax / 127, id = 1/d (0 when d = 0), q = roundf(w * id) (halves away from zero); w' = q * fp16(d)
  Q4_0: m = the value of largest |w| (the first, on a tie), d = m / -8, id = 1/d (0 when d = 0),
        q = min(15, trunc(w * id + 8.5)); w' = (q - 8) * fp16(d)

with every step in float32 as in C, and fp16(d) torch's round-to-nearest-even to float16. w' is exact in float32 (8
significant bits times 11), so the model then runs in float64 (as make_reference_models.py does) with exactly the
weights rast multiplies by; KV cache unrounded.

The input of every such matrix product is quantized too, as llama.cpp's CPU matmuls (and rast's) do before an integer
dot product: each row of x, rounded to float32, goes through the Q8_0 rule above (per block of 32, K padded with
zeros) and is replaced by q * fp16(d), exact in float32 and float64. The product of the two quantized operands is then
computed in float64: each block's sum of integer products times fp16(d_w) * fp16(d_x), exactly what rast sums in
integers and scales in one F32 multiply-add per block (rast's only rounding is that F32 accumulation over blocks).

Also quant_matmul.safetensors in the output folder: one product on its own (matmul_case).

For each model folder it writes q8_0_weights_logits.safetensors and q4_0_weights_logits.safetensors: "logits"
[len(input_ids), vocab] F32 for the expected.json input_ids, every position; and q8_0_greedy / q4_0_greedy in
quant.json: the 12 greedy ids after the expected.json greedy prompt, with the smallest top-1/top-2 margin on the way.
"""
import json
import os
import sys

import torch
from safetensors.torch import save_file
from transformers import AutoModelForCausalLM

from make_reference_models import greedy, hf_logits as logits  # the same float64 forward and 12-token greedy run

OUT = sys.argv[1] if len(sys.argv) > 1 else "tests/src/test/resources/reference"
MODELS = ["qwen2-f32", "llama3-f32", "qwen2-bf16-tied-sharded", "llama3-bf16-tied"]


def blocks(w):
    """[N, K] float32 -> [N, ceil(K/32), 32], zero-padded."""
    n, k = w.shape
    kp = (k + 31) // 32 * 32
    return torch.nn.functional.pad(w, (0, kp - k)).view(n, kp // 32, 32), k


def inverse(d):
    one = torch.ones_like(d)
    return torch.where(d != 0, one / torch.where(d != 0, d, one), torch.zeros_like(d))


def q8_0(w):
    x, k = blocks(w)
    d = x.abs().amax(-1, keepdim=True) / torch.tensor(127.0, dtype=torch.float32)
    v = x * inverse(d)                                                   # float32, as C's x * id
    q = torch.sign(v) * torch.floor(v.abs().double() + 0.5).float()     # roundf, without rounding |v| + 0.5 first
    out = q * d.to(torch.float16).to(torch.float32)
    return out.view(w.shape[0], -1)[:, :k]


def q4_0(w):
    x, k = blocks(w)
    m = x.gather(-1, x.abs().argmax(-1, keepdim=True))                  # argmax: the first of the largest
    d = m / torch.tensor(-8.0, dtype=torch.float32)
    v = x * inverse(d) + torch.tensor(8.5, dtype=torch.float32)          # float32, as C's x * id + 8.5f
    q = torch.clamp(torch.trunc(v), max=15)                              # (int8_t) truncates; MIN(15, .)
    out = (q - 8) * d.to(torch.float16).to(torch.float32)
    return out.view(w.shape[0], -1)[:, :k]


def quantize_input(module, args):
    """Forward pre-hook: the input of a quantized matrix product through q8_0, row by row (last dimension)."""
    x = args[0]
    shape = x.shape
    q = q8_0(x.reshape(-1, shape[-1]).float()).to(x.dtype).reshape(shape)
    return (q,) + tuple(args[1:])


def matmul_case(out_dir):
    """One quantized matrix product on its own, so that its math is pinned exactly (no upstream rounding to flip an
    int8 value): x [5, 200] and w [37, 200] (K not a multiple of 32) in float32; "q8_0" / "q4_0" [5, 37] =
    q8_0(x) @ q(w)^T in float64 (exact products, one rounding to float32 at the end). "weights_only" is the product
    with x left unquantized (q4_0), to show how far quantizing x moves it."""
    g = torch.Generator().manual_seed(23)
    x = torch.randn(5, 200, generator=g, dtype=torch.float32)
    w = (torch.randn(37, 200, generator=g, dtype=torch.float32) * 0.1)
    xq = q8_0(x).double()
    tensors = {"x": x, "w": w}
    for qname, quantize in (("q8_0", q8_0), ("q4_0", q4_0)):
        tensors[qname] = (xq @ quantize(w).double().T).float().contiguous()
    tensors["weights_only"] = (x.double() @ q4_0(w).double().T).float().contiguous()
    save_file(tensors, os.path.join(out_dir, "quant_matmul.safetensors"))
    print(f"quant_matmul: quantizing x moves the q4_0 product by up to "
          f"{(tensors['q4_0'] - tensors['weights_only']).abs().max():.4f}")


def main():
    torch.set_num_threads(2)
    matmul_case(OUT)
    for name in MODELS:
        d = os.path.join(OUT, name)
        with open(os.path.join(d, "expected.json")) as f:
            expected = json.load(f)
        ids = expected["input_ids"]
        prompt = expected["greedy_prompt"]
        plain = AutoModelForCausalLM.from_pretrained(d, attn_implementation="eager", dtype=torch.float64).eval()
        base = logits(plain, ids)
        summary = {}
        for qname, quantize in (("q8_0", q8_0), ("q4_0", q4_0)):
            model = AutoModelForCausalLM.from_pretrained(d, attn_implementation="eager", dtype=torch.float32).eval()
            with torch.no_grad():
                for pname, p in model.named_parameters():  # tied weights appear once
                    if p.dim() == 2:
                        p.data = quantize(p.data.float())
                model = model.to(torch.float64)
                for module in model.modules():  # q, k, v, o, gate, up, down and the LM head
                    if isinstance(module, torch.nn.Linear):
                        module.register_forward_pre_hook(quantize_input)
                got = logits(model, ids)
            save_file({"logits": got.float().contiguous()}, os.path.join(d, f"{qname}_weights_logits.safetensors"))
            g, margin = greedy(model, prompt)
            summary[f"{qname}_greedy"] = g
            summary[f"{qname}_greedy_min_margin"] = margin
            diff = (got - base).abs().flatten()
            print(f"{name} {qname}: {len(ids)} positions; quantized weights move logits by up to {diff.max():.4f} "
                  f"(99th percentile {diff.quantile(0.99):.4f}); greedy {g}, smallest margin {margin:.4f}")
        with open(os.path.join(d, "quant.json"), "w") as f:
            json.dump(summary, f, indent=1)
            f.write("\n")


if __name__ == "__main__":
    main()
