#!/usr/bin/env bash
# Rebuilds the pocket RAST lab (docs/lab.md) from nothing, on the CPU: the task data and tokenizer, M and B
# pretrained, E = RL(B) and M_RL = RL(M), exported as BF16 into the cli jar's resources (what `rast demo` runs),
# the training plots under docs/lab/, and the Hugging Face fidelity fixture LabReferenceTest checks them against.
# Seeded: a rerun on the same torch version and CPU gives the same checkpoints.
#
#   scripts/lab/build.sh            # about 75 minutes on 2 cores shared with other jobs
#   PYTHON=/path/to/python LAB_WORK=/tmp/lab scripts/lab/build.sh   # another venv; keep (and reuse) the F32 stages
set -euo pipefail
cd "$(dirname "$0")/../.."
PY="${PYTHON:-.oracle/bin/python}"
# A fresh work folder unless one is named: train.py reuses any stage it finds there.
WORK="${LAB_WORK:-$(mktemp -d)}"
OUT=cli/src/main/resources/dev/rast/cli/lab
"$PY" scripts/lab/train.py "$OUT" "$WORK"
"$PY" scripts/lab/plot.py "$WORK/log.json" docs/lab
"$PY" scripts/lab/make_lab_reference.py "$OUT" tests/src/test/resources/reference/lab/expected.json
echo "lab rebuilt: $OUT (work files in $WORK)"
