"""The language runtime that runs ``__main__.py`` for one ``pulumi`` command, in this process.

It is the SDK's own server (``LanguageServer``), as the Automation API starts it for an inline
program.  The program it runs is the one the CLI names in its ``Run`` request, started the way
Pulumi's Python language host starts a project: the working directory is the request's ``pwd``
(the project directory, wherever the CLI itself was started), and the program directory
(``info.program_directory``, else ``program``, relative to ``pwd``) is run with ``runpy``, which
puts it first on ``sys.path`` and runs its ``__main__.py``.  So a relative path in the stack file
(``keystone:roster``) and ``Pulumi.<stack>.yaml`` itself are read from the project directory, as
under ``pulumi up`` with the official host.
"""
from __future__ import annotations

import os
import runpy
from concurrent import futures
from typing import Any

import grpc
from pulumi.automation._server import LanguageServer
from pulumi.runtime._grpc_settings import _GRPC_CHANNEL_OPTIONS
from pulumi.runtime.proto import language_pb2_grpc


def program_location(request: Any, default_dir: str) -> tuple[str, str]:
    """(working directory, program directory) of a ``Run`` request, both absolute; ``default_dir``
    stands in for what the request leaves empty."""
    pwd = os.path.abspath(request.pwd or default_dir)
    program = (request.info.program_directory if request.HasField("info") else "") or request.program or pwd
    return pwd, os.path.normpath(os.path.join(pwd, program))


class ProjectServer(LanguageServer):
    """``LanguageServer`` whose ``Run`` enters the request's ``pwd`` and runs its program directory."""

    def __init__(self, project_dir: str):
        self.project_dir = project_dir
        self.location: tuple[str, str] | None = None  # set by Run, read by the program
        super().__init__(self._run_program)

    def _run_program(self) -> None:
        pwd, program = self.location or (self.project_dir, self.project_dir)
        os.chdir(pwd)  # one command per process (python -m engine): nothing else depends on the cwd
        runpy.run_path(program, run_name="__main__")

    def Run(self, request, context):  # noqa: N802 (the gRPC method's name)
        self.location = program_location(request, self.project_dir)
        return super().Run(request, context)


def serve(project_dir: str) -> tuple[grpc.Server, str]:
    """Start the server for the project in ``project_dir`` (used where the request names no
    directory); returns it and its ``host:port``."""
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4), options=_GRPC_CHANNEL_OPTIONS)
    language_pb2_grpc.add_LanguageRuntimeServicer_to_server(ProjectServer(project_dir), server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    return server, f"127.0.0.1:{port}"
