"""`python -m eval.llm_run`: the bot's optional LLM backend against a real local OpenAI-compatible server.

    python -m eval.llm_run [--limit N] [--gold eval/gold.jsonl] [--model PATH] [--server-python PY]
                           [--port N] [--corpus corpus] [--index index] [--out eval/reports/llm-run]

Starts `python -m llama_cpp.server --model <gguf> --host 127.0.0.1 --port <free port> --n_ctx 4096
--n_threads 2 --chat_format chatml` with the python of the LLM venv (--server-python, default
$BOT_LLM_SERVER_PYTHON or /work/llm-venv/bin/python; see scripts/llm_setup.py), waits for /v1/models,
then loads the bot with `Settings(llm_base_url="http://127.0.0.1:PORT/v1", ...)` in this process (the
two talk HTTP only) and asks it the single-turn questions of the gold set. Reports how many answers
went to the LLM, how many the guard and marker checks accepted (Answer.backend == "llm"), how many
were replaced by the extractive answer and why (the "extractive answer shown because ..." notes,
grouped), and the seconds per answer. Writes `<out>.md` and `<out>.json`. The server is always
stopped, on errors and on Ctrl-C too.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if __package__ in (None, ""):  # run as a script: make `bot` importable
    sys.path.insert(0, str(ROOT))

_CACHE = Path(os.environ.get("ARTICLE_BOT_CACHE") or Path.home() / ".cache" / "article-bot")
DEFAULT_MODEL = _CACHE / "models" / "qwen2.5-coder-0.5b-instruct.gguf"
DEFAULT_SERVER_PYTHON = os.environ.get("BOT_LLM_SERVER_PYTHON") or "/work/llm-venv/bin/python"
READY_TIMEOUT_S = 180.0
STOP_TIMEOUT_S = 15.0
FALLBACK_NOTE = "extractive answer shown because "
# The fallback notes of bot/core.py `_llm_answer`, by the words that tell them apart.
REASONS = (
    ("the LLM backend failed", "LLM failed"),
    ("the LLM found no answer", "no answer found"),
    ("citations did not check out", "citations did not check out"),
    ("figures the article does not support", "figures not supported"),
)


# -- the server --------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class LlamaServer:
    """A running `llama_cpp.server`: its process, base URL (ending in /v1), served model id and log file."""

    process: subprocess.Popen
    base_url: str
    model_id: str
    log_path: Path
    startup_s: float

    def log_tail(self, n: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return ""


def server_command(python: str, model: Path, port: int, n_ctx: int = 4096, n_threads: int = 2) -> list[str]:
    return [python, "-m", "llama_cpp.server", "--model", str(model), "--host", "127.0.0.1", "--port", str(port),
            "--n_ctx", str(n_ctx), "--n_threads", str(n_threads), "--chat_format", "chatml"]


def _get_json(url: str, timeout: float = 5.0) -> Any:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback: never through a proxy
    with opener.open(url, timeout=timeout) as r:
        return json.loads(r.read().decode("utf-8"))


def stop_server(process: subprocess.Popen) -> None:
    """SIGTERM to the server's own process group (it was started in a new session), SIGKILL if it lingers."""
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        process.wait(STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(STOP_TIMEOUT_S)


@contextlib.contextmanager
def llama_server(python: str = DEFAULT_SERVER_PYTHON, model: Path = DEFAULT_MODEL, port: int | None = None,
                 n_ctx: int = 4096, n_threads: int = 2, ready_timeout: float = READY_TIMEOUT_S) -> Iterator[LlamaServer]:
    """Start the server, wait until /v1/models answers, yield it, and always stop it."""
    model = Path(model)
    if not model.is_file():
        raise FileNotFoundError(f"no model file at {model}: run `python scripts/llm_setup.py --models 0.5b`")
    if not Path(python).exists():
        raise FileNotFoundError(f"no python at {python}: run `python scripts/llm_setup.py --venv /work/llm-venv` or pass --server-python")
    port = port or free_port()
    log_fd, log_name = tempfile.mkstemp(prefix="llama-server-", suffix=".log")
    log_path = Path(log_name)
    env = dict(os.environ, NO_PROXY="127.0.0.1,localhost", no_proxy="127.0.0.1,localhost")
    t0 = time.monotonic()
    process = subprocess.Popen(server_command(python, model, port, n_ctx, n_threads), stdout=log_fd, stderr=subprocess.STDOUT,
                               stdin=subprocess.DEVNULL, env=env, start_new_session=True)
    os.close(log_fd)
    try:
        base = f"http://127.0.0.1:{port}/v1"
        model_id = None
        while time.monotonic() - t0 < ready_timeout:
            if process.poll() is not None:
                tail = "\n".join(log_path.read_text(errors="replace").splitlines()[-30:])
                raise RuntimeError(f"llama_cpp.server exited with {process.returncode} before it was ready:\n{tail}")
            try:
                data = _get_json(base + "/models", timeout=2.0)
                model_id = data["data"][0]["id"]
                break
            except (urllib.error.URLError, ConnectionError, OSError, ValueError, KeyError, IndexError):
                time.sleep(0.5)
        if model_id is None:
            raise TimeoutError(f"llama_cpp.server did not answer {base}/models within {ready_timeout:.0f} s (log: {log_path})")
        yield LlamaServer(process, base, model_id, log_path, time.monotonic() - t0)
    finally:
        stop_server(process)


def load_bot(base_url: str, model_id: str, corpus: str | Path = ROOT / "corpus", index: str | Path = ROOT / "index", timeout: float = 120.0):  # noqa: ANN201 - bot.Bot
    from bot import Bot, Settings

    settings = Settings(llm_base_url=base_url, llm_model=model_id, llm_api_key="none", llm_timeout=timeout)
    return Bot.load(corpus, index, settings)


# -- classifying answers -----------------------------------------------------------------------------


def fallback_reason(notes: list[str]) -> str | None:
    """The grouped reason of an "extractive answer shown because ..." note, or None when there is none."""
    for note in notes:
        if note.startswith(FALLBACK_NOTE):
            for needle, reason in REASONS:
                if needle in note:
                    return reason
            return "other"
    return None


def outcome(answer: Any) -> str:
    """'accepted' (the LLM's answer, checked), 'replaced' (sent to the LLM, extractive shown) or 'not sent'."""
    if answer.backend == "llm":
        return "accepted"
    if fallback_reason(answer.notes) is not None:
        return "replaced"
    return "not sent"


def single_turn(gold: Path, limit: int | None) -> list[dict]:
    rows = [json.loads(line) for line in gold.read_text(encoding="utf-8").splitlines() if line.strip()]
    rows = [r for r in rows if "user_input" in r and "turns" not in r]
    return rows[:limit] if limit else rows


def ask(bot: Any, question: str) -> Any:
    """`bot.ask`, then a garbage collection at a safe point.

    When the bot abandons an LLM answer stream part-way (a sentence fails the checks and the
    extractive answer is shown), the openai stream generator is left unclosed in a reference cycle.
    If the cyclic GC happens to finalize it later *inside* httpcore's connection-pool lock (during
    the next request), closing it waits on that same non-reentrant lock and the process hangs for
    good (seen here: a 492 s hang, broken only by Ctrl-C). Collecting right after each answer
    finalizes such generators while no lock is held.
    """
    try:
        return bot.ask(question)
    finally:
        gc.collect()


def run(bot: Any, records: list[dict], progress: bool = True) -> list[dict]:
    out = []
    for i, r in enumerate(records, start=1):
        t0 = time.perf_counter()
        a = ask(bot, r["user_input"])
        dt = time.perf_counter() - t0
        kind = outcome(a)
        note = next((n for n in a.notes if n.startswith(FALLBACK_NOTE)), "")
        out.append({
            "id": r.get("id"), "category": r.get("category"), "question": r["user_input"], "outcome": kind,
            "reason": fallback_reason(a.notes), "note": note, "backend": a.backend, "answerable": a.answerable,
            "seconds": round(dt, 3), "text": a.text, "figures": [[f.text, f.status] for f in a.figures],
            "citations": [[c.start, c.end] for c in a.citations],
        })
        if progress:
            print(f"[{i}/{len(records)}] {dt:5.1f} s {kind:9s} {(fallback_reason(a.notes) or ''):28s} {r['user_input'][:70]}", flush=True)
    return out


def _stats(xs: list[float]) -> dict[str, float | None]:
    if not xs:
        return {"n": 0, "mean": None, "p50": None, "p95": None, "max": None}
    s = sorted(xs)
    return {"n": len(s), "mean": round(statistics.fmean(s), 2), "p50": round(statistics.median(s), 2),
            "p95": round(s[min(len(s) - 1, int(0.95 * len(s)))], 2), "max": round(s[-1], 2)}


def summarize(results: list[dict], meta: dict) -> dict:
    kinds = Counter(r["outcome"] for r in results)
    sent = kinds["accepted"] + kinds["replaced"]
    return {
        **meta,
        "questions": len(results),
        "sent_to_llm": sent,
        "accepted": kinds["accepted"],
        "replaced": kinds["replaced"],
        "not_sent": kinds["not sent"],
        "replaced_by_reason": dict(Counter(r["reason"] for r in results if r["outcome"] == "replaced").most_common()),
        "seconds_per_answer": {
            "sent_to_llm": _stats([r["seconds"] for r in results if r["outcome"] != "not sent"]),
            "accepted": _stats([r["seconds"] for r in results if r["outcome"] == "accepted"]),
            "not_sent": _stats([r["seconds"] for r in results if r["outcome"] == "not sent"]),
            "all": _stats([r["seconds"] for r in results]),
        },
    }


def markdown(summary: dict, results: list[dict]) -> str:
    s = summary
    sp = s["seconds_per_answer"]
    lines = [
        "# LLM backend against a real local server",
        "",
        f"Generated by `python -m eval.llm_run` on {s['date']}: `llama_cpp.server` (llama-cpp-python {s['llama_cpp_version']}) serving "
        f"`{s['model_file']}` on 127.0.0.1 with n_ctx 4096, 2 threads, chatml; the bot's LLM backend pointed at it. "
        f"Questions: the first {s['questions']} single-turn records of `{s['gold']}`. Server start to ready: {s['server_startup_s']:.1f} s.",
        "",
        "| | answers |",
        "|---|---|",
        f"| asked | {s['questions']} |",
        f"| sent to the LLM | {s['sent_to_llm']} |",
        f"| accepted by the marker and figure checks (backend `llm`) | {s['accepted']} |",
        f"| replaced by the extractive answer | {s['replaced']} |",
        f"| not sent (table answers, premise corrections, refusals, derived figures) | {s['not_sent']} |",
        "",
        "Replaced, by reason (the \"extractive answer shown because ...\" notes):",
        "",
        "| reason | answers |",
        "|---|---|",
    ]
    for reason in [r for _, r in REASONS] + ["other"]:
        lines.append(f"| {reason} | {s['replaced_by_reason'].get(reason, 0)} |")
    lines += ["", "Seconds per answer (wall clock, `Bot.ask`, 2 cores shared by server and bot):", "", "| answers | n | mean | p50 | p95 | max |", "|---|---|---|---|---|---|"]
    for key, label in (("sent_to_llm", "sent to the LLM"), ("accepted", "accepted"), ("not_sent", "not sent"), ("all", "all")):
        st = sp[key]
        lines.append(f"| {label} | {st['n']} | {st['mean']} | {st['p50']} | {st['p95']} | {st['max']} |")
    lines += ["", "## Answers sent to the LLM", "", "| id | outcome | s | question | answer or note |", "|---|---|---|---|---|"]
    for r in results:
        if r["outcome"] == "not sent":
            continue
        shown = r["text"] if r["outcome"] == "accepted" else r["note"]
        shown = " ".join(shown.split()).replace("|", "\\|")
        if len(shown) > 300:
            shown = shown[:297] + "..."
        lines.append(f"| {r['id']} | {r['outcome'] if r['outcome'] == 'accepted' else 'replaced: ' + str(r['reason'])} | {r['seconds']:.1f} | {r['question'].replace('|', '/')} | {shown} |")
    return "\n".join(lines) + "\n"


def _write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def _server_version(python: str) -> str:
    r = subprocess.run([python, "-c", "import llama_cpp; print(llama_cpp.__version__)"], capture_output=True, text=True)
    return r.stdout.strip() or "unknown"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m eval.llm_run", description=__doc__.split("\n\n")[0])
    ap.add_argument("--limit", type=int, help="only the first N single-turn questions")
    ap.add_argument("--gold", type=Path, default=ROOT / "eval" / "gold.jsonl")
    ap.add_argument("--model", type=Path, default=DEFAULT_MODEL, help=f"GGUF model the server loads (default {DEFAULT_MODEL})")
    ap.add_argument("--server-python", default=DEFAULT_SERVER_PYTHON, help="python with llama-cpp-python[server] (default $BOT_LLM_SERVER_PYTHON or /work/llm-venv/bin/python)")
    ap.add_argument("--port", type=int, help="server port (default: a free one)")
    ap.add_argument("--corpus", default=str(ROOT / "corpus"))
    ap.add_argument("--index", default=str(ROOT / "index"))
    ap.add_argument("--out", type=Path, default=ROOT / "eval" / "reports" / "llm-run", help="writes OUT.md and OUT.json")
    args = ap.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ["NO_PROXY"] = os.environ["no_proxy"] = "127.0.0.1,localhost"

    records = single_turn(args.gold, args.limit)
    try:
        with llama_server(args.server_python, args.model, args.port) as srv:
            print(f"llama_cpp.server ready at {srv.base_url} in {srv.startup_s:.1f} s (model id {srv.model_id!r}, log {srv.log_path})", flush=True)
            bot = load_bot(srv.base_url, srv.model_id, args.corpus, args.index)
            t0 = time.monotonic()
            results = run(bot, records)
            total = time.monotonic() - t0
    except KeyboardInterrupt:
        print("interrupted: the server was stopped", file=sys.stderr)
        return 130
    except (RuntimeError, TimeoutError, FileNotFoundError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    meta = {
        "date": time.strftime("%Y-%m-%d"), "model_file": args.model.name, "llama_cpp_version": _server_version(args.server_python),
        "gold": os.path.relpath(args.gold, ROOT), "limit": args.limit, "server_startup_s": round(srv.startup_s, 1), "total_s": round(total, 1),
    }
    summary = summarize(results, meta)
    _write_atomic(args.out.with_suffix(".json"), json.dumps({"summary": summary, "answers": results}, indent=1, ensure_ascii=False) + "\n")
    md = markdown(summary, results)
    _write_atomic(args.out.with_suffix(".md"), md)
    print()
    print(md.split("\n## ")[0])
    print(f"wrote {args.out.with_suffix('.md')} and {args.out.with_suffix('.json')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
