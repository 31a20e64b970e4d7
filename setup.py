"""The optional C extension; everything else about the package is in pyproject.toml.

dagrad._moments takes the statistics of large CPU tensors in one pass (backend/dagrad/_moments.c).
It is optional: where it cannot be compiled (no C compiler), pip installs dagrad without it and
dagrad.payload uses PyTorch's reductions instead, with the same results, more slowly.
"""

import sys

from setuptools import Extension, setup

# -O3: GCC's -O2 (Debian's Python builds with it) vectorises none of the kernel's loops.
flags = [] if sys.platform == "win32" else ["-O3"]

setup(
    ext_modules=[
        Extension("dagrad._moments", ["backend/dagrad/_moments.c"], optional=True, extra_compile_args=flags),
    ]
)
