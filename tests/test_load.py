"""Load and memory on 127.0.0.1: concurrent conversations through /ask, threads on the Python API,
and resident memory over thousands of asks.

By default a short version runs (CI): 10 HTTP clients x 6 questions, 8 threads x 40 asks, 1,000 asks
for memory. `BOT_FULL_LOAD=1` runs the full version: 50 clients x 20 questions, 8 threads x 200 asks,
5,000 asks. Every loop is bounded in count and in time and stops by itself. Latencies and RSS are
printed (run with `-s` to see them); only correctness and a generous memory bound are asserted.

HTTP goes straight to Gradio's REST API (`POST /gradio_api/call/ask`, then the event's SSE stream; see
`tests.test_robustness.rest_ask`) rather than through gradio_client, whose per-client set-up (config
and API-info fetches) would dominate on 2 cores.
"""

from __future__ import annotations

import gc
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from bot import BotError
from bot.config import MAX_HISTORY_TURNS
from tests.test_robustness import FINE_Q, assert_safe, rest_ask

FULL = os.environ.get("BOT_FULL_LOAD") == "1"
_slow_if_full = pytest.mark.slow if FULL else (lambda f: f)

HTTP_CLIENTS, HTTP_QUESTIONS = (50, 20) if FULL else (10, 6)  # questions per client: 2-turn conversations
THREADS, THREAD_ASKS = (8, 200) if FULL else (8, 40)
MEMORY_ASKS, MEMORY_WARM = (5000, 500) if FULL else (1000, 500)
MEMORY_BOUND_MB = 50
TIME_BOUND_S = 540 if FULL else 240  # a loop that is not done by then stops and says so

# (first question, follow-up, the entity only the follow-up names). Conversations run side by side, so
# a follow-up that picked up another client's turn would name another conversation's entity.
CONVERSATIONS = [
    ("What is Pinduoduo's GMV?", "And Douyin's?", "Douyin"),
    ("What is Alibaba Cloud's market share in China?", "And Huawei Cloud's?", "Huawei"),
    ("What is Alibaba Cloud's market share in China?", "What about Tencent Cloud?", "Tencent"),
    ("What happened to Ant Group's IPO?", "When was it halted?", "Ant Group"),
    ("Who is Eddie Wu?", "What did he announce?", "Eddie Wu"),
    ("Why was the Cainiao IPO withdrawn?", "When was it withdrawn?", "Cainiao"),
]
ENTITIES = {c[2] for c in CONVERSATIONS}


def percentile(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, max(0, round(p / 100 * (len(xs) - 1))))] if xs else float("nan")


def rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS in /proc/self/status")


@pytest.fixture(scope="module")
def expected(bot) -> list[tuple[str, str, str, dict, dict]]:  # noqa: ANN001
    """The conversations whose follow-up resolves in-process to its own entity, with the in-process answers."""
    out = []
    for q1, q2, entity in CONVERSATIONS:
        a1 = bot.ask(q1).to_dict()
        a2 = bot.ask(q2, history=[[q1, a1["text"]]]).to_dict()
        if entity in a2["standalone_question"]:
            out.append((q1, q2, entity, a1, a2))
    assert len(out) >= 3, "fewer than 3 conversations still resolve their follow-up; pick others"
    return out


def _leak(standalone: str, entity: str) -> list[str]:
    return [e for e in ENTITIES if e != entity and e in standalone and e not in entity]



