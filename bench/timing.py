"""A median-of-N timer: warms up first, synchronizes CUDA around each call, and interleaves
the functions it compares so that load from other processes hits them all alike."""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import platform
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass

import torch


@dataclass
class Timing:
    """Wall times of one function, in seconds."""

    samples: list[float]

    @property
    def median_ms(self) -> float:
        return statistics.median(self.samples) * 1e3

    @property
    def p95_ms(self) -> float:
        ordered = sorted(self.samples)
        return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))] * 1e3

    @property
    def min_ms(self) -> float:
        return min(self.samples) * 1e3


def sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def time_call(fn: Callable[[], object], device: str) -> float:
    sync(device)
    start = time.perf_counter()
    fn()
    sync(device)
    return time.perf_counter() - start


def compare(fns: dict[str, Callable[[], object]], *, rounds: int, warmup: int, device: str) -> dict[str, Timing]:
    """Time each function `rounds` times after `warmup` untimed calls each.

    Round r calls every function once, starting from a different one each round, so slow
    spells of a shared machine are spread over all of them rather than over one.
    """
    names = list(fns)
    for name in names:
        for _ in range(warmup):
            fns[name]()
    sync(device)
    gc.collect()
    samples: dict[str, list[float]] = {name: [] for name in names}
    for r in range(rounds):
        for k in range(len(names)):
            name = names[(r + k) % len(names)]
            samples[name].append(time_call(fns[name], device))
    return {name: Timing(s) for name, s in samples.items()}


def measure(fn: Callable[[], object], *, repeat: int, warmup: int, device: str) -> Timing:
    return compare({"fn": fn}, rounds=repeat, warmup=warmup, device=device)["fn"]


def keep_freed_memory() -> None:
    """glibc: a fixed mmap threshold of 32 MiB (its maximum) and a trim threshold of 1 GiB, so
    that freed tensors below 32 MiB stay mapped and are reused without page faults."""
    if not glibc():
        raise SystemExit("--keep-freed-memory needs glibc's malloc (mallopt)")
    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    m_trim_threshold, m_mmap_threshold = -1, -3
    if libc.mallopt(m_mmap_threshold, 32 * 2**20) != 1 or libc.mallopt(m_trim_threshold, 2**30) != 1:
        raise SystemExit("mallopt failed: --keep-freed-memory needs glibc")


def glibc() -> bool:
    return platform.libc_ver()[0] == "glibc"
