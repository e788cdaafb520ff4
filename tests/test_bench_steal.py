"""The benchmark's host-steal figure: the right column of /proc/stat, as a share."""

import os

import psutil
import pytest

from bench.procs import host_cpu_ticks, steal_share


def test_steal_share_is_the_hosts_part_of_the_ticks_between_two_readings() -> None:
    assert steal_share((10, 1000), (30, 1200)) == pytest.approx(0.1)
    assert steal_share((5, 1000), (5, 1000)) == 0.0  # no time passed: no division by zero


def test_host_cpu_ticks_reads_the_steal_column_of_the_machines_cpu_line() -> None:
    ticks_per_second = os.sysconf("SC_CLK_TCK")
    steal, total = host_cpu_ticks()
    times = psutil.cpu_times()
    assert 0 <= steal <= total
    # psutil reads the same line in seconds; a tick or two may pass between the reads.
    assert abs(steal - times.steal * ticks_per_second) <= 2 * psutil.cpu_count()
    everything = sum(getattr(times, name) for name in ("user", "nice", "system", "idle"))
    assert total >= everything * ticks_per_second - 2 * psutil.cpu_count()
