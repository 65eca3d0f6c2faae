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
from msmult.sweep import check_writable

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


def unwritable_folders(tmp_path: Path) -> dict[str, Path]:
    a_file = tmp_path / "a_file"
    a_file.write_text("not a folder")
    folders = {"proc": Path("/proc/msmult-cannot-be-here"), "under_a_file": a_file / "run"}
    if os.geteuid() != 0:  # root writes into read-only folders
        read_only = tmp_path / "read_only"
        read_only.mkdir(mode=0o555)
        folders["read_only"] = read_only / "run"
    return folders


@pytest.mark.parametrize("kind", ["proc", "under_a_file", "read_only"])
def test_an_unwritable_output_folder_stops_with_a_message_naming_it(tmp_path, kind):
    folder = unwritable_folders(tmp_path).get(kind)
    if folder is None:
        pytest.skip("running as root: a read-only folder is writable")
    with pytest.raises(SystemExit) as stopped:
        check_writable(folder, "hydra.run.dir")
    message = str(stopped.value.code)
    assert message.startswith(f"The output folder {folder} cannot be created or written (")
    assert message.endswith("Choose a writable folder with hydra.run.dir=PATH.")


def test_a_writable_output_folder_is_created_and_left_empty(tmp_path):
    check_writable(tmp_path / "new" / "run", "hydra.run.dir")
    assert list((tmp_path / "new" / "run").iterdir()) == []
