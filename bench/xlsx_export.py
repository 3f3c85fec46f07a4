"""Time and peak memory of writing the completion export as XLSX, without a database: the writer alone.

    .venv/bin/python -m bench.xlsx_export [ROWS]     (default 100000)

Rows have the completion export's 15 columns (app/services/stats/completion_export.py) and arrive in batches of
1,000, as they do from the server-side cursor. Prints seconds, file size and the growth of the process's RSS.
"""

import asyncio
import sys
import time
import uuid
from datetime import UTC, datetime

import psutil

from app.core.spreadsheets import Sheet, xlsx_stream
from app.services.stats.completion_export import XLSX_COLUMNS


async def measure(total: int) -> str:
    async def batches():  # noqa: ANN202
        for _ in range(total // 1000):
            yield [[datetime(2026, 12, 3, 23, 30, tzinfo=UTC), "Nguyễn Thị Hồng Nhung", "Kỹ năng số cơ bản",
                    "ky-nang-so-co-ban", 1, "Người dân", "Hà Nội", "01", "Hà Nội", "01", "Học trên nền tảng",
                    None, None, str(uuid.uuid4()), str(uuid.uuid4())] for _ in range(1000)]

    process = psutil.Process()
    baseline = peak = process.memory_info().rss
    size, started = 0, time.perf_counter()
    async for chunk in xlsx_stream([Sheet("Lượt hoàn thành", XLSX_COLUMNS, batches())]):
        size += len(chunk)
        peak = max(peak, process.memory_info().rss)
    return (f"{total} rows: {time.perf_counter() - started:.1f} s, {size / 1e6:.1f} MB file, "
            f"RSS growth {(peak - baseline) / 1e6:.1f} MB")


if __name__ == "__main__":
    print(asyncio.run(measure(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000)))
