"""Faults: a build killed midway, damaged or foreign index files, a read-only index, two builds at once,
the build lock, a reader racing a build's commit, and a feedback writer killed mid-append.

Builds run as real `python -m bot index` subprocesses on copies of the session's index (tmp_path), so
SIGKILL, locks and file systems behave as in production. A read-only folder is made really read-only
even for root: the child process runs without CAP_DAC_OVERRIDE / CAP_DAC_READ_SEARCH (dropped from
its capability bounding set before exec), so permission bits apply to it; where that cannot be done
the test says so and skips instead of passing vacuously. What test_index.py covers (truncated files
through Bot.load, a flipped byte, an interrupted in-process build, rebuild on a corpus change) is not
repeated here.
"""

from __future__ import annotations

import ctypes
import fcntl
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from bot import Bot, IndexBusyError, IndexCorruptError, IndexMissingError, IndexStaleError, Settings
from bot import index as index_mod
from bot.config import DEFAULT_MODEL
from bot.feedback import append_feedback, read_feedback
from bot.index import CURRENT, LOCK, MANIFEST, SHARED_MODELS, build_index, load_index, staleness
from tests.conftest import CORPUS, ROOT
from tests.test_robustness import FINE_Q, FIXED_ENV, assert_one_line_error, run_cli

ENV = {**os.environ, **FIXED_ENV}
OTHER_MODEL = "sentence-transformers/paraphrase-MiniLM-L3-v2"


# --- helpers -------------------------------------------------------------------------------------


def copy_index(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst, ignore=shutil.ignore_patterns(".lock"))
    return dst


def generation(folder: Path) -> Path:
    return folder / (folder / CURRENT).read_text().strip()


def snapshot(folder: Path) -> dict[str, tuple]:
    """Every entry under `folder` (itself included) with what any write would change (atime aside)."""
    out = {}
    for p in [folder, *sorted(folder.rglob("*"))]:
        st = p.lstat()
        out[p.relative_to(folder).as_posix()] = (st.st_mode, st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino)
    return out


def finish(procs: list[subprocess.Popen]) -> list[tuple[str, str]]:
    """Each process's (stdout, stderr); any still running after the wait is killed."""
    try:
        return [p.communicate(timeout=500) for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()


def build_process(index: Path, corpus: Path = CORPUS) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "bot", "--corpus", str(corpus), "--index", str(index), "index"],
                            cwd=ROOT, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def answers_the_fine(bot: Bot) -> bool:
    return "CNY 18.2 billion" in bot.ask(FINE_Q).text


_CAP_DAC_OVERRIDE, _CAP_DAC_READ_SEARCH, _PR_CAPBSET_DROP = 1, 2, 24


def _drop_dac_capabilities() -> None:  # runs in the child between fork and exec
    libc = ctypes.CDLL(None, use_errno=True)
    for cap in (_CAP_DAC_OVERRIDE, _CAP_DAC_READ_SEARCH):
        if libc.prctl(_PR_CAPBSET_DROP, cap, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP)")


def without_root_powers() -> dict:
    """subprocess arguments under which permission bits hold even for root (nothing needed for other users)."""
    return {"preexec_fn": _drop_dac_capabilities} if os.geteuid() == 0 else {}


def make_read_only(folder: Path) -> None:
    for p in [folder, *folder.rglob("*")]:
        p.chmod(0o555 if p.is_dir() else 0o444)


def make_writable(folder: Path) -> None:
    for p in [folder, *folder.rglob("*")]:
        p.chmod(0o755 if p.is_dir() else 0o644)


def cannot_write(folder: Path) -> bool:
    """Whether a process started like the tests' children really cannot create a file in `folder`."""
    code = "import sys, os\ntry:\n    os.close(os.open(os.path.join(sys.argv[1], '.probe'), os.O_CREAT | os.O_WRONLY))\nexcept PermissionError:\n    print('denied')\n"
    try:
        out = subprocess.run([sys.executable, "-c", code, str(folder)], capture_output=True, text=True, timeout=60, **without_root_powers())
    except (OSError, subprocess.SubprocessError):
        return False
    if (folder / ".probe").exists():
        make_writable(folder)
        (folder / ".probe").unlink()
        make_read_only(folder)
    return out.stdout.strip() == "denied"


