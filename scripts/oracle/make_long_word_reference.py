"""Reference for long single words (the pre-tokenizer keeps a run of letters whole, so BPE sees all of it at once).

For each text below and each tokenizer: how many ids HF `tokenizers` gives and the SHA-256 of those ids written as
decimal numbers joined by ",". Hashes keep the fixture small; the texts are rebuilt from the same recipe in the test.

Writes tests/src/test/resources/tokenizer/long-words.json.
Run: .oracle/bin/python scripts/oracle/make_long_word_reference.py
"""
import hashlib
import json
import pathlib

from tokenizers import Tokenizer

ROOT = pathlib.Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared"
TOKENIZERS = {"qwen": SHARED / "tokenizers/qwen3", "llama": SHARED / "tokenizers/llama3.1"}

# name -> (unit, repeats): the text is unit * repeats
TEXTS = {
    "a100k": ("a", 100_000),
    "abcab": ("abcab", 20_000),
    "cjk": ("一二三四五六七八九十", 5_000),
}

out = {}
for name, (unit, repeats) in TEXTS.items():
    text = unit * repeats
    entry = {"unit": unit, "repeats": repeats}
    for tok_name, d in TOKENIZERS.items():
        ids = Tokenizer.from_file(str(d / "tokenizer.json")).encode(text, add_special_tokens=False).ids
        entry[tok_name] = {"count": len(ids), "sha256": hashlib.sha256(",".join(map(str, ids)).encode()).hexdigest()}
    out[name] = entry
(ROOT / "tests/src/test/resources/tokenizer/long-words.json").write_text(json.dumps(out, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
print(json.dumps(out, ensure_ascii=False))
