"""The Django site the benchmarks serve: refloop unchanged, plus a bare one-row insert view."""
