#!/usr/bin/env python3
"""Builds the pocket RAST lab: data, tokenizer, M and B pretrained on noisy solutions, then E = RL(B) and
M_RL = RL(M), exported as BF16 Hugging Face folders. Seeded and deterministic on CPU; see docs/lab.md.

    /work/main/.oracle/bin/python scripts/lab/train.py OUT_DIR WORK_DIR

OUT_DIR gets M/, B/, E/, M_RL/ (config.json, model.safetensors, generation_config.json, tokenizer files),
test.jsonl (the clean held-out split). WORK_DIR/log.json gets the loss and reward curves. WORK_DIR keeps the F32 stages, so a
rerun redoes only what is missing.
"""
import json
import math
import os
import random
import re
import shutil
import sys
import time

import torch
import torch.nn.functional as F
from transformers import Qwen2Config, Qwen2ForCausalLM

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import task  # noqa: E402
import tok as labtok  # noqa: E402

# One thread by default: on a 2-core machine shared with other work, two torch threads spin-waiting on each other
# ran a pretraining step about 5 times slower than one (measured here).
torch.set_num_threads(int(os.environ.get("LAB_THREADS", "1")))

OUT = sys.argv[1] if len(sys.argv) > 1 else "lab-out"
WORK = sys.argv[2] if len(sys.argv) > 2 else "lab-work"
SCALE = float(os.environ.get("LAB_SCALE", "1.0"))  # < 1 shortens every stage (smoke runs)

VOCAB = 512
N_PRETRAIN = 40000
N_RL = 4000
N_TEST = 200
SIZES = {
    # name: (hidden, layers, heads, kv heads, intermediate)
    "M": (160, 4, 5, 1, 448),
    "B": (96, 2, 4, 2, 256),
}
# Each phase is a warm-up then cosine schedule, continuing from the phase before (M's second phase was added when
# 1200 steps left M's arithmetic worse than B's; see docs/lab.md).
PRETRAIN = {"M": [dict(steps=1200, batch=32, lr=2e-3), dict(steps=500, batch=32, lr=5e-4)],
            "B": [dict(steps=1500, batch=32, lr=3e-3)]}
RL = dict(steps=120, prompts=8, group=8, lr=2e-4, max_new=80, val=100, every=10)
# M is RL-trained with a smaller step: at B's 2e-4 its validation accuracy fell from the first steps on.
RL_OVERRIDES = {"M": dict(lr=5e-5, steps=60)}


def prompt(question):
    # The qwen-boxed prompt of `rast eval --format qwen-boxed` (text/.../PromptFormat.java), exact to the character.
    return ("<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\n" + question
            + "\nPlease reason step by step, and put your final answer within \\boxed{}.<|im_end|>\n<|im_start|>assistant\n")


def boxed(text):
    m = re.findall(r"\\boxed\{([^{}]*)\}", text)
    return m[-1].strip() if m else None


def config(name, tok):
    h, layers, heads, kv, inter = SIZES[name]
    return Qwen2Config(vocab_size=VOCAB, hidden_size=h, intermediate_size=inter, num_hidden_layers=layers,
                       num_attention_heads=heads, num_key_value_heads=kv, max_position_embeddings=256,
                       rms_norm_eps=1e-6, rope_theta=10000.0, tie_word_embeddings=True, initializer_range=0.02,
                       bos_token_id=tok.token_to_id("<|endoftext|>"), eos_token_id=tok.token_to_id("<|im_end|>"),
                       pad_token_id=tok.token_to_id("<|endoftext|>"), use_sliding_window=False)


def data():
    os.makedirs(WORK, exist_ok=True)
    pre = task.split(1001, N_PRETRAIN, noisy=True)
    rl = task.split(2002, N_RL, noisy=False)
    test = task.split(3003, N_TEST, noisy=False)
    seen = {r["question"] for r in pre} | {r["question"] for r in rl}
    test = [dict(r, idx=i) for i, r in enumerate(r for r in test if r["question"] not in seen)]
    return pre, rl, test


