"""Build-time generated questions (doc2query): for every sentence of a document, the questions a reader
might ask that it answers, in a reader's own words, written by small local LLMs.

    python -m bot.doc2query corpus/X.txt [--models PATH ...] [--out PATH] [--cache DIR]

writes `corpus/<doc_id>.questions.jsonl`: a header line, then one row per sentence (headings and the
title left out) with its exact span in the document, the sha256 of its text, and the questions of
every model given, pooled and deduplicated. The sentences are the index's own (`bot.chunking`), so a
row's (start, end) is a sentence span of the index. `load_questions` reads such a file back and drops
rows whose text changed since (stale).

Generation runs llama-cpp-python in process (`llama_cpp.Llama`, greedy decoding, a fixed seed, the
model's own chat template) and is cached per model in `<cache>/doc2query/<model>.jsonl`, keyed by
(sha256 of the sentence, sha256 of the model file, PROMPT_VERSION): a re-run regenerates nothing it
already did and does not even load the model. llama_cpp is imported inside `generate` only, so this
module imports without it (install it with `scripts/llm_setup.py`; models from the same script).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import os
import re
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from .errors import BotError, CorpusError

log = logging.getLogger(__name__)

GENERATED_BY = "python -m bot questions"  # the CLI subcommand; `python -m bot.doc2query` is the same
SUFFIX = ".questions.jsonl"

SYSTEM_PROMPT = "You write the questions that readers type into a search box about an article. You never answer them."

USER_PROMPT = """\
Context, only to understand the Sentence (do not ask about it):
Article: {title}
Section: {section}
Sentence before: {previous}

Sentence: {sentence}

