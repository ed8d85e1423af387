"""Reference ids for the tokenizer tests, made with Hugging Face `tokenizers` (the Rust library).

Strings: every question of the six datasets in ../shared/datasets (the field SimpleRL's parse_question reads:
question, problem, Question, input -- first present), plus generated strings that stress the pre-tokenizer and the
byte-level BPE: mixed scripts, emoji with ZWJ, combining marks, digit runs, code, LaTeX, whitespace runs, special
tokens. For each string and each tokenizer: encode(s, add_special_tokens=False).ids, the ids with the
post-processor (add_special_tokens=True), and decode(ids) (the raw tokenizers decode, no clean-up).

Writes tests/src/test/resources/tokenizer/reference.jsonl.gz, one JSON object per string:
  {"text": s, "qwen": {"ids": [...], "ids_special": [...], "decoded": "..."}, "llama": {...}}
and gzipped copies of the two tokenizer.json files (and Llama's tokenizer_config.json) into
cli/src/main/resources/dev/rast/synth, where `rast synth` and the tests take them from.

Run: .oracle/bin/python scripts/oracle/make_tokenizer_reference.py
"""
import gzip
import json
import pathlib
import random

from tokenizers import Tokenizer

ROOT = pathlib.Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared"
OUT = ROOT / "tests/src/test/resources/tokenizer"
TOKENIZERS = {"qwen": SHARED / "tokenizers/qwen3", "llama": SHARED / "tokenizers/llama3.1"}
DATASETS = ["math500", "gsm8k", "aime24", "amc23", "minerva_math", "olympiadbench"]


def dataset_questions():
    out = []
    for name in DATASETS:
        for line in (SHARED / "datasets" / name / "test.jsonl").read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            for field in ("question", "problem", "Question", "input"):
                if field in row:
                    out.append(row[field])
                    break
    return out


PIECES = [
    # scripts
    "漢字とかなの混じった文", "中文分词测试，包括标点。", "한국어 문장입니다", "مرحبا بالعالم", "नमस्ते दुनिया",
    "Ελληνικά κείμενα", "Русский текст", "עברית", "ภาษาไทย", "ქართული",
    # emoji, ZWJ sequences, flags, skin tones, variation selectors
    "👩‍👩‍👧‍👦", "👍🏽", "🇯🇵🇫🇷", "❤️", "🧑‍💻 coding", "😀😃😄",
    # combining marks and normalization (NFC composes some of these)
    "e\u0301", "cafe\u0301", "A\u030a", "n\u0303o", "\u1e9b\u0323", "Å", "ﬁ ligature", "ｆｕｌｌｗｉｄｔｈ",
    # digits
    "1234567890", "3.14159265358979", "1,000,000", "007", "٣٤٥", "१२३", "½ ¼ ²³", "10^{-3}", "x1y22z333",
    # code
    "def f(x):\n    return x**2\n", "for (int i = 0; i < n; i++) {\n\tsum += a[i];\n}", "if a != b && c >= d:",
    "print('hello')  # comment", "<div class=\"x\">&amp;</div>", "SELECT * FROM t WHERE id=42;",
    # LaTeX
    "\\frac{1}{2}", "$\\sqrt{x^2+y^2}$", "\\boxed{\\dfrac{\\pi}{4}}", "\\begin{pmatrix} 1 & 2 \\\\ 3 & 4 \\end{pmatrix}",
    "\\int_0^\\infty e^{-x^2}\\,dx", "$$a_{n+1} = a_n + d$$", "\\left( \\frac{a}{b} \\right)",
    # whitespace runs
    "   ", "\t\t", "\r\n", "\n\n\n", "a  b", "a   b", " \u00a0 ", "\u3000", "\u2003\u2009", "x \n y", "  \n  ",
    "trailing   ", "\t tab then space", "line1\r\nline2\r\n", "\u0085", "\u2028\u2029", "\u000b\u000c",
    # contractions and cases
    "I'm here", "you're", "WE'LL", "it's", "DON'T", "she'd've", "'s", "o'clock", "rock'n'roll", "a'Ve", "X'rE", "it'ſ", "'LL'll'Ll",
    # special-token strings (matched before BPE) and near misses
    "<|im_start|>", "<|im_end|>", "<|endoftext|>", "<think>", "</think>", "<tool_call>", "<|im_start",
    "<|begin_of_text|>", "<|eot_id|>", "<|start_header_id|>user<|end_header_id|>", "<|reserved_special_token_5|>",
    "<|im_start|>user\nhi<|im_end|>", "<<|im_end|>>", "<|fim_prefix|>code",
    # misc punctuation
    "...", "!!!", "?!", "--", "—", "«quotes»", "“smart”", "a/b", "@user #tag", "100%", "$5.00", "~^_",
]


def generated(rng, count):
    out = list(PIECES)
    seps = ["", " ", "  ", "\n", "\t", "\r\n", " \n", "\u00a0", "\u3000", ", ", ". "]
    while len(out) < count:
        k = rng.randint(2, 7)
        s = ""
        for _ in range(k):
            s += rng.choice(PIECES) + rng.choice(seps)
        if rng.random() < 0.3:
            s = s.strip()
        out.append(s)
    # random code points from assorted blocks, including unassigned-looking ones and surrogate-free astral chars
    blocks = [(0x20, 0x7e), (0xa0, 0x24f), (0x370, 0x3ff), (0x400, 0x4ff), (0x590, 0x6ff), (0x900, 0x97f),
              (0x3040, 0x30ff), (0x4e00, 0x4fff), (0xac00, 0xacff), (0x1f300, 0x1f64f), (0x2000, 0x206f)]
    for _ in range(150):
        s = ""
        for _ in range(rng.randint(1, 20)):
            lo, hi = rng.choice(blocks)
            s += chr(rng.randint(lo, hi))
        out.append(s)
    return out


def main():
    rng = random.Random(20261126)
    texts = dataset_questions()
    texts += generated(rng, 650)
    toks = {k: Tokenizer.from_file(str(v / "tokenizer.json")) for k, v in TOKENIZERS.items()}
    OUT.mkdir(parents=True, exist_ok=True)
    with gzip.open(OUT / "reference.jsonl.gz", "wt", encoding="utf-8") as f:
        for s in texts:
            row = {"text": s}
            for k, t in toks.items():
                ids = t.encode(s, add_special_tokens=False).ids
                row[k] = {
                    "ids": ids,
                    "ids_special": t.encode(s, add_special_tokens=True).ids,
                    "decoded": t.decode(ids, skip_special_tokens=False),
                }
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
    synth = ROOT / "cli/src/main/resources/dev/rast/synth"
    for k, v in TOKENIZERS.items():
        # Qwen's tokenizer_config.json there is Qwen2.5's (ChatML template), from text/src/test/resources/chat.
        for name in ("tokenizer.json",) if k == "qwen" else ("tokenizer.json", "tokenizer_config.json"):
            with open(synth / f"{k}-{name}.gz", "wb") as raw:
                with gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as g:
                    g.write((v / name).read_bytes())
    print(f"{len(texts)} strings written to {OUT}")


if __name__ == "__main__":
    main()
