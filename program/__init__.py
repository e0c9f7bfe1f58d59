"""The Keystone program (what ``__main__.py`` runs).

* ``stack``: reads the stack settings and the roster, runs the gate, registers everything;
* ``gate``: every check made before registration, listed in its docstring (nothing is registered
  when one fails);
* ``ports``: the sticky port allocation, from the roster and the last deployment's outputs (pure);
* ``peering``: the route servers' main configs and one ``PeerAsn`` component per roster peer;
* ``workstation``: the hosts' unit files and the port maps made from the allocation;
* ``gc_pause``: the program process's garbage-collector switch.

The components it registers live in ``components/``.
"""
