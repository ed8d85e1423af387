#!/usr/bin/env python3
"""Plots the lab's training logs (WORK_DIR/log.json from train.py) as PNGs, and copies the log beside them.

    .oracle/bin/python scripts/lab/plot.py WORK_DIR/log.json docs/lab
"""
import json
import os
import shutil
import sys

import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

LOG, OUT = sys.argv[1], sys.argv[2]


def smooth(xs, k):
    out, acc = [], 0.0
    for i, x in enumerate(xs):
        acc += x
        if i >= k: acc -= xs[i - k]
        out.append(acc / min(i + 1, k))
    return out


def main():
    log = json.load(open(LOG))
    os.makedirs(OUT, exist_ok=True)
    fig, ax = plt.subplots(figsize=(7, 4))
    for name in ("M", "B"):
        # the phases of a model's pretraining, one after another (train.py's PRETRAIN)
        phases = [log[k] for k in sorted(log) if k == name + "_pretrain" or k.startswith(name + "_pretrain_phase")]
        loss = [x for e in phases for x in e["loss"]]
        steps = "+".join(str(e["steps"]) for e in phases)
        minutes = sum(e["seconds"] for e in phases) / 60
        ax.plot(smooth(loss, 25), label=f"{name} ({steps} steps, {minutes:.0f} min)")
    ax.set_yscale("log")
    ax.set_xlabel("step (batch of 32 noisy solutions)")
    ax.set_ylabel("cross-entropy on solution tokens (25-step mean)")
    ax.set_title("Pretraining on noisy step-by-step solutions")
    ax.legend()
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(os.path.join(OUT, "pretrain.png"), dpi=110)

    fig, (a1, a2) = plt.subplots(1, 2, figsize=(10, 4))
    for name, label in (("M", "M → M_RL"), ("B", "B → E")):
        e = log[name + "_rl"]
        a1.plot(smooth(e["reward"], 10), label=f"{label} (lr {e['lr']:g}, {e['seconds'] / 60:.1f} min; kept step {e['kept_step']})")
        steps, accs = zip(*e["val_greedy_acc"])
        a2.plot(steps, [100 * a for a in accs], marker="o", label=label)
    a1.set_xlabel("RL step")
    a1.set_ylabel("mean reward at T = 1 (10-step mean)")
    a1.set_title("RL: reward = answer correct")
    a1.legend()
    a1.grid(alpha=0.3)
    a2.set_xlabel("RL step")
    a2.set_ylabel("greedy accuracy on 100 validation problems (%)")
    a2.set_title("Greedy validation accuracy during RL")
    a2.legend()
    a2.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(os.path.join(OUT, "rl.png"), dpi=110)
    shutil.copy(LOG, os.path.join(OUT, "training-log.json"))


if __name__ == "__main__":
    main()
