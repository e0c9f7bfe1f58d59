"""The Keystone program (what ``__main__.py`` runs).

* ``stack``: reads the stack settings and the roster, runs the gate, registers everything;
* ``gate``: pure checks resolved before registration (nothing is registered when one fails);
* ``peering``: the route servers' main configs and one ``PeerAsn`` component per roster peer;
* ``workstation``: the hosts' unit files and maps, and the sticky port allocation;
* ``gc_pause``: the program process's garbage-collector switch.

The components it registers live in ``components/``.
"""
