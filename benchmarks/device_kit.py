"""Prepare `.device/` so that `benchmarks/gpu.py` runs on the device machine in its first call.

The device machine (the library's `device` tool, kind nvidia-h200) runs our code under its image's
`python3` (3.12, torch with CUDA 13, transformers, peft, accelerate, numpy, pandas, pyarrow,
scikit-learn ...), reaches no package registry, and takes the working tree plus at most 64 MiB of
carried paths. Its image lacks pydantic, polars, datasets and bitsandbytes. This script, run here:

1. downloads the wheels of `CARRY` for the image's Python, at the versions installed in the
   environment running it (the ones CI tests), and unpacks them into one folder;
2. keeps only the bitsandbytes libraries for the image's CUDA major version (the wheel holds one
   per CUDA and ROCm release: 129 MB unpacked) and packs the folder as `.device/site.tar.xz`;
3. copies the SemEval-2018 E-c files into `.device/data/` (the shared copy beside the checkout
   does not travel);
4. writes `.device/manifest.json` and checks that the working tree plus `.device/` fits.

    python benchmarks/device_kit.py                 # for the H200 image: Python 3.12, CUDA 13

then, with the device tool: run(command="bash benchmarks/device_run.sh", carry=[".device"],
timeout_s=600). `.device/` is git-ignored.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

from gpu_workspace import SEMEVAL, SEMEVAL_FILES  # noqa: E402

CARRY = {
    # not in the device image
    "pydantic": "peftspec.spec",
    "pydantic-core": "pydantic",
    "annotated-types": "pydantic",
    "typing-inspection": "pydantic",
    "typing-extensions": "pydantic (a newer one than torch needs)",
    "polars": "data loading",
    "polars-runtime-32": "polars",
    "datasets": "tokenized splits for the Trainer",
    "dill": "datasets",
    "multiprocess": "datasets",
    "bitsandbytes": "QLoRA's 4-bit weights",
    # in the image at other versions: carried at the versions CI tests
    "transformers": "the models and the Trainer",
    "peft": "the adapters",
    "accelerate": "the Trainer",
    # optional: the benchmark's liger arm (Triton is in the image); the newest when not installed here
    "liger-kernel": "trainer.liger_kernels",
}
"""What the device run needs beyond the image, and why."""
OPTIONAL = {"liger-kernel"}
"""Carried at the newest release when not installed here (it needs a CUDA GPU to be of use)."""
PLATFORMS = ["manylinux2014_x86_64", "manylinux_2_24_x86_64", "manylinux_2_28_x86_64", "any"]
TARGET = [option for platform in PLATFORMS for option in ("--platform", platform)]
"""pip's options for wheels that run on the device machine (with --python-version)."""
LIMIT = 64 * 2**20
"""The device tool's limit on the working tree plus carried paths."""


def pip(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "pip", *args], check=True, stdout=subprocess.DEVNULL)


def wheels(folder: Path, python: str) -> dict[str, str]:
    """Download `CARRY`'s wheels at the installed versions; {name: version}."""
    wanted = []
    for name in CARRY:
        try:
            wanted.append(f"{name}=={version(name)}")
        except PackageNotFoundError:
            if name not in OPTIONAL:
                raise SystemExit(f"{name} is not installed here: run this in the project's venv") from None
            wanted.append(name)
    pip(
        "download", "--quiet", "--no-deps", "--only-binary=:all:", "--python-version", python,
        *TARGET, "--dest", str(folder), *wanted,
    )  # fmt: skip
    found = (w.name.split("-")[:2] for w in folder.glob("*.whl"))
    return {name.replace("_", "-").lower(): release for name, release in found}


def unpack(wheel_folder: Path, site: Path, python: str, cuda: str) -> None:
    """Install the wheels into `site` as the image's Python would see them, minus what cannot run
    there: other CUDA and ROCm builds of bitsandbytes, scripts and bytecode."""
    pip(
        "install", "--quiet", "--no-deps", "--no-index", "--only-binary=:all:", "--python-version", python,
        *TARGET, "--target", str(site), *map(str, sorted(wheel_folder.glob("*.whl"))),
    )  # fmt: skip
    for lib in (site / "bitsandbytes").glob("libbitsandbytes_*.so"):
        keep = lib.name == "libbitsandbytes_cpu.so" or lib.name.startswith(f"libbitsandbytes_cuda{cuda}")
        if not keep:
            lib.unlink()
    shutil.rmtree(site / "bin", ignore_errors=True)
    for cache in list(site.rglob("__pycache__")):
        shutil.rmtree(cache)


def tree_bytes() -> int:
    """The size of what the device tool sends besides carried paths: tracked files and untracked
    ones git does not ignore."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT, check=True, capture_output=True,
    ).stdout.decode().split("\0")  # fmt: skip
    return sum((ROOT / p).stat().st_size for p in listed if p and (ROOT / p).is_file())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--python", default="3.12", help="the device image's Python (default: 3.12)")
    parser.add_argument("--cuda", default="13", help="the image's CUDA major version (default: 13)")
    parser.add_argument("--data", type=Path, default=SEMEVAL, help="SemEval-2018 E-c's folder")
    parser.add_argument("--out", type=Path, default=ROOT / ".device", help="the kit's folder")
    args = parser.parse_args()
    missing = [n for n in SEMEVAL_FILES if not (args.data / n).is_file()]
    if missing:
        raise SystemExit(f"--data {args.data}: no {', '.join(missing)} there")
    started = time.perf_counter()
    shutil.rmtree(args.out, ignore_errors=True)
    (args.out / "data").mkdir(parents=True)
    with tempfile.TemporaryDirectory() as tmp:
        print(f"downloading {len(CARRY)} wheels for Python {args.python} ...", flush=True)
        pins = wheels(Path(tmp) / "wheels", args.python)
        site = Path(tmp) / "site"
        unpack(Path(tmp) / "wheels", site, args.python, args.cuda)
        print("packing (xz, about a minute and a half) ...", flush=True)
        with tarfile.open(args.out / "site.tar.xz", "w:xz") as tar:
            for path in sorted(site.iterdir()):
                tar.add(path, arcname=path.name)
    shutil.copytree(args.data, args.out / "data" / "semeval2018_ec")
    kit = sum(p.stat().st_size for p in args.out.rglob("*") if p.is_file())
    tree = tree_bytes()
    manifest = {
        "python": args.python,
        "cuda": args.cuda,
        "packages": pins,
        "why": CARRY,
        "kit_bytes": kit,
        "tree_bytes": tree,
        "built": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    (args.out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    total = kit + tree
    print(
        f"{args.out}: {kit / 2**20:.1f} MiB, working tree {tree / 2**20:.1f} MiB, together "
        f"{total / 2**20:.1f} of the device tool's {LIMIT / 2**20:.0f} MiB "
        f"({time.perf_counter() - started:.0f} s)"
    )
    if total > LIMIT:
        raise SystemExit("too large to travel: the device tool would refuse the call")
    call = 'run(command="bash benchmarks/device_run.sh", carry=[".device"], timeout_s=600)'
    print(f"next, with the device tool: {call}")


if __name__ == "__main__":
    main()
