"""The official Python SDK (`mcp` 2.x) as a stateful Streamable HTTP server, for the runner's
conformance pack (tests/interop.rs, scripts/conformance-table.sh).

Only what the pack needs: an `echo` tool that answers with its `text`, sessions over Streamable
HTTP on /mcp, and the SDK's own idle session timeout (`session_idle_timeout`). The port is the
kernel's choice; the server prints `listening on http://127.0.0.1:PORT/mcp` once it accepts
connections, and runs until it is killed.

    python server.py --session-timeout 2
"""

import argparse
import asyncio
import socket

import uvicorn
from mcp.server.mcpserver import MCPServer


def app(session_timeout: float):
    server = MCPServer("runner-pack-python")

    @server.tool()
    def echo(text: str) -> str:
        """Answers with its argument."""
        return text

    return server.streamable_http_app(session_idle_timeout=session_timeout)


async def serve(session_timeout: float) -> None:
    # Bound here, before uvicorn starts, so the port is known and nobody else can take it.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app(session_timeout), log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
        if task.done():
            return await task
        await asyncio.sleep(0.01)
    print(f"listening on http://127.0.0.1:{port}/mcp", flush=True)
    await task


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--session-timeout",
        type=float,
        default=1800.0,
        help="idle seconds after which the SDK ends a session (its session_idle_timeout)",
    )
    asyncio.run(serve(parser.parse_args().session_timeout))