def tokenizer(pre):
    d = os.path.join(WORK, "tokenizer")
    if not os.path.exists(os.path.join(d, "tokenizer.json")):
        texts = [prompt(r["question"]) + r["solution"] + "<|im_end|>" for r in pre[:5000]]
        labtok.train(texts, VOCAB, d)
    from tokenizers import Tokenizer
    return Tokenizer.from_file(os.path.join(d, "tokenizer.json")), d


def encode_pair(tok, question, solution):
    p = tok.encode(prompt(question)).ids
    c = tok.encode(solution + "<|im_end|>").ids
    return p, c


def pretrain(name, tok, pre, log):
    phases = PRETRAIN[name]
    model = None
    for k, hp in enumerate(phases):
        path = os.path.join(WORK, name + "-pre" + (str(k + 1) if k < len(phases) - 1 else ""))
        if os.path.exists(os.path.join(path, "model.safetensors")):
            model = Qwen2ForCausalLM.from_pretrained(path, torch_dtype=torch.float32)
            continue
        model = pretrain_phase(name, k, hp, model, tok, pre, log)
        model.save_pretrained(path)
    return model


def pretrain_phase(name, k, hp, model, tok, pre, log):
    steps = max(1, int(hp["steps"] * SCALE))
    torch.manual_seed((11 if name == "M" else 12) + 100 * k)
    if model is None:
        model = Qwen2ForCausalLM(config(name, tok))
    print(f"{name}: {sum(p.numel() for p in model.parameters()) / 1e6:.2f}M parameters", flush=True)
    pairs = [encode_pair(tok, r["question"], r["solution"]) for r in pre]
    opt = torch.optim.AdamW(model.parameters(), lr=hp["lr"], betas=(0.9, 0.98), weight_decay=0.01)
    rng = random.Random(21 + 100 * k)
    pad = tok.token_to_id("<|endoftext|>")
    curve = []
    t0 = time.time()
    model.train()
    for step in range(steps):
        lr = hp["lr"] * min(1.0, (step + 1) / 100) * 0.5 * (1 + math.cos(math.pi * step / steps))
        for g in opt.param_groups: g["lr"] = lr
        batch = [pairs[rng.randrange(len(pairs))] for _ in range(hp["batch"])]
        L = max(len(p) + len(c) for p, c in batch)
        ids = torch.full((len(batch), L), pad)
        labels = torch.full((len(batch), L), -100)
        mask = torch.zeros((len(batch), L), dtype=torch.long)
        for i, (p, c) in enumerate(batch):
            s = p + c
            ids[i, :len(s)] = torch.tensor(s)
            labels[i, len(p):len(s)] = torch.tensor(c)  # loss on the solution only
            mask[i, :len(s)] = 1
        out = model(input_ids=ids, attention_mask=mask, labels=labels)
        opt.zero_grad()
        out.loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        curve.append(out.loss.item())
        if step % 50 == 0 or step == steps - 1:
            print(f"{name} pretrain phase {k + 1} {step}/{steps} loss {out.loss.item():.4f} ({time.time() - t0:.0f}s)", flush=True)
    key = name + "_pretrain" + ("" if k == 0 else f"_phase{k + 1}")
    log[key] = {"loss": curve, "seconds": time.time() - t0, "steps": steps, **hp}
    json.dump(log, open(os.path.join(WORK, "log.json"), "w"))
    return model


