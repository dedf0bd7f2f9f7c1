"""The benchmark's measurements, one module a family, on one harness (harness.py); scripts/bench runs them."""
