"""Output files: permissions follow the umask, and a write killed half-way leaves the old file
or nothing, never a partial file (fast, no CLI)."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from msmult.fileio import write_text

WRITER = """
import sys, time
from pathlib import Path
from msmult.fileio import write_with

def slow_writer(path):
    with open(path, "w") as handle:
        handle.write("PARTIAL" * 1000)
        handle.flush()
        Path(sys.argv[2]).write_text("writing")  # tell the parent the temporary file is half full
        time.sleep(60)
        handle.write("END")

write_with(Path(sys.argv[1]), slow_writer)
"""


@pytest.fixture
def umask():
    def set_mask(mask: int) -> None:
        os.umask(mask)

    before = os.umask(0o022)
    os.umask(before)
    yield set_mask
    os.umask(before)


@pytest.mark.parametrize(("mask", "mode"), [(0o022, 0o644), (0o027, 0o640), (0o077, 0o600)])
def test_written_files_get_the_mode_the_umask_allows(tmp_path, umask, mask, mode):
    umask(mask)
    target = tmp_path / "report.json"
    write_text(target, "{}")
    assert target.stat().st_mode & 0o777 == mode
    write_text(target, "{}")  # replacing an existing file: same rule
    assert target.stat().st_mode & 0o777 == mode


@pytest.mark.parametrize("existed", [True, False])
def test_a_write_killed_midway_leaves_the_old_file_or_nothing(tmp_path, existed):
    target, started = tmp_path / "report.json", tmp_path / "started"
    if existed:
        target.write_text("OLD")
    process = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(target), str(started)],
        cwd=Path(__file__).resolve().parents[1],
    )
    deadline = time.monotonic() + 60
    while not started.exists() and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.05)
    assert started.exists(), "the writer never started"
    assert any(p.name.startswith(".report.json.") for p in tmp_path.iterdir())  # mid-write
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    if existed:
        assert target.read_text() == "OLD"
    else:
        assert not target.exists()
