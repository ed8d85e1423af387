#!/usr/bin/env python3
"""rast's Hub client against the official one (huggingface_hub), through one fake Hub, in both directions.

  1. huggingface_hub downloads a model from rast's fake Hub (FakeHubMain, the server of the hub tests) into cache A;
     rast, offline (HF_HUB_OFFLINE=1), finds the same snapshot in A, its files intact, and generates from it.
  2. rast downloads the model from the same server into cache B; huggingface_hub, offline, finds the same snapshot in
     B (snapshot_download, hf_hub_download, try_to_load_from_cache), its files intact, and scan_cache_dir reads B
     without a warning.

Needs huggingface_hub (not a dependency of rast, nor of CI):
    python3 -m venv /tmp/hubvenv && /tmp/hubvenv/bin/pip install huggingface_hub
    /tmp/hubvenv/bin/python scripts/hub-check.py
It builds rast first unless --no-build (jars, and the hub module's test classes, which hold FakeHubMain).
Prints one line per check and 'N passed, N failed'; exits non-zero on a failure.
"""
import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REPO = "test-org/tiny-qwen"
# What rast downloads by default of this repository (it has no generation_config.json).
ENGINE_FILES = ["config.json", "tokenizer.json", "tokenizer_config.json", "model.safetensors"]


def java():
    home = os.environ.get("JAVA_HOME") or next(iter(sorted(Path("/usr/lib/jvm").glob("temurin-25*"))), None)
    if home is None:
        sys.exit("hub-check: set JAVA_HOME to a JDK 25")
    return str(Path(home) / "bin" / "java")


def classpath():
    lib = ROOT / "cli" / "target" / "lib"
    return f"{ROOT / 'hub' / 'target' / 'test-classes'}:{lib}/*:{next(iter((ROOT / 'cli' / 'target').glob('rast-cli-*.jar')))}"


def rast(args, env):
    cmd = [java(), "--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", "-cp", classpath(), "dev.rast.cli.Main", *args]
    return subprocess.run(cmd, env=env, capture_output=True, text=True)