@_slow_if_full
def test_concurrent_conversations_over_http(server, expected) -> None:  # noqa: ANN001
    import httpx

    latencies: list[float] = []
    problems: list[str] = []
    done = [0] * HTTP_CLIENTS
    lock = threading.Lock()
    start = threading.Barrier(HTTP_CLIENTS)
    deadline = time.monotonic() + TIME_BOUND_S

    def timed(http: httpx.Client, question: str, history: Any) -> tuple[str, Any]:
        t0 = time.perf_counter()
        result = rest_ask(http, question, history)
        with lock:
            latencies.append(time.perf_counter() - t0)
        return result

    def client(c: int) -> None:
        with httpx.Client(base_url=server, timeout=120) as http:
            try:
                start.wait(timeout=60)
            except threading.BrokenBarrierError:
                pass
            for k in range(HTTP_QUESTIONS // 2):
                if time.monotonic() > deadline:
                    problems.append(f"client {c}: time bound reached after {done[c]} questions")
                    return
                q1, q2, entity, a1, a2 = expected[(c + k) % len(expected)]
                try:
                    kind, got1 = timed(http, q1, None)
                    if (kind, got1) != ("complete", a1):
                        problems.append(f"client {c}: {q1!r} -> {kind} {str(got1)[:200]}")
                        continue
                    done[c] += 1
                    kind, got2 = timed(http, q2, [[q1, got1["text"]]])
                    done[c] += 1
                except Exception as e:  # noqa: BLE001 - counted, reported below
                    problems.append(f"client {c}: {type(e).__name__}: {e}")
                    continue
                if kind != "complete":
                    problems.append(f"client {c}: {q2!r} -> {kind} {str(got2)[:200]}")
                    continue
                if entity not in got2["standalone_question"] or _leak(got2["standalone_question"], entity):
                    problems.append(f"client {c}: history leaked: {q2!r} became {got2['standalone_question']!r}")
                if got2 != a2:
                    problems.append(f"client {c}: {q2!r} answered {got2['text'][:120]!r}, in-process {a2['text'][:120]!r}")

    t0 = time.perf_counter()
    threads = [threading.Thread(target=client, args=(c,), daemon=True) for c in range(HTTP_CLIENTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=max(1.0, deadline - time.monotonic() + 60))
    wall = time.perf_counter() - t0
    alive = sum(t.is_alive() for t in threads)
    n = len(latencies)
    print(
        f"\nHTTP load: {HTTP_CLIENTS} clients x {HTTP_QUESTIONS} questions = {n} asks in {wall:.1f} s ({n / wall:.1f}/s); "
        f"latency p50 {percentile(latencies, 50) * 1000:.0f} ms, p95 {percentile(latencies, 95) * 1000:.0f} ms, "
        f"max {max(latencies, default=0) * 1000:.0f} ms; problems {len(problems)}; hung clients {alive}"
    )
    assert alive == 0
    assert not problems, problems[:10]
    assert sum(done) == HTTP_CLIENTS * HTTP_QUESTIONS


@_slow_if_full
def test_threads_on_the_python_api_get_the_sequential_answers(bot, expected) -> None:  # noqa: ANN001
    """bot.ask is called from several threads at once (as the server's workers do): same answers as one at a time."""
    cases: list[tuple[str, Any]] = [(FINE_Q, None), ("What is the boiling point of water?", None)]
    for q1, q2, _, a1, _ in expected:
        cases += [(q1, None), (q2, [[q1, a1["text"]]])]
    want = [bot.ask(q, history=h).to_dict() for q, h in cases]
    deadline = time.monotonic() + TIME_BOUND_S

    def worker(w: int) -> list[str]:
        bad = []
        for i in range(THREAD_ASKS):
            if time.monotonic() > deadline:
                return [*bad, f"worker {w}: time bound reached at {i}"]
            k = (w * 7 + i) % len(cases)
            got = bot.ask(cases[k][0], history=cases[k][1]).to_dict()
            if got != want[k]:
                bad.append(f"worker {w}: {cases[k][0]!r} -> {got['text'][:100]!r}")
        return bad

    t0 = time.perf_counter()
    with ThreadPoolExecutor(THREADS) as pool:
        bad = [b for chunk in pool.map(worker, range(THREADS)) for b in chunk]
    wall = time.perf_counter() - t0
    print(f"\nthreads: {THREADS} x {THREAD_ASKS} asks in {wall:.1f} s ({THREADS * THREAD_ASKS / wall:.0f}/s)")
    assert not bad, bad[:10]


@_slow_if_full
def test_memory_is_flat_over_many_asks(bot, expected) -> None:  # noqa: ANN001
    """Repeated and never-seen questions, follow-ups, HTTP-style histories, long chats and errors: RSS stays flat."""
    words = ["Alibaba", "Pinduoduo", "cloud", "fine", "share", "IPO", "Douyin", "AI", "Cainiao", "Tencent", "revenue", "growth"]
    long_chat = bot.chat()
    chat = bot.chat()
    rss_warm = rss_end = None
    times: list[float] = []
    errors = 0
    deadline = time.monotonic() + TIME_BOUND_S
    i = 0
    for i in range(MEMORY_ASKS):
        if time.monotonic() > deadline:
            break
        q1, q2, _, a1, _ = expected[i % len(expected)]
        kind = i % 8
        t0 = time.perf_counter()
        try:
            if kind == 0:
                bot.ask(q1)
            elif kind == 1:  # a question never asked before
                bot.ask(f"What does the article say about {words[i % len(words)]} and {words[(i // 12) % len(words)]} in year {1990 + i % 40} #{i}?")
            elif kind == 2:  # HTTP-style history, fresh strings every time
                bot.ask(q2, history=[[q1 + " ", a1["text"] + f" ({i})"]])
            elif kind == 3:
                assert_safe(long_chat.ask(q1 if i % 16 < 8 else q2).to_dict())  # grows past MAX_HISTORY_TURNS, trimmed
            elif kind == 4:
                chat.ask(q1)
                chat.ask(q2)
                chat = bot.chat()
            elif kind == 5:
                bot.ask(" " * (i % 7))  # empty: an error
            elif kind == 6:
                bot.ask("x" * 2001)  # too long: an error
            else:
                bot.ask("And then?", history=[[f"Question {i}?", "x" * 1000]] * 10)
        except BotError:
            errors += 1
        times.append(time.perf_counter() - t0)
        if i + 1 == MEMORY_WARM:
            gc.collect()
            rss_warm = rss_mb()
    gc.collect()
    rss_end = rss_mb()
    asked = len(times)
    print(
        f"\nmemory: {asked} asks ({errors} BotErrors) in {sum(times):.1f} s; VmRSS after {MEMORY_WARM}: {rss_warm:.1f} MB, "
        f"after {asked}: {rss_end:.1f} MB, growth {rss_end - (rss_warm or rss_end):+.1f} MB; "
        f"ask p50 {percentile(times, 50) * 1000:.1f} ms, p95 {percentile(times, 95) * 1000:.1f} ms"
    )
    assert len(long_chat.turns) == MAX_HISTORY_TURNS
    assert rss_warm is not None and asked >= 2 * MEMORY_WARM, f"only {asked} asks within {TIME_BOUND_S} s"
    assert rss_end - rss_warm < MEMORY_BOUND_MB
