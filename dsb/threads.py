"""Keep a job's math libraries to the cores Snakemake gave it.

Snakemake exports OMP_NUM_THREADS and friends from its own core count, not the job's; a
one-core training job then runs OpenMP/MKL worker threads that spin on the core a neighbouring
job is using, which made training several times slower on a 2-core machine. This must run
before numpy or torch are imported.
"""

import os

THREAD_VARIABLES = (
    "OMP_NUM_THREADS",
    "MKL_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "NUMEXPR_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
    "GOTO_NUM_THREADS",
)


def limit_threads(n: int) -> None:
    for name in THREAD_VARIABLES:
        os.environ[name] = str(max(1, int(n)))
