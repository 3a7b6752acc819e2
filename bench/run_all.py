"""Run every benchmark in bench/ and print its figures: `./run bench [--db D] [--quick]
[--analytics-million]`.

Exits non-zero only when a benchmark could not run or requests failed, never for a
missed target. Results are also written as JSON under bench/results/.
"""

import signal
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import analytics  # noqa: E402
import history_import  # noqa: E402
import intake  # noqa: E402
import messaging  # noqa: E402
import ocr  # noqa: E402
import outreach_pages  # noqa: E402
import outreach_relationship  # noqa: E402
import ui_pages  # noqa: E402

BENCHMARKS = [
    intake,
    ui_pages,
    outreach_pages,
    outreach_relationship,
    ocr,
    messaging,
    analytics,
    history_import,
]
# The analytics benchmark measures 10,000 referrals here; 1,000,000 takes tens of minutes
# (loading and building facts, mostly) and runs only when asked for.
MILLION = "--analytics-million"


def main(argv: list[str]) -> int:
    million = MILLION in argv
    argv = [arg for arg in argv if arg != MILLION]
    status = 0
    for benchmark in BENCHMARKS:
        if benchmark is analytics:
            sizes = "10000,1000000" if million else "10000"
            status |= benchmark.main([*argv, "--sizes", sizes])
        else:
            status |= benchmark.main(argv)
    return status


if __name__ == "__main__":
    # A TERM (a CI timeout, a killed shell) unwinds like Ctrl-C, so servers and
    # throwaway databases are cleaned up by the benchmarks' finally blocks.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    sys.exit(main(sys.argv[1:]))