Write 4 questions that the Sentence above answers, as a curious reader would type them.
Rules:
1. The Sentence itself must hold the answer to every question.
2. Use everyday words of your own instead of the Sentence's wording.
3. Name who or what each question is about (the company or person, not "it").
4. If the Sentence gives an amount, a number or a date, ask for it (how much, how many, when).
5. Never ask about the sentence, the article or its wording, and do not put the answer in the question.
Reply with a numbered list of 4 questions and nothing else."""

# One worked example, shown to the model as an earlier turn (from outside the article, so nothing of
# it can leak into the article's questions unnoticed: questions naming it are dropped).
EXAMPLE = {
    "title": "Why your morning coffee costs more",
    "section": "Rising costs",
    "previous": "Coffee bean prices doubled in 2021.",
    "sentence": "As a result, Starbucks raised the price of its drinks by 8% in early 2022, blaming supply-chain pressure.",
    "answer": "1. Why did Starbucks start charging more for coffee in 2022?\n"
              "2. By how much did Starbucks drinks get more expensive?\n"
              "3. When did Starbucks hike what it charges for drinks?\n"
              "4. What reason did Starbucks give for making its drinks pricier?",
}
_EXAMPLE_WORDS = ("starbucks", "coffee")

# The prompt as one text: its hash versions the cache and the output file.
PROMPT = "\n\n".join([SYSTEM_PROMPT, USER_PROMPT, json.dumps(EXAMPLE, sort_keys=True)])
PROMPT_VERSION = hashlib.sha256(PROMPT.encode("utf-8")).hexdigest()[:12]

N_CTX = 2048
N_THREADS = 2
SEED = 20240521
MAX_TOKENS = 128
REPEAT_PENALTY = 1.1  # the 0.5B model otherwise loops on one question until MAX_TOKENS
MIN_QUESTIONS = 3
MAX_QUESTIONS = 5
# Greedy decoding first; when it gives fewer than MIN_QUESTIONS usable questions, these sampled
# retries (fixed seeds, so still reproducible) add to them.
RETRY_TEMPERATURES = (0.7, 0.9)

_CACHE_ROOT = Path(os.environ.get("ARTICLE_BOT_CACHE") or Path.home() / ".cache" / "article-bot")
DEFAULT_CACHE_DIR = _CACHE_ROOT / "doc2query"
DEFAULT_MODELS = (
    _CACHE_ROOT / "models" / "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
    _CACHE_ROOT / "models" / "qwen2.5-coder-0.5b-instruct.gguf",
)

_LEAD = re.compile(r"^\s*(?:[-*•]+|\(?\d{1,2}[.):]|\(?[a-dA-D][.)]|Q\d*\s*[:.)]|Question\s*\d*\s*[:.)])\s*")
_WS = re.compile(r"\s+")


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def file_sha256(path: Path) -> str:
    """sha256 of a model file; reuses the `<file>.verified.json` stamp scripts/llm_setup.py leaves when it still matches."""
    st = path.stat()
    stamp = path.with_name(path.name + ".verified.json")
    try:
        d = json.loads(stamp.read_text())
        if d.get("size") == st.st_size and d.get("mtime_ns") == st.st_mtime_ns and re.fullmatch(r"[0-9a-f]{64}", d.get("sha256", "")):
            return d["sha256"]
    except (OSError, ValueError, AttributeError):
        pass
    h = hashlib.sha256()
    with path.open("rb") as f:
        while b := f.read(1 << 20):
            h.update(b)
    return h.hexdigest()


# -- sentences ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Item:
    """One sentence to write questions for, with the context the prompt shows."""

    start: int
    end: int
    text: str
    section: str
    previous: str
    title: str = ""

    @property
    def sha256(self) -> str:
        return sha256_text(self.text)


def document_items(path: str | Path) -> tuple[str, str, list[Item]]:
    """(doc_id, text, items) of one document: its sentences exactly as the index splits them, headings left out."""
    from .chunking import is_heading, split_sentences
    from .corpus import parse_document, read_text

    path = Path(path)
    text = read_text(path)
    doc = parse_document(path.stem, text, path=str(path), markdown=path.suffix.lower() == ".md")
    items: list[Item] = []
    prev = None
    for s in split_sentences(doc):
        if is_heading(s):
            prev = None
            continue
        previous = prev.text if prev is not None and prev.section == s.section else ""
        items.append(Item(s.start, s.end, s.text, s.section, previous, doc.title))
        prev = s
    return doc.doc_id, text, items


def _user_message(title: str, section: str, previous: str, sentence: str) -> str:
    previous = " ".join(previous.split()) or "(none: this is the first sentence of the section)"
    return USER_PROMPT.format(title=" ".join(title.split()) or "(untitled)", section=section, previous=previous, sentence=" ".join(sentence.split()))


def build_messages(item: Item) -> list[dict[str, str]]:
    """System prompt, the worked example as an earlier turn, then the item."""
    ex = EXAMPLE
    return [
        {"role": "system", "content": SYSTEM_PROMPT},
        {"role": "user", "content": _user_message(ex["title"], ex["section"], ex["previous"], ex["sentence"])},
        {"role": "assistant", "content": ex["answer"]},
        {"role": "user", "content": _user_message(item.title, item.section, item.previous, item.text)},
    ]


# Questions about the text rather than its content, or echoing the prompt's own words.
_META = re.compile(r"\b(?:sentences?|synonyms?|key ?words?|passage|paraphrase|rephrase|wording|subtitle)\b|^what is the name of \w+\?$", re.I)
_COPY_WORDS = 7  # a question repeating this many consecutive words of its sentence copies it


def _words(text: str) -> list[str]:
    return re.findall(r"[\w'’%$.-]+", text.casefold())


def _copies(question: str, sentence: str) -> bool:
    q, s = _words(question), _words(sentence)
    grams = {tuple(s[i:i + _COPY_WORDS]) for i in range(len(s) - _COPY_WORDS + 1)}
    return any(tuple(q[i:i + _COPY_WORDS]) in grams for i in range(len(q) - _COPY_WORDS + 1))


def parse_questions(reply: str, sentence: str = "") -> list[str]:
    """The questions of a model reply: numbering and quotes removed, several on one line split, each
    ending in '?'; questions about the wording, copying the sentence or echoing the worked example dropped."""
    out: list[str] = []
    seen: set[str] = set()
    low = sentence.casefold()
    for line in (reply or "").splitlines():
        line = _LEAD.sub("", line).strip()
        for m in re.finditer(r"[^?]*\?", line):
            q = _LEAD.sub("", m.group().strip().strip("\"'“”‘’`*")).strip().strip("\"'“”‘’`*").strip()
            q = _WS.sub(" ", q)
            if not q.endswith("?") or len(q) < 12 or len(q) > 200 or len(q.split()) < 3 or not q[0].isalpha():
                continue
            if _META.search(q) or (sentence and _copies(q, sentence)):
                continue
            if any(w in q.casefold() and w not in low for w in _EXAMPLE_WORDS):
                continue
            q = q[0].upper() + q[1:]
            key = q.casefold()
            if key not in seen:
                seen.add(key)
                out.append(q)
    return out


def pool(lists: Iterable[list[str]]) -> list[str]:
    """Questions of several models in order, deduplicated case-insensitively (and ignoring spacing)."""
    out: list[str] = []
    seen: set[str] = set()
    for qs in lists:
        for q in qs:
            key = _WS.sub(" ", q.strip()).casefold()
            if key and key not in seen:
                seen.add(key)
                out.append(q.strip())
    return out


# -- cache -------------------------------------------------------------------------------------------


class QuestionCache:
    """One append-only JSONL file per model: {"sentence_sha256", "model_sha256", "prompt_version", "questions", ...}."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.rows: dict[tuple[str, str, str], list[str]] = {}
        if path.exists():
            for line in path.read_text(encoding="utf-8").splitlines():
                try:
                    r = json.loads(line)
                    self.rows[(r["sentence_sha256"], r["model_sha256"], r["prompt_version"])] = list(r["questions"])
                except (ValueError, KeyError, TypeError):
                    continue  # a torn last line from an interrupted run

    def get(self, key: tuple[str, str, str]) -> list[str] | None:
        return self.rows.get(key)

    def put(self, key: tuple[str, str, str], questions: list[str], **extra: object) -> None:
        self.rows[key] = questions
        self.path.parent.mkdir(parents=True, exist_ok=True)
        row = {"sentence_sha256": key[0], "model_sha256": key[1], "prompt_version": key[2], "questions": questions, **extra}
        with self.path.open("a", encoding="utf-8") as f:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
            f.flush()
            os.fsync(f.fileno())


