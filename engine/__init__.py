"""The real Pulumi engine for Keystone: the CLI at the SDK's exact version, and ``python -m engine``,
which runs ``pulumi preview|up|refresh|destroy`` on this project's program.

Where the official ``pulumi-language-python`` plugin is not installed (it is not a Go module the
proxy serves), ``python -m engine`` hosts the program with the SDK's own language runtime server
(``pulumi.automation._server.LanguageServer``, the one the Automation API uses for inline programs)
and hands its address to the CLI with ``--client``: the CLI, engine, state backend, dynamic-provider
and policy plugins are the real ones; only the process that runs ``__main__.py`` is ours.  See
docs/engine.md.
"""