@torch.no_grad()
def sample(model, tok, questions, n, temperature, max_new, seed):
    """n completions per question (left-padded batch, KV cache); returns (prompt ids, completion id lists)."""
    pad = tok.token_to_id("<|endoftext|>")
    eos = tok.token_to_id("<|im_end|>")
    prompts = [tok.encode(prompt(q)).ids for q in questions for _ in range(n)]
    L = max(len(p) for p in prompts)
    ids = torch.full((len(prompts), L), pad)
    mask = torch.zeros((len(prompts), L), dtype=torch.long)
    for i, p in enumerate(prompts):
        ids[i, L - len(p):] = torch.tensor(p)
        mask[i, L - len(p):] = 1
    gen = torch.Generator().manual_seed(seed)
    pos = (mask.cumsum(1) - 1).clamp(min=0)
    out = model(input_ids=ids, attention_mask=mask, position_ids=pos, use_cache=True)
    past = out.past_key_values
    logits = out.logits[:, -1]
    done = torch.zeros(len(prompts), dtype=torch.bool)
    comps = [[] for _ in prompts]
    nextpos = pos[:, -1] + 1
    for _ in range(max_new):
        if temperature == 0:
            t = logits.argmax(-1)
        else:
            t = torch.multinomial(F.softmax(logits.float() / temperature, -1), 1, generator=gen).squeeze(1)
        for i in range(len(prompts)):
            if not done[i]:
                comps[i].append(int(t[i]))
                if int(t[i]) == eos: done[i] = True
        if bool(done.all()): break
        mask = torch.cat([mask, torch.ones((len(prompts), 1), dtype=torch.long)], 1)
        out = model(input_ids=t.unsqueeze(1), attention_mask=mask, position_ids=nextpos.unsqueeze(1),
                    past_key_values=past, use_cache=True)
        past = out.past_key_values
        logits = out.logits[:, -1]
        nextpos = nextpos + 1
    return prompts, comps


def accuracy(model, tok, rows, temperature=0, seed=0):
    model.eval()
    correct = 0
    for i in range(0, len(rows), 50):
        chunk = rows[i:i + 50]
        _, comps = sample(model, tok, [r["question"] for r in chunk], 1, temperature, RL["max_new"], seed + i)
        correct += sum(boxed(tok.decode(c)) == r["answer"] for c, r in zip(comps, chunk))
    return correct / len(rows)


