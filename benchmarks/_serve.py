"""Child-process entry points for the benchmark's servers, so their CPU is not ours.

    python -m benchmarks._serve moto            moto server on 127.0.0.1, any free port
    python -m benchmarks._serve graph CONFIG    the Graph API simulator (CONFIG: JSON settings)

Each prints one line, ``READY <url>``, once it accepts connections, then serves until
its standard input closes (the parent exited or asked it to stop) or SIGTERM.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
import threading


def _wait_for_stdin_eof() -> None:
    try:
        while sys.stdin.buffer.read(4096):
            pass
    except (OSError, ValueError):
        pass


def serve_moto() -> None:
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())

    def stop_at_eof() -> None:
        _wait_for_stdin_eof()
        stop.set()

    threading.Thread(target=stop_at_eof, daemon=True).start()
    print(f"READY http://{host}:{port}", flush=True)
    stop.wait()
    server.stop()


def serve_graph(config_json: str) -> None:
    from infra.local.graph_simulator import GraphSimulator, SimulatorConfig

    simulator = GraphSimulator(SimulatorConfig.model_validate_json(config_json))
    simulator.bind()

    async def main() -> None:
        serving = asyncio.create_task(simulator.serve(stop_on_signals=True))
        await asyncio.sleep(0)

        def stop_at_eof() -> None:
            _wait_for_stdin_eof()
            simulator.request_stop()

        threading.Thread(target=stop_at_eof, daemon=True).start()
        print(f"READY {simulator.base_url}", flush=True)
        await serving

    asyncio.run(main())


def main(argv: list[str]) -> None:
    if argv[:1] == ["moto"]:
        serve_moto()
    elif argv[:1] == ["graph"] and len(argv) == 2:
        serve_graph(argv[1])
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
