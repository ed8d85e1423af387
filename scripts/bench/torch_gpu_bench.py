#!/usr/bin/env python3
"""The PyTorch peer of `rast bench --device cuda`, for scripts/gpu-check.sh.

    python3 scripts/bench/torch_gpu_bench.py MODEL_DIR [--prompt-len 128] [--gen 128] [--runs 3] [--impl auto|hf|torch]

Same protocol as `rast bench`: a random prompt of --prompt-len tokens (seed 42), then --gen greedy steps with the KV
cache, one token per forward call, median of --runs after one warm-up, CUDA synchronized around each timing. The
model runs in bf16 on the GPU. --impl hf uses Hugging Face transformers (eager, its default attention); --impl torch
a minimal Qwen2/Llama forward in plain PyTorch (F.scaled_dot_product_attention, a preallocated KV cache), for
machines without transformers; auto = hf when importable. Prints one JSON line. Not used by tests or CI.
"""
import argparse, json, math, os, statistics, struct, time

import torch
import torch.nn.functional as F

ap = argparse.ArgumentParser()
ap.add_argument("model")
ap.add_argument("--prompt-len", type=int, default=128)
ap.add_argument("--gen", type=int, default=128)
ap.add_argument("--runs", type=int, default=3)
ap.add_argument("--impl", default="auto", choices=["auto", "hf", "torch"])
ap.add_argument("--device", default="cuda")
a = ap.parse_args()
dev = torch.device(a.device)
cfg = json.load(open(os.path.join(a.model, "config.json")))


def sync():
    if dev.type == "cuda":
        torch.cuda.synchronize()


def load_safetensors(folder):
    """name → tensor on dev, read with the standard library (no safetensors package needed)."""
    files = sorted(f for f in os.listdir(folder) if f.endswith(".safetensors"))
    dtypes = {"BF16": torch.bfloat16, "F16": torch.float16, "F32": torch.float32}
    out = {}
    for f in files:
        with open(os.path.join(folder, f), "rb") as fh:
            n = struct.unpack("<Q", fh.read(8))[0]
            header = json.loads(fh.read(n))
            data = fh.read()
        for name, info in header.items():
            if name == "__metadata__":
                continue
            b, e = info["data_offsets"]
            t = torch.frombuffer(bytearray(data[b:e]), dtype=dtypes[info["dtype"]]).reshape(info["shape"])
            out[name] = t.to(dev, torch.bfloat16)
    return out


class TinyDecoder:
    """Qwen2 / Llama forward (no rope scaling): enough to time decode on the same weights."""

    def __init__(self, folder, capacity):
        self.w = load_safetensors(folder)
        c = cfg
        self.L, self.H, self.KV = c["num_hidden_layers"], c["num_attention_heads"], c["num_key_value_heads"]
        self.hd = c.get("head_dim") or c["hidden_size"] // self.H
        self.eps = c["rms_norm_eps"]
        theta = c.get("rope_theta") or c.get("rope_parameters", {}).get("rope_theta", 10000.0)
        inv = 1.0 / theta ** (torch.arange(0, self.hd, 2, dtype=torch.float32, device=dev) / self.hd)
        ang = torch.arange(capacity, dtype=torch.float32, device=dev)[:, None] * inv[None, :]
        self.cos, self.sin = ang.cos(), ang.sin()
        self.head = self.w.get("lm_head.weight", self.w["model.embed_tokens.weight"])
        self.k = torch.zeros(self.L, capacity, self.KV, self.hd, dtype=torch.bfloat16, device=dev)
        self.v = torch.zeros_like(self.k)

    def rope(self, x, pos):
        c, s = self.cos[pos][None, :, None, :], self.sin[pos][None, :, None, :]
        x1, x2 = x[..., : self.hd // 2].float(), x[..., self.hd // 2:].float()
        return torch.cat([x1 * c - x2 * s, x2 * c + x1 * s], -1).to(x.dtype)

    def norm(self, x, w):
        xf = x.float()
        return (xf * torch.rsqrt(xf.pow(2).mean(-1, keepdim=True) + self.eps)).to(x.dtype) * w

    def forward(self, ids, start):
        T = ids.shape[1]
        pos = torch.arange(start, start + T, device=dev)
        x = self.w["model.embed_tokens.weight"][ids]
        for l in range(self.L):
            p = f"model.layers.{l}."
            h = self.norm(x, self.w[p + "input_layernorm.weight"])
            def proj(n):
                y = h @ self.w[p + f"self_attn.{n}_proj.weight"].T
                b = self.w.get(p + f"self_attn.{n}_proj.bias")
                return y + b if b is not None else y
            q = self.rope(proj("q").view(1, T, self.H, self.hd), pos)
            k = self.rope(proj("k").view(1, T, self.KV, self.hd), pos)
            self.k[l, start:start + T], self.v[l, start:start + T] = k[0], proj("v").view(T, self.KV, self.hd)
            K = self.k[l, : start + T].transpose(0, 1)[None]
            V = self.v[l, : start + T].transpose(0, 1)[None]
            mask = torch.ones(T, start + T, dtype=torch.bool, device=dev).tril(start)
            o = F.scaled_dot_product_attention(q.transpose(1, 2), K, V, attn_mask=mask, enable_gqa=True)
            x = x + o.transpose(1, 2).reshape(1, T, -1) @ self.w[p + "self_attn.o_proj.weight"].T
            h = self.norm(x, self.w[p + "post_attention_layernorm.weight"])
            g = F.silu(h @ self.w[p + "mlp.gate_proj.weight"].T) * (h @ self.w[p + "mlp.up_proj.weight"].T)
            x = x + g @ self.w[p + "mlp.down_proj.weight"].T
        return self.norm(x[:, -1:], self.w["model.norm.weight"]) @ self.head.T


impl = a.impl
if impl == "auto":
    try:
        import transformers  # noqa: F401
        impl = "hf"
    except ImportError:
        impl = "torch"
vocab = cfg["vocab_size"]
g = torch.Generator().manual_seed(42)
prompt = torch.randint(0, min(vocab, 100_000), (1, a.prompt_len), generator=g).to(dev)
prefill, decode = [], []
with torch.inference_mode():
    if impl == "hf":
        from transformers import AutoModelForCausalLM
        model = AutoModelForCausalLM.from_pretrained(a.model, dtype=torch.bfloat16).to(dev).eval()
        label = f"hf-transformers {__import__('transformers').__version__}"
    else:
        model = TinyDecoder(a.model, a.prompt_len + a.gen + 1)
        label = "plain torch (sdpa)"
    for r in range(a.runs + 1):
        sync(); t0 = time.perf_counter()
        if impl == "hf":
            out = model(prompt, use_cache=True, logits_to_keep=1)
            pkv, nxt = out.past_key_values, out.logits[:, -1:].argmax(-1)
        else:
            nxt = model.forward(prompt, 0).argmax(-1)
        sync(); t1 = time.perf_counter()
        for i in range(a.gen):
            if impl == "hf":
                out = model(nxt, past_key_values=pkv, use_cache=True)
                pkv, nxt = out.past_key_values, out.logits[:, -1:].argmax(-1)
            else:
                nxt = model.forward(nxt, a.prompt_len + i).argmax(-1)
        sync(); t2 = time.perf_counter()
        if r > 0:
            prefill.append(a.prompt_len / (t1 - t0))
            decode.append(a.gen / (t2 - t1))
print(json.dumps({"impl": label, "torch": torch.__version__, "prefill_tok_s": round(statistics.median(prefill), 2),
                  "decode_tok_s": round(statistics.median(decode), 2)}))
