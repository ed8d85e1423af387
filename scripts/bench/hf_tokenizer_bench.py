"""Peer benchmark for `rast tokenize --bench`: HF tokenizers (Rust), one thread, same corpus, same loop shape.

The corpus is every question of the six datasets, one per line (as make_corpus below writes it). Run:
  .oracle/bin/python scripts/bench/hf_tokenizer_bench.py DIR corpus.txt [seconds]
"""
import os
import sys
import time

os.environ["RAYON_NUM_THREADS"] = "1"
os.environ["TOKENIZERS_PARALLELISM"] = "false"
from tokenizers import Tokenizer  # noqa: E402

tok = Tokenizer.from_file(os.path.join(sys.argv[1], "tokenizer.json"))
data = open(sys.argv[2], encoding="utf-8").read()
seconds = float(sys.argv[3]) if len(sys.argv) > 3 else 3.0
texts = data.split("\n")
texts = [t for t in texts if t] if data.endswith("\n") else texts
nbytes = len(data.encode("utf-8"))
tokens = sum(len(tok.encode(t, add_special_tokens=False).ids) for t in texts)
t0, rounds = time.perf_counter(), 0
while time.perf_counter() - t0 < seconds:
    for t in texts:
        tok.encode(t, add_special_tokens=False)
    rounds += 1
s = time.perf_counter() - t0
print(f"HF tokenizers: {len(texts)} texts, {nbytes/1e6:.2f} MB, {tokens} tokens per round; {rounds} rounds in {s:.2f} s: "
      f"{rounds*nbytes/1e6/s:.2f} MB/s, {rounds*tokens/s:.0f} tokens/s")
