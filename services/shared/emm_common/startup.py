"""Start-up against dependencies that may not be up yet: say so in one clear line, keep trying."""

from __future__ import annotations

import asyncio
import logging
from typing import Awaitable, Callable

log = logging.getLogger("emm.startup")


async def retry_until_reachable(name: str, where: str, attempt: Callable[[], Awaitable[object]],
                                first_delay: float = 0.5, max_delay: float = 10.0) -> None:
    """Run `attempt` until it succeeds, logging one line per failure with where and why."""
    delay = first_delay
    while True:
        try:
            await attempt()
            return
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.warning("cannot reach %s at %s (%s: %s); retrying in %.1fs", name, where, type(exc).__name__,
                        exc, delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, max_delay)
