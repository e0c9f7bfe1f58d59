"""Keystone's domain values, one module per concept, shared by the roster, the stack settings, the
providers and the policy pack.  Pure: nothing here touches a host, a file or the network.

Every check takes the raw value (from YAML or JSON: it may be anything), returns it (normalised
where said) or raises ``Invalid`` with a message that quotes the value safely (``show``) and a
hint that says what would be accepted.  Messages never echo a URL that carries credentials.

* ``core``: ``Invalid``, ``show``, ``text``, ``passes``.
* ``names``: user and group names (``person_name``: not one the system keeps), an account's GECOS
  field, paths, dataset names, host names, network hosts (a DNS name or an IP address), SSH addresses.
* ``urls``: URLs (one parse; the host and port rules; ``https_url`` where a token travels).
* ``git``: branch names (``git check-ref-format``) and clone URLs without credentials.
* ``files``: file modes, a host file's absolute path, files root writes for a setting, paths under a home.
* ``password``: ``$6$``/``$y$`` crypt hashes (never echoed).
* ``peering``: ASNs and their ranges, AS-SETs, prefixes, peering addresses, ZeroTier ids, ``PeerState``.
* ``ssh_key``: OpenSSH public key lines (the blob read by ``cryptography``, the one non-stdlib import).
* ``budget``: a person's slice limits (MemoryMax, CPUWeight, TasksMax), Debian package names, a
  backup timer's calendar.
* ``zfs``: ZFS sizes (one rule: parse, format, compare as bytes), recordsize, compression, atime.

``import validators`` keeps the flat names (``validators.posix_name``) working.
"""
from .core import Invalid, passes, show, text
from .names import (
    DATASET_COMPONENT,
    DNS_NAME,
    GECOS_MAX,
    HOST_NAME,
    MAX_DATASET,
    MAX_PATH,
    PATH_COMPONENT,
    POSIX_NAME,
    RESERVED_NAMES,
    RESERVED_POOL_NAMES,
    SYSTEM_DIRECTORIES,
    absolute_path,
    application_slug,
    authentik_group,
    dataset_name,
    directory_for_homes,
    gecos,
    host_name,
    network_host,
    person_name,
    posix_name,
    ssh_address,
)
from .urls import http_url, https_url, url_host
from .git import git_ref, git_repository

__all__ = [
    "DATASET_COMPONENT", "DNS_NAME", "GECOS_MAX", "HOST_NAME", "MAX_DATASET", "MAX_PATH", "PATH_COMPONENT", "POSIX_NAME",
    "RESERVED_NAMES", "RESERVED_POOL_NAMES", "SYSTEM_DIRECTORIES", "Invalid", "absolute_path", "application_slug",
    "authentik_group", "dataset_name", "directory_for_homes", "gecos", "git_ref", "git_repository", "host_name", "http_url",
    "https_url", "network_host", "passes", "person_name", "posix_name", "show", "ssh_address", "text", "url_host",
]
