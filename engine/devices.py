"""Choosing the compute device."""

from __future__ import annotations

import torch

from .errors import OTHER_DEVICE, DeviceError, Message
from .units import counted

DEVICE_CHOICES = "auto, cpu, cuda, cuda:N or mps"


def mps_available() -> bool:
    backend = getattr(torch.backends, "mps", None)
    return bool(backend and backend.is_available())


def available_devices() -> list[str]:
    """Devices usable on this machine, best first (``cpu`` always last)."""
    devices = [f"cuda:{i}" for i in range(torch.cuda.device_count())] if torch.cuda.is_available() else []
    if mps_available():
        devices.append("mps")
    return devices + ["cpu"]


def resolve_device(spec: str | torch.device | None = "auto") -> torch.device:
    """``auto`` picks cuda, then mps, then cpu; an explicit device must exist."""
    if isinstance(spec, torch.device):
        spec = str(spec)
    spec = (spec or "auto").strip().lower()
    if spec == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda", torch.cuda.current_device())
        if mps_available():
            return torch.device("mps")
        return torch.device("cpu")
    try:
        device = torch.device(spec)
    except (RuntimeError, ValueError):
        raise DeviceError(f"unknown device {spec!r} (use {DEVICE_CHOICES})") from None
    if device.type == "cpu":
        return torch.device("cpu")  # one CPU device: "cpu:1" is the same, and reported as "cpu"
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise DeviceError(Message(f"device {spec!r} is not available: this PyTorch build or machine "
                                      "has no CUDA GPU (", OTHER_DEVICE, ")"))
        index = 0 if device.index is None else device.index
        if index >= torch.cuda.device_count():
            raise DeviceError(f"device {spec!r} is not available: this machine has "
                              f"{torch.cuda.device_count()} CUDA device(s)")
        return torch.device("cuda", index)
    if device.type == "mps":
        if not mps_available():
            raise DeviceError(Message("device 'mps' is not available on this machine (", OTHER_DEVICE, ")"))
        return device
    raise DeviceError(f"unsupported device {spec!r} (use {DEVICE_CHOICES})")


def device_name(device: torch.device) -> str:
    """A readable name: the GPU model for CUDA, else the device type."""
    if device.type == "cuda":
        return f"{torch.cuda.get_device_name(device)} ({device})"
    if device.type == "mps":
        return "Apple GPU (mps)"
    return f"CPU ({counted(torch.get_num_threads(), 'thread')})"


def cpu_has_bf16() -> bool:
    """Whether this CPU does bfloat16 arithmetic natively (x86 AVX512-BF16 or AMX-BF16), where
    bf16 autocast roughly halves training time; elsewhere it is emulated and slower."""
    import platform

    if platform.system() != "Linux":
        return False
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as handle:
            for line in handle:
                if line.startswith("flags"):
                    flags = set(line.split(":", 1)[1].split())
                    return bool(flags & {"avx512_bf16", "amx_bf16"})
    except OSError:
        return False
    return False


_FREED_MEMORY_KEPT = False


def keep_freed_memory() -> bool:
    """Ask glibc's malloc to keep freed memory for reuse (Linux): blocks up to 32 MB come from
    the heap instead of fresh mmaps, and the heap is trimmed only above 1 GB free. CPU
    PyTorch has no caching allocator, so otherwise every large activation of every step is
    new memory the kernel must zero page by page: on the lite training step that was 23,000
    page faults and 50 ms of system time per iteration, about 7 % of it. Process-wide, once;
    the process keeps its peak memory. Returns whether it applied."""
    global _FREED_MEMORY_KEPT
    import ctypes
    import platform

    if _FREED_MEMORY_KEPT:
        return True
    if platform.system() != "Linux":
        return False
    try:
        libc = ctypes.CDLL("libc.so.6")
        M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3
        _FREED_MEMORY_KEPT = bool(libc.mallopt(M_MMAP_THRESHOLD, 32 * 2**20)
                                  and libc.mallopt(M_TRIM_THRESHOLD, 2**30))
    except (OSError, AttributeError):  # not glibc (musl, ...)
        return False
    return _FREED_MEMORY_KEPT