def cache_path(cache_dir: Path, model_path: Path) -> Path:
    return cache_dir / (model_path.name.removesuffix(".gguf") + ".jsonl")


# -- generation --------------------------------------------------------------------------------------


def generate(items: list[Item], model_path: str | Path, cache_dir: str | Path = DEFAULT_CACHE_DIR, model_sha256: str | None = None,
             progress: Callable[[str], None] | None = print) -> dict[str, list[str]]:
    """Questions for every item from one GGUF model, by sentence sha256; cached answers are reused and
    the model is loaded only when some item is not cached yet."""
    model_path = Path(model_path)
    if not model_path.is_file():
        raise BotError(f"No model file at {model_path}: run `python scripts/llm_setup.py` to assemble it, or pass --models PATH.")
    model_sha = model_sha256 or file_sha256(model_path)
    cache = QuestionCache(cache_path(Path(cache_dir), model_path))
    say = progress or (lambda _msg: None)
    out: dict[str, list[str]] = {}
    todo: list[Item] = []
    for it in items:
        got = cache.get((it.sha256, model_sha, PROMPT_VERSION))
        if got is None:
            todo.append(it)
        else:
            out[it.sha256] = got
    say(f"{model_path.name}: {len(items) - len(todo)} of {len(items)} sentences cached, {len(todo)} to generate")
    if not todo:
        return out

    try:
        from llama_cpp import Llama
    except ImportError:
        raise BotError("llama-cpp-python is not installed: run `python scripts/llm_setup.py --venv .venv` (or pip install the llm extra).") from None
    t0 = time.monotonic()
    llm = Llama(model_path=str(model_path), n_ctx=N_CTX, n_threads=N_THREADS, seed=SEED, verbose=False)
    say(f"{model_path.name}: loaded in {time.monotonic() - t0:.1f} s")
    t1 = time.monotonic()
    for i, it in enumerate(todo, start=1):
        messages = build_messages(it)
        reply = _complete(llm, messages, 0.0, SEED)
        questions = parse_questions(reply, it.text)
        for n, temp in enumerate(RETRY_TEMPERATURES, start=1):
            if len(questions) >= MIN_QUESTIONS:
                break
            questions = pool([questions, parse_questions(_complete(llm, messages, temp, SEED + n), it.text)])
        questions = questions[:MAX_QUESTIONS]
        cache.put((it.sha256, model_sha, PROMPT_VERSION), questions, model=model_path.name, sentence=it.text, raw=reply)
        out[it.sha256] = questions
        rate = (time.monotonic() - t1) / i
        say(f"{model_path.name}: {i}/{len(todo)} ({rate:.1f} s/sentence) {it.text[:60]!r} -> {len(questions)} questions")
    say(f"{model_path.name}: generated {len(todo)} sentences in {(time.monotonic() - t1) / 60:.1f} min")
    del llm
    return out


def _complete(llm: object, messages: list[dict[str, str]], temperature: float, seed: int) -> str:
    r = llm.create_chat_completion(messages=messages, temperature=temperature, top_p=1.0 if temperature == 0 else 0.95,  # type: ignore[attr-defined]
                                   max_tokens=MAX_TOKENS, repeat_penalty=REPEAT_PENALTY, seed=seed)
    return r["choices"][0]["message"]["content"] or ""