# --- a build killed midway ----------------------------------------------------------------------


@pytest.mark.parametrize("kill_when", ["tmp-folder-appears", pytest.param("manifest-written", marks=pytest.mark.slow)])
def test_build_killed_midway_leaves_previous_index_whole_and_used(index_dir: Path, tmp_path: Path, kill_when: str) -> None:
    folder = copy_index(index_dir, tmp_path / "index")
    current_before = (folder / CURRENT).read_text()
    old = generation(folder)
    old_before = snapshot(old)

    proc = build_process(folder)
    seen, deadline = None, time.monotonic() + 300
    try:
        while proc.poll() is None and time.monotonic() < deadline:
            tmps = list(folder.glob(".tmp-*"))
            if tmps and (kill_when == "tmp-folder-appears" or (tmps[0] / MANIFEST).exists()):
                seen = tmps[0]
                break
            time.sleep(0.002)
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
        _, stderr = proc.communicate(timeout=60)
    assert seen is not None, f"the build never started writing (exit {proc.returncode}): {stderr[-2000:]}"
    assert proc.returncode == -signal.SIGKILL, "the build finished before it could be killed"

    if (folder / CURRENT).read_text() != current_before:
        # Only possible for "manifest-written": the kill landed after the commit. The new one must be whole.
        assert kill_when == "manifest-written" and not seen.exists()
        load_index(folder, Settings())
        pytest.skip("the build committed before SIGKILL arrived; the new generation loads")
    assert snapshot(old) == old_before, "the previous generation was touched"
    load_index(folder, Settings())  # every file against the manifest: sizes and sha256
    assert staleness(CORPUS, folder, Settings()) is None
    assert answers_the_fine(Bot.load(CORPUS, folder))
    assert (folder / CURRENT).read_text() == current_before  # Bot.load did not rebuild
    # The dead build's lock went with it: the next build would not wait.
    fd = os.open(folder / LOCK, os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    finally:
        os.close(fd)
    out = run_cli("index", "--if-needed", index=folder)
    assert out.returncode == 0 and b"up to date" in out.stdout, out.stderr


# --- damaged or foreign index files ------------------------------------------------------------


def _rewrite_manifest_entry(gen: Path, rel: str) -> None:
    """Make the manifest agree with a file's new content, so only the reader of that file can notice."""
    manifest = json.loads((gen / MANIFEST).read_text())
    p = gen / rel
    manifest["files"][rel] = {"size": p.stat().st_size, "sha256": index_mod._sha256(p)}
    (gen / MANIFEST).write_text(json.dumps(manifest))


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        ("faiss-truncated-to-half", "missing or truncated"),
        ("faiss-emptied", "missing or truncated"),
        ("faiss-deleted", "missing or truncated"),
        ("faiss-garbage-same-size", "does not match its manifest"),
        ("faiss-garbage-manifest-agrees", "unreadable"),
        ("vectors-wrong-shape-manifest-agrees", "disagrees with its manifest"),
    ],
)
def test_damaged_faiss_and_vectors_are_one_clear_cli_error(index_dir: Path, tmp_path: Path, damage: str, message: str) -> None:
    folder = copy_index(index_dir, tmp_path / "index")
    gen = generation(folder)
    faiss_file = gen / "chunks.faiss"
    size = faiss_file.stat().st_size
    if damage == "faiss-truncated-to-half":
        faiss_file.write_bytes(faiss_file.read_bytes()[: size // 2])
    elif damage == "faiss-emptied":
        faiss_file.write_bytes(b"")
    elif damage == "faiss-deleted":
        faiss_file.unlink()
    elif damage == "faiss-garbage-same-size":
        faiss_file.write_bytes((b"not a faiss index " * (size // 18 + 1))[:size])
    elif damage == "faiss-garbage-manifest-agrees":
        faiss_file.write_bytes((b"not a faiss index " * (size // 18 + 1))[:size])
        _rewrite_manifest_entry(gen, "chunks.faiss")
    else:
        np.save(gen / "sentences.npy", np.zeros((3, 384), dtype=np.float32))
        _rewrite_manifest_entry(gen, "sentences.npy")
    before = snapshot(folder)
    line = assert_one_line_error(run_cli("ask", FINE_Q, index=folder), message)
    assert "python -m bot index" in line  # the message names the fix
    assert snapshot(folder) == before  # a corrupt index is reported, not silently rebuilt
    with pytest.raises(IndexCorruptError, match=message):
        load_index(folder, Settings())


@pytest.mark.parametrize("pointer", ["", "\n", "no-such-generation", "..", "../index", "/etc", ".tmp-x"])
def test_current_pointing_nowhere_is_a_missing_index(index_dir: Path, tmp_path: Path, pointer: str) -> None:
    folder = copy_index(index_dir, tmp_path / "index")
    (folder / ".tmp-x").mkdir()
    (folder / CURRENT).write_text(pointer)
    with pytest.raises(IndexMissingError, match="python -m bot index"):
        load_index(folder, Settings())
    reason = staleness(CORPUS, folder, Settings())
    assert "no index" in reason and str(folder) in reason, reason  # a missing index, named by its folder


def _foreign_model(folder: Path) -> None:
    manifest_path = generation(folder) / MANIFEST
    manifest = json.loads(manifest_path.read_text())
    manifest["settings"]["model"] = OTHER_MODEL
    manifest_path.write_text(json.dumps(manifest, indent=2))


def test_manifest_from_another_model_is_named_with_its_fix(index_dir: Path, tmp_path: Path) -> None:
    folder = copy_index(index_dir, tmp_path / "index")
    _foreign_model(folder)
    assert staleness(CORPUS, folder, Settings()) == f"model changed from {OTHER_MODEL!r} to {DEFAULT_MODEL!r}"
    with pytest.raises(IndexStaleError) as err:
        load_index(folder, Settings())
    assert OTHER_MODEL in str(err.value) and DEFAULT_MODEL in str(err.value) and "python -m bot index" in str(err.value)

    # Where the folder cannot be written, loading refuses with the reason and the fix; nothing is touched.
    make_read_only(folder)
    try:
        if not cannot_write(folder):
            pytest.skip("cannot make a folder read-only here")
        before = snapshot(folder)
        out = subprocess.run([sys.executable, "-m", "bot", "--corpus", str(CORPUS), "--index", str(folder), "ask", FINE_Q],
                             capture_output=True, cwd=ROOT, env=ENV, timeout=120, **without_root_powers())
        line = assert_one_line_error(out, "read-only")
        assert "model changed" in line and "python -m bot index" in line, line
        assert snapshot(folder) == before
    finally:
        make_writable(folder)


@pytest.mark.slow
def test_manifest_from_another_model_is_rebuilt_where_writable(index_dir: Path, tmp_path: Path) -> None:
    folder = copy_index(index_dir, tmp_path / "index")
    _foreign_model(folder)
    old = generation(folder).name
    out = run_cli("ask", FINE_Q, "--json", index=folder, timeout=400)
    assert out.returncode == 0, out.stderr.decode()[-2000:]
    assert "building the index: model changed" in out.stderr.decode()  # the rebuild is logged with its reason
    assert "CNY 18.2 billion" in json.loads(out.stdout)["text"]
    assert generation(folder).name != old
    assert json.loads((generation(folder) / MANIFEST).read_text())["settings"]["model"] == DEFAULT_MODEL
    assert staleness(CORPUS, folder, Settings()) is None


@pytest.mark.slow
def test_two_processes_loading_a_stale_index_build_it_once(index_dir: Path, tmp_path: Path) -> None:
    """Two app or CLI processes start on a stale index: one builds, the other waits and uses that build."""
    folder = copy_index(index_dir, tmp_path / "index")
    _foreign_model(folder)
    old = generation(folder).name
    argv = [sys.executable, "-m", "bot", "--corpus", str(CORPUS), "--index", str(folder), "ask", FINE_Q, "--json"]
    procs = [subprocess.Popen(argv, cwd=ROOT, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outs = finish(procs)
    for p, (stdout, stderr) in zip(procs, outs, strict=True):
        assert p.returncode == 0, stderr[-2000:]
        assert "CNY 18.2 billion" in json.loads(stdout)["text"]
    new = {p.name for p in folder.iterdir() if p.is_dir()} - {old, SHARED_MODELS}
    assert len(new) == 1 and generation(folder).name in new, new  # one build, not two
    assert staleness(CORPUS, folder, Settings()) is None


@pytest.mark.slow
def test_corpus_edited_after_indexing_is_rebuilt_by_index_if_needed(index_dir: Path, corpus_copy: Path, tmp_path: Path) -> None:
    folder = copy_index(index_dir, tmp_path / "index")
    assert b"up to date" in run_cli("index", "--if-needed", index=folder, corpus=corpus_copy).stdout
    article = next(corpus_copy.glob("*.txt"))
    article.write_text(article.read_text(encoding="utf-8") + "\nIn 2025, Alibaba opened a museum of abacuses in Hangzhou.\n", encoding="utf-8")
    out = run_cli("index", "--if-needed", index=folder, corpus=corpus_copy, timeout=400)
    assert out.returncode == 0 and b"corpus changed" in out.stdout, out
    assert staleness(corpus_copy, folder, Settings()) is None
    assert "abacuses" in Bot.load(corpus_copy, folder).ask("What museum did Alibaba open?").text


# --- read-only serving: no writes at all -------------------------------------------------------

# Runs in a child: records every write-like operation under the index folder through Python's audit
# hooks (open for writing, rename/replace, remove, mkdir, chmod, ...), then loads and asks. Writes made
# by C++ code (FAISS, ONNX Runtime) raise no audit event; the parent's before/after snapshot of sizes,
# mtimes, ctimes and inodes catches those.
_NO_WRITES = r"""
import json, os, sys
folder = os.path.realpath(sys.argv[1])
events = []
WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND
PATH_EVENTS = {"os.rename", "os.remove", "os.rmdir", "os.mkdir", "os.chmod", "os.chown", "os.truncate", "os.utime",
               "os.link", "os.symlink", "shutil.rmtree", "shutil.move", "shutil.copyfile", "os.chflags"}

def inside(p):
    try:
        return isinstance(p, (str, bytes, os.PathLike)) and os.path.realpath(os.fsdecode(p)).startswith(folder)
    except Exception:
        return False

def hook(event, args):
    if event == "open":
        path, mode, flags = (tuple(args) + (None, None, None))[:3]
        writing = (isinstance(mode, str) and any(c in mode for c in "wax+")) or (isinstance(flags, int) and flags & WRITE_FLAGS)
        if writing and inside(path):
            events.append(["open", os.fsdecode(path), str(mode), flags])
    elif event in PATH_EVENTS and any(inside(a) for a in args):
        events.append([event, [os.fsdecode(a) for a in args if isinstance(a, (str, bytes, os.PathLike))]])
    elif event == "mmap.__new__" and args[0] >= 0 and args[2] == 2:  # a shared writable map (ACCESS_WRITE) of a file
        target = os.readlink(f"/proc/self/fd/{args[0]}")
        if inside(target):
            events.append(["mmap", target])

sys.addaudithook(hook)
from bot import Bot, BotError
bot = Bot.load(sys.argv[2], sys.argv[1])
answers = [bot.ask(q).text for q in ("How big was the antitrust fine Alibaba received in April 2021?", "What is Pinduoduo's GMV?")]
chat = bot.chat(); chat.ask("What is Pinduoduo's GMV?"); answers.append(chat.ask("And Douyin's?").text)
stale_error = None
if len(sys.argv) > 3:
    try:
        Bot.load(sys.argv[3], sys.argv[1])
    except BotError as e:
        stale_error = f"{type(e).__name__}: {e}"
print(json.dumps({"events": events, "answers": answers, "stale_error": stale_error}))
"""


@pytest.mark.parametrize("mode", ["writable", "read-only"])
def test_loading_and_serving_write_nothing_to_the_index(index_dir: Path, corpus_copy: Path, tmp_path: Path, mode: str) -> None:
    folder = copy_index(index_dir, tmp_path / "index")
    args = [sys.executable, "-c", _NO_WRITES, str(folder), str(CORPUS)]
    kwargs: dict = {}
    if mode == "read-only":
        article = next(corpus_copy.glob("*.txt"))
        article.write_text(article.read_text(encoding="utf-8") + "\nA line added after indexing.\n", encoding="utf-8")
        args.append(str(corpus_copy))  # then loading against a changed corpus must refuse, not rebuild
        make_read_only(folder)
        kwargs = without_root_powers()
    try:
        if mode == "read-only" and not cannot_write(folder):
            pytest.skip("cannot make a folder read-only here (root without a droppable CAP_DAC_OVERRIDE)")
        before = snapshot(folder)
        out = subprocess.run(args, capture_output=True, text=True, cwd=ROOT, env=ENV, timeout=300, **kwargs)
        assert out.returncode == 0, out.stderr[-3000:]
        result = json.loads(out.stdout.strip().splitlines()[-1])
        after = snapshot(folder)
    finally:
        make_writable(folder)
    assert result["events"] == [], result["events"]
    assert after == before, {k: (before.get(k), after.get(k)) for k in set(before) | set(after) if before.get(k) != after.get(k)}
    assert "CNY 18.2 billion" in result["answers"][0] and "Douyin" in result["answers"][2]
    if mode == "read-only":
        err = result["stale_error"] or ""
        assert err.startswith("IndexStaleError") and "read-only" in err and "corpus changed" in err and "python -m bot index" in err, err


@pytest.mark.parametrize("where", ["index-path-is-a-file", "read-only-index-folder"])
def test_cli_index_that_cannot_be_written_is_one_line_error(index_dir: Path, tmp_path: Path, where: str) -> None:
    if where == "index-path-is-a-file":
        target = tmp_path / "index.txt"
        target.write_text("not a folder")
        out = run_cli("index", index=target)
    else:
        target = copy_index(index_dir, tmp_path / "index")
        make_read_only(target)
        try:
            if not cannot_write(target):
                pytest.skip("cannot make a folder read-only here")
            out = subprocess.run([sys.executable, "-m", "bot", "--corpus", str(CORPUS), "--index", str(target), "index"],
                                 capture_output=True, cwd=ROOT, env=ENV, timeout=300, **without_root_powers())
        finally:
            make_writable(target)
    assert_one_line_error(out)


# --- concurrency: two builds, the lock, a reader racing a commit ---------------------------------


def test_two_builds_at_once_corrupt_nothing(index_dir: Path, tmp_path: Path) -> None:
    folder = copy_index(index_dir, tmp_path / "index")
    old = generation(folder).name
    crashed = folder / ".tmp-20200101T000000000000-1"  # what an earlier killed build left behind
    crashed.mkdir()
    (crashed / "store.json").write_text('{"documents": [')

    procs = [build_process(folder) for _ in range(2)]
    outs = finish(procs)
    for p, (stdout, stderr) in zip(procs, outs, strict=True):
        assert p.returncode == 0, stderr[-2000:]
        assert stdout.startswith("index built in "), stdout
    built = [Path(stdout.split("index built in ", 1)[1].split()[0]).name for stdout, _ in outs]
    assert len(set(built)) == 2 and old not in built  # the lock made them take turns: two whole builds

    current = (folder / CURRENT).read_text().strip()
    assert current == max(built)  # the later build is current (generation names sort by build time)
    generations = {p.name for p in folder.iterdir() if p.is_dir()} - {SHARED_MODELS}  # models/: the ONNX export they share
    assert current in generations and generations <= set(built), generations  # the first build's may stay as the previous one
    assert {p.name for p in folder.iterdir() if not p.is_dir()} == {CURRENT, LOCK}  # no CURRENT temp file
    assert not (folder / old).exists() and not crashed.exists() and not list(folder.glob(".tmp-*"))
    assert not list((folder / SHARED_MODELS).glob(".tmp-*"))  # nor a half-written model export
    load_index(folder, Settings())
    assert staleness(CORPUS, folder, Settings()) is None
    assert answers_the_fine(Bot.load(CORPUS, folder))


def test_a_held_lock_is_index_busy_and_readers_do_not_wait(index_dir: Path, tmp_path: Path, monkeypatch) -> None:  # noqa: ANN001
    folder = copy_index(index_dir, tmp_path / "index")
    current = (folder / CURRENT).read_text()
    fd = os.open(folder / LOCK, os.O_RDWR | os.O_CREAT, 0o644)
    fcntl.flock(fd, fcntl.LOCK_EX)  # another process's build, as far as filelock can tell (a separate open file)
    try:
        monkeypatch.setattr(index_mod, "LOCK_TIMEOUT_S", 0.5)
        started = time.monotonic()
        with pytest.raises(IndexBusyError) as err:
            build_index(CORPUS, folder, Settings())
        assert time.monotonic() - started < 30
        assert str(folder / LOCK) in str(err.value) and "wait for it" in str(err.value)
        started = time.monotonic()
        assert answers_the_fine(Bot.load(CORPUS, folder))  # loading a current index never takes the lock
        assert time.monotonic() - started < 60
    finally:
        os.close(fd)
    assert (folder / CURRENT).read_text() == current and not list(folder.glob(".tmp-*"))


def test_a_reader_survives_its_generation_being_replaced_and_removed(index_dir: Path, tmp_path: Path, monkeypatch) -> None:  # noqa: ANN001
    """A process reads CURRENT, then, while it checks the files, another build commits and the generation
    it was reading is deleted (the worst case: two commits in a row, or an older clean-up policy). The
    interleaving is forced, but it is the real one of an app starting during `python -m bot index`."""
    folder = copy_index(index_dir, tmp_path / "index")
    old = generation(folder)
    real_sha256 = index_mod._sha256
    committed: list[str] = []

    def commit_of_another_build_then_hash(path: Path) -> str:
        if not committed:
            new = folder / "29991231T000000000000-1"
            shutil.copytree(old, new)
            tmp = folder / ".CURRENT.test.tmp"
            tmp.write_text(new.name)
            os.replace(tmp, folder / CURRENT)
            shutil.rmtree(old)
            committed.append(new.name)
        return real_sha256(path)

    monkeypatch.setattr(index_mod, "_sha256", commit_of_another_build_then_hash)
    index = load_index(folder, Settings())
    assert committed and Path(index.folder).name == committed[0] and index.chunk_faiss.ntotal > 0


# --- feedback: a writer killed mid-append -------------------------------------------------------

_WRITER = r"""
import sys
from bot.feedback import append_feedback
path, name, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
for i in range(count):
    append_feedback(path, {"proc": name, "i": i, "pad": "z" * (9000 if i % 5 == 0 else 20)})
    print(i, flush=True)  # acknowledged: append_feedback has returned (written and fsync'ed)
"""


def test_a_feedback_writer_killed_mid_append_loses_nothing_already_written(tmp_path: Path) -> None:
    path = tmp_path / "feedback.jsonl"
    start = lambda name, n: subprocess.Popen([sys.executable, "-c", _WRITER, str(path), name, str(n)],  # noqa: E731
                                              cwd=ROOT, env=ENV, stdout=subprocess.PIPE, text=True)
    victim = start("victim", 100_000)
    watchdog = threading.Timer(120, victim.kill)  # bounded even if something hangs
    watchdog.start()
    others = [start(f"other-{k}", 150) for k in range(2)]
    acked = -1
    try:
        for line in victim.stdout:  # type: ignore[union-attr]
            acked = int(line)
            if acked >= 120:
                victim.send_signal(signal.SIGKILL)  # somewhere inside its next append
                break
    finally:
        watchdog.cancel()
        if victim.poll() is None:
            victim.kill()
        victim.wait(timeout=60)
    for p in others:
        p.communicate(timeout=120)
        assert p.returncode == 0
    assert acked >= 120, "the writer died before the kill"

    got = read_feedback(path)
    assert got.skipped <= 1  # at most the one line the kill cut short
    victim_is = [r["i"] for r in got if r["proc"] == "victim"]
    assert victim_is == list(range(len(victim_is))) and len(victim_is) >= acked + 1  # all acknowledged ones, in order, no gap
    for k in range(2):
        assert [r["i"] for r in got if r["proc"] == f"other-{k}"] == list(range(150))
    append_feedback(path, {"proc": "after", "i": 0})
    again = read_feedback(path)
    assert again[-1] == {"proc": "after", "i": 0} and len(again) == len(got) + 1 and again.skipped == got.skipped
