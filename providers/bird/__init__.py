"""BIRD 2 route servers: the main config and one file per peer ASN, applied safely.

Modules (pyinfra style: pure functions, side effects in one place):

* ``models``: RouteServer, PeerSpec, RpkiSource, FilterPolicy (strict patterns for every string);
* ``render`` + ``templates/``: jinja2 (StrictUndefined, sorted loops, every value checked and
  quoted) → ``bird.conf`` and ``peers.d/as<asn>.conf``;
* ``parse``: ``birdc`` replies (protocols, route counts, routes), ``bird -p`` errors, our own files;
* ``communities``: the reject-cause and RPKI-state large communities the policy sets;
* ``report``: route counts per session by reject cause, and the peers report (pure);
* ``plan``: the safe apply as commands (gather → stage/check/swap/``configure timeout`` →
  confirm or roll back) and the checks BIRD does not make;
* ``apply``: runs a plan through ``providers.transport`` under a per-route-server lock;
* ``file_provider``: what the two file providers share (check, read, diff);
* ``server_config``: ``bird:ServerConfig`` (``BirdServerConfig``, id ``<route-server>``);
* ``peer_file``: ``bird:PeerFile`` (``BirdPeerFile``, id ``<route-server>/<asn>``).

Route-origin validation policy (ROV): routes whose origin is RPKI-**invalid** for a covering ROA
are rejected; RPKI-**unknown** (no covering ROA) and valid routes are accepted.  This is the
common IXP route-server choice: most of the routing table is still unknown, so rejecting unknown
would drop legitimate routes, while invalid routes are hijacks or misconfigurations either way.
With ``import table on`` BIRD re-evaluates routes by itself after the ROA table changes (an RTR
update), without a session reset — about 7 s later on bird 2.0.12 (measured in the netns tests).

Other import checks, shared by every peer (functions ``ks_import_v4``/``ks_import_v6`` in the main
config, called from each peer file with the peer's ASN): bogon prefixes (RFC 6890 and friends;
for IPv6 everything outside 2000::/3 too), too specific (> /24, > /48) or too short (< /8, < /16),
AS path longer than 64, first AS not the peer's ASN, next hop not the peer's own address, and
optionally a per-peer prefix list.  Per session: ``import limit`` (accepted routes) and
``receive limit`` (all received routes) with the route server's ``limit_action``.

Rejected routes are kept (``import keep filtered on``), tagged ``<RS ASN>:65520:<cause>`` and never
exported; accepted ones carry ``<RS ASN>:1000:<RPKI state>`` (``communities.py``,
``docs/route-server.md``).
"""
from providers.bird.models import FilterPolicy, PeerSpec, RoaEntry, RouteServer, RpkiSource, RtrServer  # noqa: F401
