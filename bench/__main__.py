"""Run every benchmark module in ``bench/`` that exists: ``python -m bench [names...]``."""

from __future__ import annotations

import importlib
import sys
import time

MODULES = ("bench_tag", "bench_recurrence", "bench_read")


def main(argv: list[str] | None = None) -> int:
    """Run the named benchmarks (default: all), each module's ``main()``."""
    names = argv if argv else list(MODULES)
    ran = 0
    for name in names:
        try:
            module = importlib.import_module(f"bench.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"bench.{name}":
                print(f"[bench] {name}: not present, skipped")
                continue
            raise
        print(f"\n=== {name} ===", flush=True)
        t0 = time.perf_counter()
        module.main([])
        print(f"[bench] {name} took {time.perf_counter() - t0:.1f} s", flush=True)
        ran += 1
    return 0 if ran else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
