#!/usr/bin/env bash
# rast against llama.cpp on the same model shapes, in one run, alternating: BF16, Q8_0 and Q4_0 weights.
#
#   scripts/bench/llama-cpp.sh MODEL_DIR [WORK_DIR]
#
# MODEL_DIR: a BF16 safetensors model folder with its tokenizer (e.g. `rast synth --arch qwen2.5-0.5b --dtype bf16
# --out /tmp/q05`). WORK_DIR (default /tmp/rast-llama-cpp) keeps llama.cpp's source, build and GGUF files between runs.
#
# llama.cpp's source comes from the node-llama-cpp npm package, which ships a git bundle of the llama.cpp release it
# binds (`npm pack node-llama-cpp`; package/llama/gitRelease.bundle, tag in package/llama/llama.cpp.info.json). It is
# built with cmake (CPU only, -march=native), the model converted with llama.cpp's convert_hf_to_gguf.py (BF16) and
# quantized with llama-quantize (Q8_0, Q4_0; llama.cpp's own quantizers, whose rules rast's --dtype q8_0 / q4_0
# follow; Q4_0 twice: llama-quantize's default keeps the token embedding at Q8_0, see below), then llama-bench and `rast bench` run in turns with the same threads, prompt and decoded tokens.
#
# Needs: npm, git, cmake, a C++ compiler, and a Python with numpy, torch and transformers for the converter (PYTHON,
# default .oracle/bin/python). Never part of the build or CI.
#
# Environment: RAST (default bin/rast), PYTHON, THREADS (2), PROMPT (128), GEN (64), ROUNDS (2), DTYPES ("bf16 q8_0 q4_0"),
# RUNS (3): timed passes per tool and round, each reporting its mean (llama-bench -r) or median (rast bench --runs,
# after its warm-up pass); one pass right after the warm-up still holds part of the JIT's compilation of the kernels.
set -euo pipefail

MODEL=$(cd "$1" && pwd)
WORK=${2:-/tmp/rast-llama-cpp}
RAST=${RAST:-bin/rast}
PYTHON=${PYTHON:-.oracle/bin/python}
THREADS=${THREADS:-2}
PROMPT=${PROMPT:-128}
GEN=${GEN:-64}
ROUNDS=${ROUNDS:-2}
RUNS=${RUNS:-3}
DTYPES=${DTYPES:-bf16 q8_0 q4_0}
mkdir -p "$WORK"

# 1. llama.cpp's source, from the npm package's git bundle.
if [ ! -d "$WORK/llama.cpp" ]; then
    (cd "$WORK" && npm pack node-llama-cpp >/dev/null && tar xzf node-llama-cpp-*.tgz package/llama)
    git clone -q "$WORK/package/llama/gitRelease.bundle" "$WORK/llama.cpp"
fi
echo "llama.cpp $(grep -o '"tag": *"[^"]*"' "$WORK/package/llama/llama.cpp.info.json" | cut -d'"' -f4) ($(git -C "$WORK/llama.cpp" rev-parse --short HEAD))"

# 2. Built once: CPU only, tuned for this machine.
if [ ! -x "$WORK/llama.cpp/build/bin/llama-bench" ]; then
    cmake -S "$WORK/llama.cpp" -B "$WORK/llama.cpp/build" -DCMAKE_BUILD_TYPE=Release -DGGML_NATIVE=ON \
        -DLLAMA_CURL=OFF -DGGML_CUDA=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF >/dev/null
    cmake --build "$WORK/llama.cpp/build" -j "$(nproc)" --target llama-bench llama-quantize >/dev/null
fi

# 3. The model as GGUF: BF16 converted, Q8_0 and Q4_0 quantized from it by llama.cpp.
NAME=$(basename "$MODEL")
GGUF="$WORK/$NAME"
if [ ! -f "$GGUF-bf16.gguf" ]; then
    # gguf-py imports sentencepiece whatever the model; Qwen2's converter then looks for a tokenizer.model, finds
    # none, and uses tokenizer.json (BPE), the right vocabulary here. Without the package, a stand-in module lets the
    # import pass; its class is never constructed.
    STUB="$WORK/no-sentencepiece"
    if ! "$PYTHON" -c "import sentencepiece" 2>/dev/null; then
        mkdir -p "$STUB"
        printf 'class SentencePieceProcessor:\n    def __init__(self, *a, **k):\n        raise RuntimeError("sentencepiece is not installed")\n' > "$STUB/sentencepiece.py"
    fi
    PYTHONPATH="$STUB${PYTHONPATH:+:$PYTHONPATH}" "$PYTHON" "$WORK/llama.cpp/convert_hf_to_gguf.py" "$MODEL" \
        --outtype bf16 --outfile "$GGUF-bf16.gguf" >/dev/null 2>&1
fi
for q in q8_0 q4_0; do
    [ -f "$GGUF-$q.gguf" ] || "$WORK/llama.cpp/build/bin/llama-quantize" "$GGUF-bf16.gguf" "$GGUF-$q.gguf" "${q^^}" "$THREADS" >/dev/null 2>&1
done
# llama-quantize's Q4_0 keeps the token embedding at Q8_0, and with tied embeddings (Qwen2.5 0.5B-3B) that matrix is
# also the LM head: its decode reads ~24% more bytes than rast's all-Q4_0 weights. A second Q4_0 file with the
# embedding in Q4_0 too reads rast's bytes; both are measured.
[ -f "$GGUF-q4_0-embq4.gguf" ] || "$WORK/llama.cpp/build/bin/llama-quantize" --token-embedding-type q4_0 \
    "$GGUF-bf16.gguf" "$GGUF-q4_0-embq4.gguf" Q4_0 "$THREADS" >/dev/null 2>&1

# 4. Alternating runs: llama-bench then rast bench, dtype by dtype, ROUNDS times.
for round in $(seq "$ROUNDS"); do
    for d in $DTYPES; do
        echo "== round $round, $d, $(date -u +%H:%M:%S), load $(cut -d' ' -f1 /proc/loadavg)"
        "$WORK/llama.cpp/build/bin/llama-bench" -m "$GGUF-$d.gguf" -t "$THREADS" -p "$PROMPT" -n "$GEN" -r "$RUNS" -o md 2>/dev/null \
            | grep -E "pp$PROMPT|tg$GEN" | sed 's/^/llama.cpp /'
        [ "$d" != q4_0 ] || "$WORK/llama.cpp/build/bin/llama-bench" -m "$GGUF-q4_0-embq4.gguf" -t "$THREADS" -p "$PROMPT" -n "$GEN" -r "$RUNS" -o md 2>/dev/null \
            | grep -E "pp$PROMPT|tg$GEN" | sed 's/^/llama.cpp (token embedding Q4_0: rast'"'"'s bytes) /'
        $RAST bench --model "$MODEL" --dtype "$d" --threads "$THREADS" --prompt-len "$PROMPT" --gen "$GEN" --runs "$RUNS" 2>/dev/null \
            | grep -E "^(model|limits|prefill|decode)" | sed 's/^/rast      /'
    done
done
