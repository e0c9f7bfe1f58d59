"""Public keys and password hashes for the roster tests.

The SSH keys were generated with ``ssh-keygen`` for these tests only; the private halves were
discarded.  The password hashes are format-valid (random salt and hash): no password matches them.
"""
import base64
import struct


def _ssh_string(data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + data


def _sk_key(key_type: str, *fields: bytes) -> str:
    blob = _ssh_string(key_type.encode()) + b"".join(_ssh_string(f) for f in fields)
    return f"{key_type} {base64.b64encode(blob).decode()}"


ALICE_LAPTOP = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIN5CBgJ0FZyQsjhm9B09IssP9QrCSk5Fzu52AoR0Os05 alice@laptop"
ALICE_DESKTOP = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAINHZrDlZoxleUJGsX2pluw7Sk8rRTaWsW7BzV3OGJ/Xv alice@desktop"
BOB = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAINcTmRDX+myB3Cj2xarSj/NoPC942LzSccbmf5mDI1kI bob@workstation"
CAROL = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHQKUi+L5aE6t10SDc6s2V5IF+6rr0cSwucbh+oZR0Ci carol@laptop"
DAVE = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIIC3y8rVg3O12Bih/0y0MPTieS1NJNcjbO6LVwamHC9N dave@old-laptop"
ED_1 = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIK3nAYC320dGrijYIMm3PLxhi+t8beg/fW1DP41nSV+t test1"
ED_2 = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIPIuLImcG09mwqO46PYhgXp1eqhT4BQuK+2DgH9K6FXx test2"
ED_3 = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGMXI2v0QxuLMOsZfjauqElidGab89bsmmOBQVGyN2Xd test3"
ECDSA_256 = "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBPPHrMD813QWP80ldY1V1/3d7oJK3mcrBnzd9hwBc/glJPr1iLoSH/b0jj1eNmRuCqvQ1RHsvspFax0CL11X1jk= bob@yubikey-backup"
ECDSA_384 = "ecdsa-sha2-nistp384 AAAAE2VjZHNhLXNoYTItbmlzdHAzODQAAAAIbmlzdHAzODQAAABhBNfJWdyl5unB+XA33jG4bGoRbG1CLcVFFdjjUIw0uFVYJqvZ8ygmlZ2DSuS7F/9U5J7NFHO4cVM1F3MbWcujoJtag67Ou638qBfaXv0s7MlCwzTTdRC90bOq2gjSBCy6gw== ec384"
ECDSA_521 = "ecdsa-sha2-nistp521 AAAAE2VjZHNhLXNoYTItbmlzdHA1MjEAAAAIbmlzdHA1MjEAAACFBABg5a7KCCW/lTWHTOxpBpRxOw+up+TVQnFnXrF2aYXSrg0O2me2N5pXOtrwSDFe6H6B2NaNTGdmPb5xtZ086NMCAwFa964W71d8jGamYAli6fk9+f0g9EBDUTg0Y0Kp85atetBrLx4rn7NlSrQ5Nzo7l9XB9B0QjDXu2CFx2IDj/oVs0A== ec521"
RSA_3072 = "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABgQC40JfR/0ik867DtogWo9+gf1JeZtdg5hp4/2jasW8Al9wQ2FgN/Icx8glx8LcElqJnSmQ71cJs1ITQ9re1UGM2sp22w0f1TCX8b0lmjgCNNi3NMLEJ/Pm6dt8wWY7pgeXkNuujC8u+y9euOVrWZXtSNwg1Fj41tkKjuSzx9AmspQj5NEGAvhzVw7AxoRvE18ubxpaMK8ITj0YrW3mlqjNOvc02HUta+l5/OgVeyDNLOqUhAvNHL4RdUEA1Yk5i7ZPOY7B7HjbidemkQ59v9DbxX6sSITTJeHvKFPWPo+EvxVyZB6Yj90uhRMeKEsVgKZHw8+2GOhFkDgPtfzURD0oOrzf8unS8peE0dS5Ky/QI4qnkWQlP0qKMNAdmfN32peaRdOiVyAkT4gweXzavVpYqfjpviXYmnoADB36gD5DU8g7NWnYUxBumqsp+BxX1crQlrzydp1g5yFOEUL3FP1Uekjba8itChMvwV+aLQwkDI3RpZUk38KssXCVgXLJ1a9M= rsa3072"
RSA_1024 = "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAAAgQDkWwXibiavSgITAXT8/1U78WoMx3+o5EYaih3JF0Pahkjh508aC0dsCTKbGNX6T8C8V7NLfmI8cK41xNiZX7ZdauSURTn2A7W4qltBp/sifq7pKRh7bCgzJOnNT9J84rxzjyquEQJgHCjwUr6qWK7KP7w4LsKZRfF4u8ktolvDnQ== rsa1024"
DSA = "ssh-dss AAAAB3NzaC1kc3MAAACBAMbPZFGjp+OfQdz/Nwy53cgh5Xo48xwDmBtBv5DH2FbCqkvrp+9d+XP3RMRQjwMeSJRnyCw4wWm/jriGKHtc8EhcQ8lQLh3ySUaaLQgP3EwXnv7Ri5OgM11f8XmeYNcVQjxoMU4VgMqMstQhtN4x13KFlMkmFOYUhW5V2Z6szJ2hAAAAFQCfwMC7MJMtrdYD1QQ6WAh/0XAHywAAAIEAsP/sr8+7h+lVIXoNzVqILrxeelDsuFIe3MaILrwJOWOCJ2B9mGzI0FhelKY+05AVv4F2FZRHXdCQEkMKulZBuDiaH2skTOlzaNKsEeNpunJamV9SpPAMoEympbVCA0egDPMrf2u12RXB52Ym69SeDplD5yW1p/fziTYD6hy3TKEAAACAYZo/jTZwR9VX/FC2W3Rmae81iw8+VQre4s3Zl/79s4akdW7+WguHbAaMUfR/M22MKY6TYtELn0JpsuXKtSPKCLalrco3jjaY5nrD794qgrGSkpZCrzlmld+d5A8VsHpNF+KwXsAVrg0054jjhf5uwYVnOpp19L5wZAFo16/Q7Ms= dsa"

SK_ED25519 = _sk_key("sk-ssh-ed25519@openssh.com", bytes(range(32)), b"ssh:") + " yubikey"
_ECDSA_256_POINT = base64.b64decode(ECDSA_256.split()[1])[-65:]  # a real point on the curve
SK_ECDSA = _sk_key("sk-ecdsa-sha2-nistp256@openssh.com", b"nistp256", _ECDSA_256_POINT, b"ssh:")
SK_BAD_APPLICATION = _sk_key("sk-ssh-ed25519@openssh.com", bytes(range(32)), b"https://evil")
ED25519_TRUNCATED = "ssh-ed25519 " + base64.b64encode(_ssh_string(b"ssh-ed25519")).decode()
ED25519_TRAILING = _sk_key("ssh-ed25519", bytes(range(32)), b"extra")
ED25519_WITH_RSA_BLOB = "ssh-ed25519 " + RSA_3072.split()[1]

ALICE_LAPTOP_FINGERPRINT = "SHA256:AIi5HEr3e5jQoCcoUHyujgtk9W6Ypm0RqMmXhZb/vxs"

YESCRYPT = "$y$j9T$Pto.IMu/e11ItMNMceAKFT$EsY5JR3pkN5W4qEVM8JOUq8c92YEA81hYjmdEtoB4lH"
SHA512 = "$6$7uNE5/iMlQFD7AQO$HTqjNIg.gf1BxmuZ2S/yRpoNRhoKL.8hYf3/ii9bqtELSjF44P1WD.MYTBWUCp7kUV9mSNc6prq.FpHPvOQvx."
SHA512_ROUNDS = "$6$rounds=5000$abc$34O8oRzThM7onc3iRQAcdWBv2H/sMGJlnsnG6uIkasTEvQkG9apXR/oBhPpqIepkul8wg.bf4wxoel67eJND./"
MD5 = "$1$saltsalt$qjXMvbEw8oaL.CzflDugX/"
