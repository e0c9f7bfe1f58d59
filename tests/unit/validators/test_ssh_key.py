"""SSH public keys: the blob is read by ``cryptography``; Keystone's own rules (types, RSA size, one
line, no options) and its messages stay as the roster documents them."""
from __future__ import annotations

import base64
import shutil
import struct
import subprocess

import pytest

from tests.harness import keys
from validators import Invalid, ssh_key


def _line(key_type: str, *fields: bytes) -> str:
    blob = b"".join(struct.pack(">I", len(f)) + f for f in (key_type.encode(), *fields))
    return f"{key_type} {base64.b64encode(blob).decode()}"


_POINT = base64.b64decode(keys.ECDSA_256.split()[1])[-65:]


@pytest.mark.parametrize(("line", "message"), [
    (_line("ssh-ed25519", bytes(31)), "32 bytes"),
    (_line("ecdsa-sha2-nistp256", b"nistp384", _POINT), "Curve name mismatch"),
    (_line("ecdsa-sha2-nistp256", b"nistp256", b"\x04" + bytes(64)), "Invalid EC key"),  # not on the curve
    (_line("ssh-rsa", b"", b"\x00" + b"\xff" * 256), "e must be"),
    (_line("ssh-rsa", b"\x01\x00\x01"), "truncated"),
    (_line("sk-ssh-ed25519@openssh.com", bytes(range(32))), "truncated"),  # no application
    (keys.SK_BAD_APPLICATION, "application must start with 'ssh:'"),
    (keys.ED25519_TRAILING, "trailing data after the key"),
    (keys.ED25519_TRUNCATED, "truncated"),
    (keys.ED25519_WITH_RSA_BLOB, "is a 'ssh-rsa' key, not ssh-ed25519"),
    (keys.RSA_1024, "RSA key of 1024 bits is too weak"),
    ("ssh-ed25519 AAAA", "truncated"),
])
def test_bad_blobs_are_named(line, message):
    with pytest.raises(Invalid, match="SSH key data of .* is invalid") as e:
        ssh_key.public_key(line)
    assert message in e.value.message


@pytest.mark.parametrize("line", [keys.DSA, "ssh-xmss@openssh.com AAAA", "ssh-rsa-cert-v01@openssh.com AAAA"])
def test_types_outside_the_list_are_refused(line):
    with pytest.raises(Invalid, match="unsupported SSH key type"):
        ssh_key.public_key(line)


def test_security_key_types_are_read_by_the_library():
    assert ssh_key.public_key(keys.SK_ED25519) == keys.SK_ED25519
    assert ssh_key.public_key(keys.SK_ECDSA) == keys.SK_ECDSA


@pytest.mark.parametrize("key_type", ["ed25519", "ecdsa", "rsa"])
def test_keys_from_ssh_keygen_pass_and_fingerprint_alike(tmp_path, key_type):
    keygen = shutil.which("ssh-keygen")
    assert keygen, "ssh-keygen (openssh-client) is needed: the transport uses OpenSSH too"
    path = tmp_path / "k"
    subprocess.run([keygen, "-q", "-t", key_type, "-N", "", "-C", "x@y", "-f", str(path)], check=True)
    line = path.with_suffix(".pub").read_text().strip()
    assert ssh_key.public_key(line) == line
    printed = subprocess.run([keygen, "-l", "-f", str(path.with_suffix(".pub"))], check=True, capture_output=True,
                             text=True).stdout.split()[1]
    assert ssh_key.fingerprint(line) == printed


@pytest.mark.parametrize("line", [keys.RSA_1024, keys.DSA, keys.ED25519_TRAILING, f'no-pty {keys.ALICE_LAPTOP}',
                                  keys.ALICE_LAPTOP + "\nssh-ed25519 AAAA"])
def test_the_accounts_provider_refuses_what_the_roster_refuses(line):
    from pydantic import ValidationError

    from providers.accounts.plan import AccountInputs
    from providers.host import HostTarget

    host = HostTarget(name="h", address="local")
    with pytest.raises(ValidationError, match="each ssh key must be one OpenSSH public key line"):
        AccountInputs(host=host, username="alice", uid=20001, home="/home/alice", ssh_keys=[line])
    assert AccountInputs(host=host, username="alice", uid=20001, home="/home/alice",
                         ssh_keys=[keys.ALICE_LAPTOP, keys.SK_ECDSA]).ssh_keys == [keys.ALICE_LAPTOP, keys.SK_ECDSA]
