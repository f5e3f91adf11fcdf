"""What a server process does once, when its app has started and before its first request.

Python's cyclic garbage collector, left at its defaults, cost a server a sixth of its CPU. Two things
made it so (measured on the gateway, bench/README.md):

- It examines the youngest objects every 700 net allocations of container objects, and a request
  allocates hundreds (ASGI messages, header lists, coroutines, models). With 32–64 requests in
  flight, every such collection walked all their live objects again before promoting them; each
  request's objects are freed by reference counting anyway when it ends, so most of that work found
  nothing. The threshold is raised to 10,000: the same garbage is found, by fewer, larger passes.
- A full collection walks every object the process holds, and ~150,000 of them (FastAPI's,
  pydantic's and SQLAlchemy's, the routes, the models) are made at start-up and live as long as the
  process: 77 ms per full collection in staffing_api. ``gc.freeze`` sets them aside once.
"""

from __future__ import annotations

import gc

GEN0_THRESHOLD = 10_000
_settled = False


def settle_heap() -> None:
    """Once per process (the test suite starts many apps in one): freeze what start-up built and
    make the youngest generation's collections rarer."""
    global _settled
    if _settled:
        return
    _settled = True
    gc.collect()
    gc.freeze()
    _, middle, oldest = gc.get_threshold()
    gc.set_threshold(GEN0_THRESHOLD, middle, oldest)
