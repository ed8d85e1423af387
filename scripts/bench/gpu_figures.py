#!/usr/bin/env python3
"""The headline GPU figures of issue 24, machine-readable: scripts/gpu-check.sh collects them as it measures and
writes gpu-figures.json (the session copies it to docs/gpu-figures.json) in exactly this shape, null for a figure
that could not run:

    {"date", "commit", "gpu", "decode_7b_tok_s", "decode_1_5b_tok_s", "batch32_7b_tok_s", "batch256_7b_tok_s",
     "rast_7b_1_5b_batch32_tok_s", "hf_decode_7b_tok_s"}

    gpu_figures.py add FIGURES KEY FIELD JSON_LINE   # FIELD of a `rast bench --json` (or torch bench) line, if numeric
    gpu_figures.py write FIGURES OUT_JSON DATE COMMIT GPU
    gpu_figures.py --self-test                       # checks add/write on canned bench lines (no GPU needed)
"""
import json
import os
import sys
import tempfile

KEYS = ["decode_7b_tok_s", "decode_1_5b_tok_s", "batch32_7b_tok_s", "batch256_7b_tok_s",
        "rast_7b_1_5b_batch32_tok_s", "hf_decode_7b_tok_s"]


def add(figures, key, field, line):
    """Appends 'key value' when line is a JSON object with a finite number at field; otherwise nothing."""
    if key not in KEYS:
        raise SystemExit(f"gpu_figures: unknown figure {key!r} (one of {', '.join(KEYS)})")
    try:
        v = json.loads(line)[field]
    except (ValueError, KeyError, TypeError):
        return False
    if isinstance(v, bool) or not isinstance(v, (int, float)) or v != v or v in (float("inf"), float("-inf")):
        return False
    with open(figures, "a") as f:
        f.write(f"{key} {float(v)!r}\n")
    return True


def write(figures, out, date, commit, gpu):
    values = {}
    if os.path.exists(figures):
        for row in open(figures):
            parts = row.split()
            if len(parts) == 2 and parts[0] in KEYS:
                values[parts[0]] = float(parts[1])  # the last measurement of a figure wins
    doc = {"date": date, "commit": commit or None, "gpu": gpu or None}
    for k in KEYS:
        doc[k] = round(values[k], 2) if k in values else None
    with open(out, "w") as f:
        json.dump(doc, f, indent=2)
        f.write("\n")
    return doc


def self_test():
    with tempfile.TemporaryDirectory() as d:
        fig, out = os.path.join(d, "figures.txt"), os.path.join(d, "gpu-figures.json")
        bench7 = '{"model":"/w/qwen2.5-7b","backend":"cuda (H100)","decode_tok_s":80.5,"batch":32,"batch_decode_tok_s":1611.25}'
        assert add(fig, "decode_7b_tok_s", "decode_tok_s", bench7)
        assert add(fig, "batch32_7b_tok_s", "batch_decode_tok_s", bench7)
        assert not add(fig, "decode_1_5b_tok_s", "decode_tok_s", "rast failed: out of memory"), "not JSON: no figure"
        assert not add(fig, "batch256_7b_tok_s", "batch_decode_tok_s", '{"decode_tok_s": 1}'), "missing field: no figure"
        assert not add(fig, "hf_decode_7b_tok_s", "decode_tok_s", '{"decode_tok_s": "fast"}'), "not a number: no figure"
        assert add(fig, "rast_7b_1_5b_batch32_tok_s", "fused_batch_tok_s", '{"fused_batch_tok_s": 1234}')
        doc = write(fig, out, "2026-12-06", "abc123", "NVIDIA H100 80GB HBM3")
        with open(out) as f:
            again = json.load(f)
        assert again == doc
        assert list(again) == ["date", "commit", "gpu"] + KEYS, list(again)
        assert again["decode_7b_tok_s"] == 80.5 and again["batch32_7b_tok_s"] == 1611.25
        assert again["rast_7b_1_5b_batch32_tok_s"] == 1234.0
        for k in ("decode_1_5b_tok_s", "batch256_7b_tok_s", "hf_decode_7b_tok_s"):
            assert again[k] is None, k
        empty = write(os.path.join(d, "none.txt"), out, "2026-12-06", "", "")
        assert all(empty[k] is None for k in KEYS + ["commit", "gpu"]), empty
    print("gpu_figures: self-test passed")


if __name__ == "__main__":
    a = sys.argv[1:]
    if a == ["--self-test"]:
        self_test()
    elif len(a) == 5 and a[0] == "add":
        add(*a[1:])
    elif len(a) == 6 and a[0] == "write":
        write(*a[1:])
    else:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
