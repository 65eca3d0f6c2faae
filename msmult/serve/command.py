"""``msmult serve``: deploy a victim msmult trained as an HTTP prediction service.

    msmult serve [RUN_DIR] [group=option key=value ...] [--host H] [--port P] [--model NAME]
                 [--keys-env VAR] [--budget-per-key ROWS] [--rate REQUESTS_PER_S]

The victim is the one ``msmult run`` with the same dataset / victim / seed config trains (loaded
from the victim cache when it is there): from a run folder's own overrides, then the command
line's. The ``api`` group's defences and output mode apply server-side (``api=mad``).
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import sys
from pathlib import Path

from omegaconf import OmegaConf

from msmult.compose import compose_config
from msmult.errors import MsmultError
from msmult.validation import number, whole

USAGE = "msmult serve [RUN_DIR] [group=option key=value ...] [options]"


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="msmult serve",
        usage=USAGE,
        description="Serve a victim msmult trained over the Open Inference Protocol v2 "
        "(POST /v2/models/NAME/infer) and MLflow's POST /invocations, taking raw rows.",
    )
    parser.add_argument("items", nargs="*", help="a run folder and/or config overrides")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=8080, help="port (0: any free port)")
    parser.add_argument("--model", default="victim", help="the v2 model name")
    parser.add_argument(
        "--keys-env", help="environment variable holding the accepted keys, comma-separated"
    )
    parser.add_argument("--budget-per-key", type=int, help="rows each key may have answered")
    parser.add_argument("--rate", type=float, help="requests per second each key may send")
    return parser.parse_args(argv)


def overrides_of(items: list[str]) -> list[str]:
    """A run folder's own overrides (``.hydra/overrides.yaml``, and its cache folder), then the
    command line's; a later value of a key replaces an earlier one."""
    folders = [i for i in items if "=" not in i]
    if len(folders) > 1:
        raise MsmultError(f"msmult serve takes one run folder, not {folders}; see {USAGE}")
    saved: list[str] = []
    if folders:
        run_dir = Path(folders[0])
        overrides = run_dir / ".hydra" / "overrides.yaml"
        if not overrides.is_file():
            raise MsmultError(
                f"{run_dir} is not a run folder of msmult run (it has no .hydra/overrides.yaml); "
                "give a run's output folder, or config overrides such as dataset=adult seed=0."
            )
        saved = list(OmegaConf.load(overrides))
        cache_dir = OmegaConf.select(OmegaConf.load(run_dir / "config.yaml"), "cache.dir")
        if cache_dir:
            saved.append(f"cache.dir={cache_dir}")
    merged: dict[str, str] = {}
    for item in [*saved, *(i for i in items if "=" in i)]:
        merged[item.split("=", 1)[0].lstrip("+~")] = item
    return list(merged.values())


def listening_socket(host: str, port: int) -> socket.socket:
    """A TCP socket bound to ``host:port`` (0: any free port). Made with ``IPPROTO_TCP`` so that
    asyncio sets ``TCP_NODELAY`` on each connection: without it every keep-alive answer waits
    40 ms for a delayed ACK (Nagle)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(2048)  # connections queue from the moment the URL is printed
    return sock


def main(argv: list[str]) -> None:
    args = parse(argv)
    try:
        from msmult.serve.build import build_app
    except ImportError as err:
        print(
            f"msmult serve needs FastAPI and uvicorn ({err}); install the extra: "
            "pip install 'msmult[serve]'",
            file=sys.stderr,
        )
        sys.exit(1)
    import uvicorn

    try:
        cfg = compose_config(overrides_of(args.items))
        keys = None
        if args.keys_env:
            value = os.environ.get(args.keys_env)
            if not value:
                raise MsmultError(
                    f"--keys-env names {args.keys_env!r}, which is not set; export it with the "
                    "accepted keys, comma-separated."
                )
            keys = frozenset(k.strip() for k in value.split(",") if k.strip())
        budget = (
            None
            if args.budget_per_key is None
            else whole("--budget-per-key", args.budget_per_key, 1)
        )
        rate = None if args.rate is None else number("--rate", args.rate, 0, open_low=True)
        app, what = build_app(cfg, args.model, keys, budget, rate)
        sock = listening_socket(args.host, args.port)
    except (MsmultError, OSError) as err:
        print(f"msmult serve: {err}", file=sys.stderr)
        sys.exit(1)
    host, port = sock.getsockname()[:2]
    print(
        f"msmult serve: {what} on http://{host}:{port} (Open Inference Protocol v2: POST "
        f"/v2/models/{args.model}/infer; MLflow: POST /invocations). Ctrl+C stops.",
        flush=True,
    )
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False))
    for stop in (signal.SIGINT, signal.SIGTERM):  # uvicorn re-raises the signal once stopped
        signal.signal(stop, lambda *_: None)
    server.run(sockets=[sock])
    print("msmult serve: stopped", flush=True)
