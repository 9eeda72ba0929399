"""What the benchmarks share: percentiles, the machine they ran on, a Markdown table, clean-up."""

from __future__ import annotations

import os
from pathlib import Path

from aiokafka.admin import AIOKafkaAdminClient

from tests.conftest import KAFKA


def percentile(values: list[float], q: float) -> float:
    """The value below which a fraction `q` of `values` lies (nearest rank, no interpolation)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def load_average() -> str:
    return "{:.2f} {:.2f} {:.2f}".format(*os.getloadavg())


def machine() -> str:
    """CPU model and count, memory and the load average now: the figures depend on them."""
    cpuinfo = Path("/proc/cpuinfo").read_text().splitlines()
    models = sorted({line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name")})
    processors = sum(1 for line in cpuinfo if line.startswith("processor"))
    memory_kib = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                      if line.startswith("MemTotal:"))
    return (f"{processors} processors ({', '.join(models) or 'model unknown'}), "
            f"nproc {len(os.sched_getaffinity(0))}, {memory_kib / 2**20:.1f} GiB memory, "
            f"load average {load_average()} (1, 5, 15 min)")


def markdown_table(header: tuple[str, ...], rows: list[tuple[str, ...]]) -> str:
    """Rows as a Markdown table with aligned columns, so a run's output can go into the README."""
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]

    def line(row: tuple[str, ...]) -> str:
        return "| " + " | ".join(cell.ljust(width) for cell, width in zip(row, widths)) + " |"

    return "\n".join([line(header), "|" + "|".join("-" * (width + 2) for width in widths) + "|",
                      *(line(row) for row in rows)])


async def delete_topics(prefix: str) -> None:
    """Delete every topic whose name starts with `prefix` (a benchmark's own topics)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=KAFKA)
    await admin.start()
    try:
        mine = [name for name in await admin.list_topics() if name.startswith(prefix)]
        if mine:
            await admin.delete_topics(mine)
    finally:
        await admin.close()