def sha256(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def python_step(step, env, *args):
    """Runs one huggingface_hub step in a fresh interpreter: it reads HF_* variables once, when imported."""
    r = subprocess.run([sys.executable, __file__, "--step", step, *args], env=env, capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"huggingface_hub step {step} failed:\n{r.stderr}")
    return json.loads(r.stdout.strip().splitlines()[-1])


def step(name, args):
    """The huggingface_hub side, in its own process; prints one JSON line."""
    import huggingface_hub as hh
    if name == "download":
        print(json.dumps({"path": hh.snapshot_download(REPO), "version": hh.__version__}))
    elif name == "read-offline":
        snap = hh.snapshot_download(REPO, allow_patterns=ENGINE_FILES)
        one = hh.hf_hub_download(REPO, "config.json")
        cached = hh.try_to_load_from_cache(REPO, "model.safetensors")
        info = hh.scan_cache_dir()
        repos = [{"id": r.repo_id, "refs": sorted(ref for rev in r.revisions for ref in rev.refs),
                  "files": sorted(f.file_name for rev in r.revisions for f in rev.files),
                  "commits": [rev.commit_hash for rev in r.revisions]} for r in info.repos]
        print(json.dumps({"path": snap, "config": one, "weights": cached, "warnings": [str(w) for w in info.warnings], "repos": repos}))
    else:
        raise SystemExit(f"unknown step {name}")


class Checks:
    def __init__(self):
        self.passed = self.failed = 0

    def check(self, ok, what, detail=""):
        print(f"{'ok  ' if ok else 'FAIL'} {what}" + ("" if ok or not detail else f": {detail}"), flush=True)
        if ok:
            self.passed += 1
        else:
            self.failed += 1


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--step")
    ap.add_argument("--no-build", action="store_true")
    a, rest = ap.parse_known_args()
    if a.step:
        return step(a.step, rest)
    import huggingface_hub  # fail early, with Python's own message, when it is not installed
    if not a.no_build:
        # -DskipTests still compiles the tests: hub/target/test-classes holds FakeHubMain.
        subprocess.run([str(ROOT / "mvnw"), "-o", "-q", "-B", "package", "-DskipTests"], cwd=ROOT, check=True)
    c = Checks()
    with tempfile.TemporaryDirectory(prefix="hub-check-") as tmp:
        tmp = Path(tmp)
        base_env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "HUGGING"))}
        base_env.update(HF_HOME=str(tmp / "hf-home"), HF_HUB_DISABLE_TELEMETRY="1", HF_HUB_DISABLE_XET="1",
                        HF_HUB_DISABLE_PROGRESS_BARS="1")
        model = tmp / "model"
        r = rast(["synth", "--arch", "tiny", "--dtype", "bf16", "--out", str(model)], base_env)
        if r.returncode != 0:
            sys.exit("hub-check: rast synth failed:\n" + r.stderr)
        source = {f: sha256(model / f) for f in ENGINE_FILES}
        server = subprocess.Popen([java(), "-cp", classpath(), "dev.rast.hub.FakeHubMain", "--repo", f"{REPO}={model}"],
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        try:
            endpoint = server.stdout.readline().strip().removeprefix("endpoint=")
            env = dict(base_env, HF_ENDPOINT=endpoint)
            print(f"fake Hub at {endpoint}; huggingface_hub {huggingface_hub.__version__}", flush=True)

            # 1. huggingface_hub writes, rast reads offline.
            cache_a = tmp / "cache-python"
            env_a = dict(env, HF_HUB_CACHE=str(cache_a))
            py = python_step("download", env_a)
            offline_a = dict(env_a, HF_HUB_OFFLINE="1")
            r = rast(["pull", REPO], offline_a)
            c.check(r.returncode == 0 and r.stdout.strip() == py["path"], "rast (offline) finds the snapshot huggingface_hub wrote",
                    f"rast: {r.stdout.strip()!r} {r.stderr.strip()!r}, python: {py['path']!r}")
            same = all(sha256(Path(py["path"]) / f) == h for f, h in source.items())
            c.check(same, "the files rast reads there are the server's, byte for byte")
            r = rast(["generate", "--model", REPO, "--prompt-tokens", "9707,11,1879", "--max-tokens", "4", "--json"], offline_a)
            c.check(r.returncode == 0 and '"tokens"' in r.stdout, "rast generate --model ORG/NAME, offline, from huggingface_hub's cache",
                    r.stderr.strip())
            r = rast(["tokenize", "--tokenizer", REPO], dict(offline_a))
            c.check(r.returncode == 0 and r.stdout.strip() == "[]", "rast tokenize --tokenizer ORG/NAME, offline", r.stderr.strip())

            # 2. rast writes, huggingface_hub reads offline.
            cache_b = tmp / "cache-rast"
            env_b = dict(env, HF_HUB_CACHE=str(cache_b))
            r = rast(["pull", REPO], env_b)
            rast_path = r.stdout.strip()
            c.check(r.returncode == 0 and rast_path == py["path"].replace(str(cache_a), str(cache_b)),
                    "rast pull names the snapshot folder huggingface_hub names (same commit)", r.stderr.strip())
            py_b = python_step("read-offline", dict(env_b, HF_HUB_OFFLINE="1"))
            c.check(py_b["path"] == rast_path, "huggingface_hub (offline) snapshot_download finds rast's snapshot", str(py_b["path"]))
            c.check(py_b["config"] == str(Path(rast_path) / "config.json"), "hf_hub_download (offline) finds rast's config.json", py_b["config"])
            c.check(py_b["weights"] == str(Path(rast_path) / "model.safetensors"), "try_to_load_from_cache finds rast's weights", str(py_b["weights"]))
            c.check(all(sha256(Path(rast_path) / f) == h for f, h in source.items()), "the files huggingface_hub reads there are the server's")
            repos = py_b["repos"]
            c.check(not py_b["warnings"] and len(repos) == 1 and repos[0]["id"] == REPO and repos[0]["refs"] == ["main"]
                    and repos[0]["files"] == sorted(ENGINE_FILES), "scan_cache_dir reads rast's cache: one repo, ref main, its files, no warning",
                    json.dumps(py_b))
            blobs = lambda cache: {p.name for p in (cache / "models--test-org--tiny-qwen" / "blobs").iterdir()}
            c.check(blobs(cache_b) <= blobs(cache_a), "rast names each blob as huggingface_hub does (SHA-256 or git blob id)",
                    f"{sorted(blobs(cache_b) - blobs(cache_a))}")
            c.check(not (Path(rast_path) / "pytorch_model.bin").exists() and (Path(py["path"]) / "pytorch_model.bin").exists(),
                    "rast left the pickled pytorch_model.bin that huggingface_hub downloaded")
        finally:
            server.stdin.close()
            server.wait(timeout=30)
    print(f"{c.passed} passed, {c.failed} failed")
    return 1 if c.failed else 0


if __name__ == "__main__":
    sys.exit(main())