def rl(name, model, tok, rl_rows, test, log):
    """GRPO-style policy gradient (one on-policy update per batch, advantages normalized within each group of samples of
    a prompt, no KL term), sampled at T = 1. Every RL["every"] steps, greedy accuracy on a validation set (the last
    RL["val"] RL problems, never trained on; not the test split) picks the checkpoint kept: RL at this size is noisy
    from step to step, and it is what a real run's checkpoint selection does."""
    path = os.path.join(WORK, name + "-rl")
    if os.path.exists(os.path.join(path, "model.safetensors")):
        return Qwen2ForCausalLM.from_pretrained(path, torch_dtype=torch.float32)
    hp = dict(RL, **RL_OVERRIDES.get(name, {}))
    steps = max(1, int(hp["steps"] * SCALE))
    val, pool = rl_rows[-RL["val"]:], rl_rows[:-RL["val"]]
    torch.manual_seed(31)
    rng = random.Random(32)
    opt = torch.optim.AdamW(model.parameters(), lr=hp["lr"], betas=(0.9, 0.99), weight_decay=0.0)
    pad = tok.token_to_id("<|endoftext|>")
    rewards, accs = [], []
    best = (accuracy(model, tok, val), 0, {k: v.clone() for k, v in model.state_dict().items()})
    accs.append((0, best[0]))
    t0 = time.time()
    for step in range(1, steps + 1):
        batch = [pool[rng.randrange(len(pool))] for _ in range(RL["prompts"])]
        model.eval()
        prompts, comps = sample(model, tok, [r["question"] for r in batch], RL["group"], 1.0, RL["max_new"], 1000 + step)
        r = torch.tensor([float(boxed(tok.decode(c)) == batch[i // RL["group"]]["answer"]) for i, c in enumerate(comps)])
        g = r.view(-1, RL["group"])
        adv = ((g - g.mean(1, keepdim=True)) / (g.std(1, keepdim=True) + 0.1)).view(-1)
        rewards.append(float(r.mean()))
        if bool((adv != 0).any()):
            model.train()
            L = max(len(p) + len(c) for p, c in zip(prompts, comps))
            ids = torch.full((len(prompts), L), pad)
            mask = torch.zeros((len(prompts), L), dtype=torch.long)
            cmask = torch.zeros((len(prompts), L))
            for i, (p, c) in enumerate(zip(prompts, comps)):
                s = p + c
                ids[i, :len(s)] = torch.tensor(s)
                mask[i, :len(s)] = 1
                cmask[i, len(p):len(s)] = 1
            logits = model(input_ids=ids, attention_mask=mask).logits[:, :-1]
            lp = torch.log_softmax(logits.float(), -1).gather(-1, ids[:, 1:].unsqueeze(-1)).squeeze(-1)
            cm = cmask[:, 1:]
            loss = -(lp * cm * adv.unsqueeze(1)).sum() / cm.sum()
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
        if step % RL["every"] == 0 or step == steps:
            acc = accuracy(model, tok, val)
            accs.append((step, acc))
            if acc > best[0]:
                best = (acc, step, {k: v.clone() for k, v in model.state_dict().items()})
            print(f"{name} rl {step}/{steps} reward {rewards[-1]:.3f} val greedy-acc {acc:.3f} ({time.time() - t0:.0f}s)", flush=True)
    model.load_state_dict(best[2])
    print(f"{name} rl: kept step {best[1]} (val greedy-acc {best[0]:.3f})", flush=True)
    log[name + "_rl"] = {"reward": rewards, "val_greedy_acc": accs, "kept_step": best[1], "seconds": time.time() - t0,
                         **dict(hp, steps=steps)}
    model.save_pretrained(path)
    return model


def export(model, tok_dir, out):
    if os.path.exists(out): shutil.rmtree(out)
    m = Qwen2ForCausalLM(model.config)
    m.load_state_dict(model.state_dict())
    m = m.to(torch.bfloat16)
    m.config.torch_dtype = torch.bfloat16
    m.generation_config.do_sample = False
    m.generation_config.eos_token_id = [model.config.eos_token_id, model.config.bos_token_id]
    m.save_pretrained(out)
    for f in ("tokenizer.json", "tokenizer_config.json"):
        shutil.copy(os.path.join(tok_dir, f), os.path.join(out, f))


def main():
    t_all = time.time()
    logpath = os.path.join(WORK, "log.json")
    log = json.load(open(logpath)) if os.path.exists(logpath) else {}
    pre, rl_rows, test = data()
    tok, tok_dir = tokenizer(pre)
    print("prompt tokens:", len(tok.encode(prompt(test[0]["question"])).ids),
          "solution tokens:", len(tok.encode(test[0]["solution"]).ids), flush=True)
    models = {}
    for name in ("B", "M"):
        models[name] = pretrain(name, tok, pre, log)
        json.dump(log, open(logpath, "w"))
    os.makedirs(OUT, exist_ok=True)
    for name in ("B", "M"):
        export(models[name], tok_dir, os.path.join(OUT, name))
    for name, rl_name in (("B", "E"), ("M", "M_RL")):
        base = Qwen2ForCausalLM.from_pretrained(os.path.join(WORK, name + "-pre"), torch_dtype=torch.float32)
        trained = rl(name, base, tok, rl_rows, test, log)
        json.dump(log, open(logpath, "w"))
        export(trained, tok_dir, os.path.join(OUT, rl_name))
    task.write_jsonl([{k: r[k] for k in ("question", "answer", "solution", "steps", "idx")} for r in test],
                     os.path.join(OUT, "test.jsonl"))
    log["total_seconds"] = time.time() - t_all
    json.dump(log, open(logpath, "w"))


if __name__ == "__main__":
    main()
