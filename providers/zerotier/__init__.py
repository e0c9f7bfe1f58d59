"""ZeroTier network members: ``zerotier:Member`` for Central v1 or a self-hosted controller.

* :mod:`providers.zerotier.model` — pure: validation, request bodies, answer parsing, verification;
* :mod:`providers.zerotier.client` — the only HTTP: sessions, retries, timeouts, clear errors;
* :mod:`providers.zerotier.member` — the dynamic provider and the ``ZeroTierMember`` resource.

The provider class path ``providers.zerotier.member.ZeroTierMemberProvider`` is persisted in state:
do not move or rename it.
"""
