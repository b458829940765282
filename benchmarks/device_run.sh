#!/usr/bin/env bash
# The GPU benchmark on the device machine, in one call. Prepare here first:
#
#   python benchmarks/device_kit.py
#
# then, with the device tool:
#
#   run(command="bash benchmarks/device_run.sh", carry=[".device"], timeout_s=600)
#
# It unpacks the carried packages beside the image's own, checks in a few seconds that peftspec's
# training path imports and sees the GPU (and stops there if not, so a broken kit costs seconds,
# not the lease), runs the tests marked `gpu`, then benchmarks/gpu.py on the carried SemEval data. The JSON (rewritten
# after every arm) and the log come back in $OUT. Arguments go to gpu.py (e.g. --only qwen_qlora).
set -uo pipefail
cd "$(dirname "$0")/.."
out="${OUT:-/tmp/peftspec-out}"
mkdir -p "$out"
if [ ! -f .device/site.tar.xz ]; then
    echo "no .device/site.tar.xz: run python benchmarks/device_kit.py here and carry .device" >&2
    exit 2
fi
site="${TMPDIR:-/tmp}/peftspec-site"
rm -rf "$site" && mkdir -p "$site"
tar -xJf .device/site.tar.xz -C "$site" || exit 2
export PYTHONPATH="$site:$PWD" PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=false
python3 - <<'EOF' 2>&1 | tee "$out/preflight.txt"
import importlib, json, sys

import torch

versions = {"python": sys.version.split()[0], "torch": torch.__version__, "cuda": torch.version.cuda}
for name in ("transformers", "peft", "accelerate", "bitsandbytes", "datasets", "polars", "pydantic"):
    versions[name] = importlib.import_module(name).__version__
versions["gpu"] = torch.cuda.get_device_name() if torch.cuda.is_available() else None
import peftspec.build.compiled, peftspec.train.session  # noqa: E401,F401  the training path imports
print(json.dumps(versions))
EOF
[ "${PIPESTATUS[0]}" -eq 0 ] || exit 3
cp .device/manifest.json "$out/" 2>/dev/null
# Liger's tests with the real liger-kernel (its numerics need the GPU), in seconds; their result
# does not stop the benchmark
timeout 180 python3 -m pytest -q -p no:cacheprovider -o addopts="" tests/test_liger.py \
    > "$out/gpu-tests.txt" 2>&1
tail -1 "$out/gpu-tests.txt"
timeout "${WALL_S:-520}" python3 benchmarks/gpu.py --data .device/data/semeval2018_ec -o "$out/gpu-h200.json" "$@" \
    2>&1 | tee "$out/gpu-h200.log"
exit "${PIPESTATUS[0]}"
