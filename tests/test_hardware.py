"""The thread budget: a container's CPU quota, OMP_NUM_THREADS and --threads respected, and the
cores shared among the ovid jobs running on one machine."""
from __future__ import annotations

import os

import pytest

from ovid import hardware


def test_the_cgroup_quota_caps_the_cores(tmp_path):
    (tmp_path / "cpu.max").write_text("150000 100000\n")
    assert hardware.cpu_quota(str(tmp_path)) == 1.5
    (tmp_path / "cpu.max").write_text("max 100000\n")
    assert hardware.cpu_quota(str(tmp_path)) is None
    v1 = tmp_path / "v1"
    (v1 / "cpu").mkdir(parents=True)
    (v1 / "cpu" / "cpu.cfs_quota_us").write_text("300000")
    (v1 / "cpu" / "cpu.cfs_period_us").write_text("100000")
    assert hardware.cpu_quota(str(v1)) == 3.0
    (v1 / "cpu" / "cpu.cfs_quota_us").write_text("-1")
    assert hardware.cpu_quota(str(v1)) is None


def test_live_jobs_count_running_processes_and_clear_ended_ones(tmp_path):
    (tmp_path / str(os.getpid())).touch()
    (tmp_path / str(os.getppid())).touch()
    dead = tmp_path / "4194303"  # above Linux's pid_max default: no such process
    dead.touch()
    (tmp_path / "notes.txt").touch()  # not a pid: cleared too
    assert hardware.live_jobs(tmp_path) == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([str(os.getpid()), str(os.getppid())])
    assert hardware.live_jobs(tmp_path / "none") == 1  # no folder yet: this process alone


def test_the_budget_shares_cores_and_yields_to_what_the_user_set(monkeypatch):
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    monkeypatch.delenv(hardware.THREADS_ENV, raising=False)
    monkeypatch.setattr(hardware, "cores", lambda: 8)
    assert [hardware.thread_budget(jobs) for jobs in (1, 2, 3, 16)] == [8, 4, 2, 1]
    monkeypatch.setenv("OMP_NUM_THREADS", "3")
    assert hardware.thread_budget(2) == 3
    monkeypatch.setenv(hardware.THREADS_ENV, "5")
    assert hardware.thread_budget(2) == 5
    hardware.set_threads(6)
    try:
        assert hardware.thread_budget(2) == 6
    finally:
        hardware.set_threads(None)


def test_a_job_folder_ovid_did_not_make_is_not_used(tmp_path, monkeypatch):
    target = tmp_path / "elsewhere"
    target.mkdir()
    link = tmp_path / "jobs"
    link.symlink_to(target)
    monkeypatch.setattr(hardware, "_registered", False)
    hardware.register_job(link)
    assert not any(target.iterdir())  # nothing written through the link
    monkeypatch.setattr(hardware, "_registered", True)


@pytest.mark.parametrize("value", ["0", "x", ""])
def test_a_meaningless_thread_setting_falls_back_to_the_budget(monkeypatch, value):
    monkeypatch.setattr(hardware, "cores", lambda: 4)
    monkeypatch.setenv("OMP_NUM_THREADS", value)
    monkeypatch.delenv(hardware.THREADS_ENV, raising=False)
    assert hardware.thread_budget(1) == 4
