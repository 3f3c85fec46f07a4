import os

from bench.run import machine_counters, machine_share


def test_machine_share_gives_stolen_idle_and_disk_time_and_the_files_read_again():
    before = [100, 0, 50, 1000, 0, 0, 0, 10, 500]
    # 30 user, 10 system, 70 idle, 6 waiting on disk, 4 stolen: 120 ticks in all; 2,000 pages read again
    after = [130, 0, 60, 1070, 6, 0, 0, 14, 2500]
    mb = 2000 * os.sysconf("SC_PAGE_SIZE") / 1e6
    assert machine_share(before, after) == (
        f"machine 3% stolen, 58% idle, 5% waiting on disk, {mb:,.0f} MB of evicted files read again")


def test_machine_share_says_nothing_without_proc():
    assert machine_share(None, [0] * 9) == ""


def test_machine_counters_are_nine_that_only_grow():
    first = machine_counters()
    if first is None:  # no /proc on this system
        return
    assert len(first) == 9
    assert all(b >= a for a, b in zip(first, machine_counters(), strict=True))
