"""The lab's task: multi-step integer word problems with step-by-step solutions ending in \\boxed{N}.

A problem is a start amount and 2 to 4 operations (gains, losses, doubling/tripling), each a sentence; the clean
solution writes one equation per operation and ends with "So the answer is \\boxed{N}." Every number stays in 0..99,
so each step is one- or two-digit arithmetic.

Pretraining solutions are noisy, in two ways (NOISE below):
  - a systematic bad habit: the solution stops one operation early and boxes the intermediate result, more often the
    longer the problem (for 4-operation problems more often than not, so a model that imitates the data answers
    those wrong even greedily);
  - arithmetic slips: one step's result is off by 1 to 3 and the error carries on to the answer.
RL on answer correctness has both to fix. The test split is clean (gold answers are the true results).
"""
import json
import random

NAMES = ["Mia", "Tom", "Ana", "Leo", "Sara", "Ben", "Eva", "Max", "Lily", "Sam", "Nina", "Omar", "Ivy", "Jack", "Zoe", "Ravi"]
ITEMS = ["apples", "marbles", "stickers", "coins", "books", "cookies", "pencils", "shells", "cards", "stamps"]
PRONOUN = {n: ("She" if n in ("Mia", "Ana", "Sara", "Eva", "Lily", "Nina", "Ivy", "Zoe") else "He") for n in NAMES}

# Probability that a noisy pretraining solution skips its last operation, by number of operations.
STOP_EARLY = {2: 0.15, 3: 0.40, 4: 0.65}
SLIP = 0.10  # probability of one arithmetic slip in a pretraining solution


def make_problem(rng):
    """(question, ops, values): ops as (kind, k), values[i] the amount after i operations."""
    name = rng.choice(NAMES)
    item = rng.choice(ITEMS)
    he = PRONOUN[name]
    n_ops = rng.choice([2, 3, 4])
    v = rng.randint(2, 30)
    values = [v]
    sentences = [f"{name} has {v} {item}."]
    ops = []
    for _ in range(n_ops):
        choices = []
        if v + 1 <= 99: choices.append("add")
        if v >= 2: choices.append("sub")
        if 2 * v <= 99 and v >= 1: choices.append("mul")
        kind = rng.choice(choices)
        if kind == "add":
            k = rng.randint(1, min(40, 99 - v))
            s = rng.choice([f"{he} buys {k} more.", f"{he} finds {k} more.", f"{he} gets {k} more from a friend."])
            v = v + k
        elif kind == "sub":
            k = rng.randint(1, v - 1)
            s = rng.choice([f"{he} gives away {k}.", f"{he} loses {k}.", f"{he} sells {k}."])
            v = v - k
        else:
            k = 3 if 3 * v <= 99 and rng.random() < 0.4 else 2
            s = f"{he} doubles them." if k == 2 else f"{he} triples them."
            v = v * k
        ops.append((kind, k))
        values.append(v)
        sentences.append(s)
    sentences.append(f"How many {item} does {name} have now?")
    return " ".join(sentences), ops, values


SYMBOL = {"add": "+", "sub": "-", "mul": "*"}


def apply(kind, a, k):
    return a + k if kind == "add" else a - k if kind == "sub" else a * k


def solution(values, ops, rng=None):
    """The solution text; with rng, the noisy pretraining version. Returns (text, boxed answer)."""
    n = len(ops)
    steps = n
    slip_at = -1
    if rng is not None:
        if rng.random() < STOP_EARLY[n]:
            steps = n - 1
        if rng.random() < SLIP:
            slip_at = rng.randrange(steps)
    lines = []
    cur = values[0]
    for i in range(steps):
        kind, k = ops[i]
        res = apply(kind, cur, k)
        if i == slip_at:
            res = max(0, res + rng.choice([-3, -2, -1, 1, 2, 3]))
        lines.append(f"{cur} {SYMBOL[kind]} {k} = {res}")
        cur = res
    lines.append(f"So the answer is \\boxed{{{cur}}}.")
    return "\n".join(lines), cur


def split(seed, count, noisy):
    rng = random.Random(seed)
    rows = []
    for i in range(count):
        q, ops, values = make_problem(rng)
        text, boxed = solution(values, ops, rng if noisy else None)
        rows.append({"question": q, "answer": str(values[-1]), "solution": text, "idx": i, "steps": len(ops)})
    return rows


def write_jsonl(rows, path):
    with open(path, "w") as f:
        for r in rows:
            f.write(json.dumps(r) + "\n")


if __name__ == "__main__":
    for r in split(1, 5, True):
        print(r["question"]); print(r["solution"]); print("gold", r["answer"]); print()
