"""The fuzz targets: each takes the fuzzer's bytes and must return or raise only the parser's own
error.  Anything else escapes, and atheris reports it as a crash with the input that caused it.

Host output reaches the parsers as the transport decodes it (UTF-8, bad bytes replaced), so the
targets decode the same way.
"""
from __future__ import annotations

import json
import pathlib
import tempfile

import atheris

with atheris.instrument_imports():
    from providers.accounts import facts as accounts
    from providers.accounts.facet import READ as ACCOUNTS_READ
    from providers.bird import parse as bird
    from providers.hoststate import parse_host_state
    from providers.output import UnexpectedOutput
    from providers.host import Command, Result
    from providers.zerotier import model as zt
    from providers.zfs import facts as zfs
    from providers.zfs.facet import READ as ZFS_READ
    import settings
    import validators

HOST = "fuzz-host"


def _text(data: bytes) -> str:
    return data.decode("utf-8", "replace")


def _named(e: UnexpectedOutput) -> None:
    """The parser's own error must name the host and the command: anything else is a finding."""
    if not str(e).startswith(f"host {HOST}: unexpected output of `"):
        raise AssertionError(f"parser error without host and command: {e}")


def getent(data: bytes) -> None:
    text = _text(data)
    for parse in (accounts.parse_passwd, accounts.parse_group, accounts.parse_shadow):
        try:
            out = parse(text, HOST)
        except accounts.ParseError as e:
            _named(e)
        else:
            for entry in out.values():
                getattr(entry, "expired", None)  # a property that reads a number
    accounts.parse_authorized_keys_dump(text)
    try:
        parse_host_state([Result(Command.of("sh", "-c", ACCOUNTS_READ, "keystone-accounts"), 0, text, "")], HOST)
    except accounts.ParseError as e:
        _named(e)


def zfs_output(data: bytes) -> None:
    text = _text(data)
    for parse in (zfs.parse_zfs_get, zfs.parse_zfs_allow):
        try:
            parse(text, HOST)
        except zfs.ParseError as e:
            _named(e)
    zfs.parse_zfs_list_names(text)
    for line in text.split("\n")[:20]:
        try:
            zfs.size_bytes(line)
        except zfs.ParseError:
            pass
    try:
        parse_host_state([Result(Command.of("sh", "-c", ZFS_READ, "keystone-zfs", "-r", "rpool/home"), 0, text, ""),
                          Result(Command.of("zfs", "allow", "rpool/home/alice"), 0, text, "")], HOST)
    except zfs.ParseError as e:
        _named(e)


def bird_output(data: bytes) -> None:
    """The BIRD parsers are total: no exception at all."""
    text = _text(data)
    for p in bird.parse_show_protocols(text).values():
        _ = (p.summary, p.established, p.bgp_state)
    reply = bird.parse_configure(text)
    _ = (reply.ok, reply.text, [str(e) for e in reply.errors])
    bird.parse_configure_status(text)
    bird.parse_bird_errors(text)
    bird.parse_show_status(text)
    bird.parse_peer_file(text)
    bird.parse_neighbor_grep(text)
    bird.declared_protocol_types(text)


def zerotier_answer(data: bytes) -> None:
    try:
        answer = json.loads(_text(data))
    except (ValueError, RecursionError):
        return  # the client reports a body that is not JSON itself (ZeroTierResponseError)
    for mode in zt.MODES:
        try:
            zt.parse_member(mode, answer)
        except zt.ZeroTierResponseError:
            pass


_STACK = pathlib.Path(tempfile.mkdtemp(prefix="keystone-fuzz-")) / "Pulumi.fuzz.yaml"


def stack_settings(data: bytes) -> None:
    """Any stack file: settings load or ``SettingsError`` (one line per issue), nothing else."""
    _STACK.write_bytes(data)
    try:
        settings.load_settings(_STACK)
    except settings.SettingsError as e:
        if any("\n" in i or "Traceback" in i for i in e.issues):
            raise AssertionError(f"unclean issue: {e.issues!r}") from None
    for check in (validators.posix_name, validators.person_name, validators.absolute_path, validators.dataset_name,
                  validators.ssh_address, validators.http_url, validators.https_url, validators.directory_for_homes,
                  validators.git_ref, validators.git_repository, validators.network_host, validators.gecos):
        try:
            check(_text(data))
        except validators.Invalid:
            pass


TARGETS = {"getent": getent, "zfs": zfs_output, "bird": bird_output, "zerotier": zerotier_answer,
           "settings": stack_settings}
