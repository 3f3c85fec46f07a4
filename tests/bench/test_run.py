from bench.run import machine_share, machine_ticks


def test_machine_share_gives_stolen_and_idle_time_as_shares_of_all_cpu_time():
    before = [100, 0, 50, 1000, 0, 0, 0, 10]
    after = [130, 0, 60, 1070, 0, 0, 0, 20]  # 30 user, 10 system, 70 idle, 10 stolen: 120 ticks in all
    assert machine_share(before, after) == "machine 8% stolen, 58% idle"


def test_machine_share_says_nothing_without_proc():
    assert machine_share(None, [0] * 8) == ""


def test_machine_ticks_reads_eight_counters_that_only_grow():
    first = machine_ticks()
    if first is None:  # no /proc on this system
        return
    assert len(first) == 8
    assert all(b >= a for a, b in zip(first, machine_ticks(), strict=True))