# -- output file -------------------------------------------------------------------------------------


def questions_path(doc_path: str | Path) -> Path:
    p = Path(doc_path)
    return p.with_name(p.stem + SUFFIX)


def write_questions(out: Path, items: list[Item], per_model: list[tuple[Path, str, dict[str, list[str]]]], today: date | None = None) -> None:
    """Header, then one row per item, written to a temp file and moved into place."""
    header = {
        "_header": True,
        "generated_by": GENERATED_BY,
        "models": [{"file": p.name, "sha256": sha} for p, sha, _ in per_model],
        "prompt_version": PROMPT_VERSION,
        "date": (today or date.today()).isoformat(),
        "note": "generated file: do not edit by hand",
    }
    lines = [json.dumps(header, ensure_ascii=False)]
    for it in items:
        qs = pool(got.get(it.sha256, []) for _, _, got in per_model)
        lines.append(json.dumps({"start": it.start, "end": it.end, "sha256": it.sha256, "questions": qs}, ensure_ascii=False))
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    try:
        with tmp.open("w", encoding="utf-8") as f:
            f.write("\n".join(lines) + "\n")
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)


def load_questions(path: str | Path, document_text: str) -> dict[tuple[int, int], list[str]]:
    """{(start, end): questions} from a questions file; rows whose sha256 no longer matches
    `document_text[start:end]` are dropped as stale. A missing or foreign header is a CorpusError."""
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as e:
        raise CorpusError(f"Cannot read the questions file {path} ({e}): regenerate it with `python -m bot.doc2query`.") from None
    try:
        header = json.loads(lines[0]) if lines else None
    except ValueError:
        header = None
    if not (isinstance(header, dict) and header.get("_header") is True and isinstance(header.get("models"), list)
            and isinstance(header.get("prompt_version"), str) and str(header.get("generated_by", "")).startswith("python -m bot")):
        raise CorpusError(f"{path} does not start with a questions-file header: regenerate it with `python -m bot.doc2query`.")
    out: dict[tuple[int, int], list[str]] = {}
    stale = 0
    for n, line in enumerate(lines[1:], start=2):
        if not line.strip():
            continue
        try:
            r = json.loads(line)
            start, end, sha, qs = int(r["start"]), int(r["end"]), str(r["sha256"]), r["questions"]
        except (ValueError, KeyError, TypeError):
            raise CorpusError(f"{path}, line {n}, is not a questions row: regenerate the file with `python -m bot.doc2query`.") from None
        if not (0 <= start < end <= len(document_text)) or sha256_text(document_text[start:end]) != sha:
            stale += 1
            continue
        out[(start, end)] = [q for q in qs if isinstance(q, str) and q.strip()]
    if stale:
        log.info("%s: %d of %d rows are stale (their sentence changed) and were dropped", path, stale, stale + len(out))
    return out


# -- command line ------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bot.doc2query", description="Generate reader questions for every sentence of a document.")
    ap.add_argument("document", help="a .txt or .md article, e.g. corpus/X.txt")
    ap.add_argument("--models", nargs="+", type=Path, help="GGUF model files (default: the 1.5B and 0.5B Qwen2.5-Coder files of scripts/llm_setup.py that exist)")
    ap.add_argument("--out", type=Path, help="output file (default: <document folder>/<doc_id>.questions.jsonl)")
    ap.add_argument("--cache", type=Path, default=DEFAULT_CACHE_DIR, help=f"generation cache folder (default {DEFAULT_CACHE_DIR})")
    ap.add_argument("--limit", type=int, help="only the first N sentences (for trying a prompt)")
    args = ap.parse_args(argv)
    try:
        models = args.models or [p for p in DEFAULT_MODELS if p.is_file()]
        if not models:
            raise BotError("No model file found: run `python scripts/llm_setup.py` first, or pass --models PATH.")
        doc_id, _text, items = document_items(args.document)
        if args.limit:
            items = items[: args.limit]
        out = args.out or questions_path(args.document)
        per_model = []
        for m in models:
            sha = file_sha256(m)
            per_model.append((m, sha, generate(items, m, args.cache, model_sha256=sha)))
        write_questions(out, items, per_model)
        counts = [len(pool(got.get(it.sha256, []) for _, _, got in per_model)) for it in items]
        print(f"wrote {out}: {len(items)} sentences of {doc_id}, {sum(counts)} questions (min {min(counts, default=0)} per sentence), prompt {PROMPT_VERSION}")
        return 0
    except BotError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    except OSError as e:
        print(f"error: {e.filename or ''}: {e.strerror or e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
