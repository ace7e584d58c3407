"""``-o`` never destroys what it should not: platform files need --force, special files are
refused, symlinks are written through, a missing or read-only folder is one line (exit 2)."""

from __future__ import annotations

import json
import os
import shutil
import socket
import stat
from pathlib import Path

import pytest

from models.atomic import OutputError, write_atomic
from tests import DATA
from tests.cli import drplan

#: Five hosts, one app of four containers: every writing command runs on it in well under 1 s.
SHOP = DATA / "shop_web_loses_a_host.yaml"
#: A platform with backup sites, for ``backups plan``.
EVERY_CASE = DATA / "three_datacenters_every_recovery_case.yaml"


@pytest.fixture
def shop(tmp_path: Path) -> Path:
    """A copy of the shop platform in a temporary folder."""
    return Path(shutil.copy(SHOP, tmp_path / "shop.yaml"))


FAST = ("--time-limit", "1")


def _commands(platform: Path, out: Path) -> dict[str, list[str]]:
    return {
        "fail host": ["fail", "host", "h1", "-f", str(platform), *FAST, "-o", str(out)],
        "fail datacenter": ["fail", "datacenter", "dc-a", str(platform), *FAST, "-o", str(out)],
        "backups plan": ["backups", "plan", str(platform), "-o", str(out)],
        "report": ["report", str(platform), "--workers", "1", "--no-headroom", "-o", str(out)],
        "audit": ["audit", str(platform), "--workers", "1", "--no-headroom", "-o", str(out)],
        "place": ["place", str(platform), "-o", str(out)],
        "drain": ["drain", "h1", str(platform), *FAST, "-o", str(out)],
    }


@pytest.mark.parametrize("command", list(_commands(Path(), Path())))
def test_output_onto_the_input_platform_needs_force(shop: Path, command: str) -> None:
    before = shop.read_bytes()
    result = drplan(*_commands(shop, shop)[command])
    assert result.exit_code == 2, result.output
    assert result.stderr.splitlines() == [f"{shop}: is the input file; pass --force to replace it"]
    assert shop.read_bytes() == before


def test_output_onto_another_platform_file_needs_force(shop: Path, tmp_path: Path) -> None:
    other = Path(shutil.copy(EVERY_CASE, tmp_path / "other.yaml"))
    before = other.read_bytes()
    result = drplan("fail", "host", "h1", "-f", str(shop), *FAST, "-o", str(other))
    assert result.exit_code == 2
    assert "is a platform file; pass --force" in result.stderr
    assert other.read_bytes() == before


def test_force_replaces_the_platform_file(shop: Path) -> None:
    result = drplan("fail", "host", "h1", "-f", str(shop), *FAST, "-o", str(shop), "--force")
    assert result.exit_code in (0, 1), result.output
    assert json.loads(shop.read_text())["scenario"]["targets"] == ["h1"]


def test_an_old_plan_is_replaced_without_force(shop: Path, tmp_path: Path) -> None:
    out = tmp_path / "plan.json"
    out.write_text('{"status": "optimal"}\n')
    result = drplan("fail", "host", "h2", "-f", str(shop), *FAST, "-o", str(out))
    assert result.exit_code in (0, 1), result.output
    assert json.loads(out.read_text())["scenario"]["targets"] == ["h2"]


def test_dash_writes_the_plan_to_stdout_only(shop: Path) -> None:
    result = drplan("fail", "host", "h1", "-f", str(shop), *FAST, "-o", "-")
    assert result.exit_code in (0, 1)
    assert json.loads(result.stdout)["scenario"]["targets"] == ["h1"]


def test_a_fifo_is_refused_and_stays_a_fifo(shop: Path, tmp_path: Path) -> None:
    fifo = tmp_path / "out.fifo"
    os.mkfifo(fifo)
    for args in _commands(shop, fifo).values():
        result = drplan(*args)
        assert result.exit_code == 2, (args, result.output)
        assert result.stderr.splitlines() == [
            f"{fifo}: is a FIFO, not a regular file; refusing to replace it "
            "(use -o - to write to stdout)"
        ]
        assert stat.S_ISFIFO(fifo.lstat().st_mode)


def test_a_socket_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "s.sock"
    with socket.socket(socket.AF_UNIX) as server:
        server.bind(str(path))
        with pytest.raises(OutputError, match="is a socket"):
            write_atomic(path, "x")
        assert stat.S_ISSOCK(path.lstat().st_mode)


@pytest.mark.skipif(os.geteuid() != 0, reason="making a device node needs root")
def test_a_device_node_is_refused_and_kept(shop: Path, tmp_path: Path) -> None:
    device = tmp_path / "null"
    os.mknod(device, stat.S_IFCHR | 0o666, os.makedev(1, 3))  # the same device as /dev/null
    result = drplan("fail", "host", "h1", "-f", str(shop), *FAST, "-o", str(device))
    assert result.exit_code == 2
    assert "is a character device" in result.stderr
    assert stat.S_ISCHR(device.lstat().st_mode)


def test_a_symlink_is_written_through_and_stays_a_link(shop: Path, tmp_path: Path) -> None:
    target = tmp_path / "real.json"
    target.write_text("{}\n")
    link = tmp_path / "link.json"
    link.symlink_to(target)
    result = drplan("fail", "host", "h1", "-f", str(shop), *FAST, "-o", str(link))
    assert result.exit_code in (0, 1), result.output
    assert link.is_symlink() and link.resolve() == target
    assert json.loads(target.read_text())["scenario"]["targets"] == ["h1"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link.json", "real.json", "shop.yaml"]


def test_a_symlink_to_the_input_needs_force(shop: Path, tmp_path: Path) -> None:
    link = tmp_path / "link.yaml"
    link.symlink_to(shop)
    result = drplan("fail", "host", "h1", "-f", str(shop), *FAST, "-o", str(link))
    assert result.exit_code == 2
    assert "is the input file" in result.stderr


@pytest.mark.parametrize("command", list(_commands(Path(), Path())))
def test_a_missing_folder_is_one_line(shop: Path, tmp_path: Path, command: str) -> None:
    out = tmp_path / "missing" / "out.json"
    result = drplan(*_commands(shop, out)[command])
    assert result.exit_code == 2, result.output
    assert result.stderr.splitlines() == [
        f"{out}: the folder {tmp_path / 'missing'} does not exist"
    ]


def test_example_and_generate_into_a_missing_folder(tmp_path: Path) -> None:
    out = tmp_path / "missing" / "p.yaml"
    generate = ["generate", "--hosts", "3", "--apps", "1", "--databases", "0"]
    for args in (["example", "-o", str(out)], [*generate, "-o", str(out)]):
        result = drplan(*args)
        assert result.exit_code == 2
        assert result.stderr.splitlines() == [f"{out}: the folder {out.parent} does not exist"]


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes in every folder")
def test_a_read_only_folder_is_one_line(shop: Path, tmp_path: Path) -> None:
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        result = drplan("fail", "host", "h1", "-f", str(shop), *FAST, "-o", str(folder / "p.json"))
    finally:
        folder.chmod(0o700)
    assert result.exit_code == 2
    assert "permission denied" in result.stderr


def test_write_failure_after_the_check_is_one_line(
    shop: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken_replace(src: str, dst: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", broken_replace)
    out = tmp_path / "plan.json"
    result = drplan("fail", "host", "h1", "-f", str(shop), *FAST, "-o", str(out))
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [f"{out}: cannot write: No space left on device"]
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["shop.yaml"]
