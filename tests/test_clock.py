"""The tests whose answers could change with the calendar, run again with the system clock moved.

Test helpers date their records on fixed days of 2026, and reports read the current local year, day and
deadline: a test that forgets to set the clock passes today and fails on 1 January 2027 in Hà Nội
(2026-12-31 17:00 UTC), failing every run after it. This runs those modules (marked `calendar`) in a child
pytest under libfaketime (`faketime`, installed by .ci/run), which moves every clock of the process: Python's,
SQLite's and the libraries'. The child uses this run's database setting (PostgreSQL's own clock is not moved).

To run the whole suite moved: `faketime '2027-01-02 00:00:00' make test`.
"""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FAKETIME = shutil.which("faketime")

# The modules marked `calendar` (pytestmark) are those whose app code reads the current local year or day: stats'
# default period, the national programme's year, the counters' year, an intake report's "as of", a partner's "not
# in the future", a certificate serial's year. Mark a module when its answers depend on local_today, current_year
# or the local date of utcnow().
MIN_CALENDAR_TESTS = 100  # about 170 today: the child must not quietly select nothing

MOMENTS = {
    "1 January 2027 UTC": "2027-01-01 00:00:00 UTC",
    "new year's midnight in Hà Nội": "2026-12-31 17:00:00 UTC",  # 2027-01-01 00:00 +07
}


def moved(moment: str, *command: str) -> subprocess.CompletedProcess:
    # When this run is itself under faketime, its settings are dropped: the child's clock is moved from the
    # real one, not from the already moved one.
    env = {k: v for k, v in os.environ.items() if not k.startswith("FAKETIME") and k != "LD_PRELOAD"}
    env |= {"TZ": "UTC", "PYTHONDONTWRITEBYTECODE": "1"}
    return subprocess.run([FAKETIME, moment, *command], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=900)


@pytest.mark.skipif(FAKETIME is None, reason="faketime is not installed (.ci/run installs it)")
@pytest.mark.parametrize("moment", list(MOMENTS.values()), ids=list(MOMENTS))
def test_date_sensitive_tests_pass_with_the_clock_moved(moment):
    probe = moved(moment, sys.executable, "-c",
                  "from app.core.localtime import local_today; from app.models.base import utcnow; "
                  "print(utcnow().date(), local_today().year)")
    assert probe.returncode == 0, probe.stderr
    assert probe.stdout.split() == [moment[:10], "2027"]  # the clock really moved

    run = moved(moment, sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-m", "calendar", "tests")
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-2000:]
    passed = re.search(r"(\d+) passed", run.stdout)
    assert passed and int(passed.group(1)) >= MIN_CALENDAR_TESTS, run.stdout[-2000:]
