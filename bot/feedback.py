"""Reader feedback (thumbs up/down per answer), kept durably in a local JSON Lines file.

Each record is one line written by a single `os.write` on a file opened with O_APPEND, under an
exclusive `fcntl.flock` (O_APPEND alone makes a write atomic against other appenders only up to
PIPE_BUF bytes, and a record may be larger), then fsync'ed before the call returns. Appending never
rewrites what is already there, so a failed or interrupted write can at worst leave a partial last
line: the next append starts on a fresh line, and `read_feedback` skips (and counts) lines that are
not whole JSON objects instead of failing. POSIX only (fcntl), like the rest of the deployment.

No gradio here: the app calls these from its event handlers.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
from pathlib import Path
from typing import Any

log = logging.getLogger("bot.feedback")

DEFAULT_FEEDBACK_PATH = Path("feedback") / "feedback.jsonl"


class FeedbackRecords(list):
    """The records of a feedback file (a plain list of dicts) with `skipped`: lines that were not records."""

    skipped: int = 0


def append_feedback(path: str | os.PathLike[str], record: dict[str, Any]) -> None:
    """Append `record` as one JSON line to `path` (folders created), durably, safe across threads and processes."""
    if not isinstance(record, dict):
        raise TypeError(f"A feedback record must be a dict, not {type(record).__name__}.")
    # json.dumps escapes newlines inside strings, so the record is exactly one line.
    data = (json.dumps(record, ensure_ascii=False, separators=(",", ":"), default=str) + "\n").encode("utf-8")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            size = os.fstat(fd).st_size
            if size and os.pread(fd, 1, size - 1) != b"\n":
                # An earlier write was torn (crash, full disk): end its fragment so this record stays whole.
                data = b"\n" + data
            written = os.write(fd, data)
            while written < len(data):  # a short write (signal, nearly full disk): finish the line
                written += os.write(fd, data[written:])
            os.fsync(fd)
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def read_feedback(path: str | os.PathLike[str]) -> FeedbackRecords:
    """Every whole record of the file, oldest first; a missing file is empty.

    A line that is not a JSON object (a torn last line, or the fragment an interrupted write left
    behind) is skipped and counted in the result's `skipped`, never raised.
    """
    out = FeedbackRecords()
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError:
        return out
    try:
        fcntl.flock(fd, fcntl.LOCK_SH)  # not in the middle of someone's append
        try:
            with os.fdopen(os.dup(fd), "rb") as f:
                raw = f.read()
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
    for line in raw.split(b"\n"):
        if not line.strip():
            continue
        try:
            record = json.loads(line.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            record = None
        if isinstance(record, dict):
            out.append(record)
        else:
            out.skipped += 1
    if out.skipped:
        log.warning("%s: skipped %d line(s) that are not whole feedback records (an interrupted write)", path, out.skipped)
    return out
