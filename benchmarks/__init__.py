"""Scripts that regenerate every table, figure and speed figure into benchmarks/results/."""
