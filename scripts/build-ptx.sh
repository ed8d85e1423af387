#!/usr/bin/env bash
# Compiles rast's CUDA kernels (kernels/src/main/cuda) to the PTX module the CUDA backend loads at run time
# (kernels/src/main/resources/dev/rast/kernels/cuda/rast_kernels.ptx, committed, so that builds need no nvcc),
# then checks with ptxas that it assembles for A100 (sm_80) and H100 (sm_90).
#
#   scripts/build-ptx.sh                 # nvcc from $NVCC, else the oldest nvcc found (PATH, /usr/bin, /usr/local/cuda*)
#   NVCC=/usr/bin/nvcc scripts/build-ptx.sh
#   ./mvnw -Pptx generate-resources      # the same from Maven (profile "ptx")
#
# The target is the virtual architecture compute_80: the driver JIT-compiles it for the GPU it finds (Ampere,
# Ada, Hopper, Blackwell). The driver must know the module's PTX ISA version, so the file declares ISA 7.8 (any
# driver since R520, CUDA 11.8) whichever nvcc made it, and ptxas checks that the code needs nothing newer.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
src=$root/kernels/src/main/cuda
out=$root/kernels/src/main/resources/dev/rast/kernels/cuda/rast_kernels.ptx
arch=${PTX_ARCH:-compute_80}

# Without NVCC, the oldest nvcc found: its PTX loads on the most drivers (CudaHostTest insists on ISA <= 7.8).
release() { "$1" --version 2>/dev/null | sed -n 's/.*release \([0-9]*\)\.\([0-9]*\).*/\1 \2/p' | awk '{print $1 * 100 + $2}'; }
nvcc=${NVCC:-}
if [ -z "$nvcc" ]; then
  best=
  for c in $(command -v nvcc || true) /usr/bin/nvcc /usr/local/cuda/bin/nvcc /usr/local/cuda-*/bin/nvcc; do
    [ -x "$c" ] || continue
    r=$(release "$c")
    [ -n "$r" ] || continue
    if [ -z "$best" ] || [ "$r" -lt "$best" ]; then best=$r; nvcc=$c; fi
  done
fi
if [ -z "$nvcc" ] || ! [ -x "$(command -v "$nvcc")" ]; then
  echo "build-ptx: nvcc not found (set NVCC=/path/to/nvcc); the committed PTX is unchanged" >&2
  exit 1
fi
ptxas=$(dirname "$(readlink -f "$(command -v "$nvcc")")")/ptxas
[ -x "$ptxas" ] || ptxas=$(command -v ptxas || true)

"$nvcc" --version | tail -n 2 | head -n 1
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
# -std=c++14: the kernels need nothing newer, and every supported nvcc accepts it.
"$nvcc" -std=c++14 -arch="$arch" --ptx -o "$tmp" "$src/rast_kernels.cu"
# nvcc writes its build id and the input file name into the header comment; keep only what is reproducible.
# The module declares PTX ISA $isa (default 7.8, CUDA 11.8's) whatever nvcc wrote: a newer nvcc stamps its own
# ISA (CUDA 13: 9.0, which R5xx drivers before R580 refuse) on code that needs nothing newer. The claim is checked:
# ptxas refuses any instruction or directive the declared ISA does not have ("Feature ... requires PTX ISA .version
# X or later"), and the assembly below runs on the file as written.
isa=${PTX_ISA:-7.8}
grep -v -e '^// Compiler Build ID' -e '^// Based on NVVM' "$tmp" | sed "s/^\.version [0-9.]*\$/.version $isa/" > "$out"
echo "wrote $out ($(wc -c < "$out") bytes, $(grep -c '^\.visible \.entry' "$out") kernels, $(grep -m1 '^\.version' "$out"))"

if [ -n "$ptxas" ]; then
  for sm in sm_80 sm_90; do
    "$ptxas" -arch=$sm "$out" -o /dev/null
    echo "ptxas -arch=$sm: ok"
  done
else
  echo "build-ptx: ptxas not found; assembled nothing" >&2
fi
