"""The language runtime that runs ``__main__.py`` for one ``pulumi`` command, in this process.

It is the SDK's own server (``LanguageServer``), as the Automation API starts it for an inline
program; the program it runs is the project directory itself, executed the way Pulumi's Python
language host executes a project (``runpy`` on the directory, which puts it first on ``sys.path``
and runs its ``__main__.py``).
"""
from __future__ import annotations

import runpy
from concurrent import futures

import grpc
from pulumi.automation._server import LanguageServer
from pulumi.runtime._grpc_settings import _GRPC_CHANNEL_OPTIONS
from pulumi.runtime.proto import language_pb2_grpc


def serve(project_dir: str) -> tuple[grpc.Server, str]:
    """Start the server for the project in ``project_dir``; returns it and its ``host:port``."""

    def program() -> None:
        runpy.run_path(project_dir, run_name="__main__")

    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4), options=_GRPC_CHANNEL_OPTIONS)
    language_pb2_grpc.add_LanguageRuntimeServicer_to_server(LanguageServer(program), server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    return server, f"127.0.0.1:{port}"
