"""Keystone's policy pack and its offline runner.

* ``policy/__main__.py`` is what ``pulumi preview --policy-pack policy`` runs (``PulumiPolicy.yaml``);
* ``policy.rules`` holds every rule as a plain ``validate(args, report_violation)`` function and the
  ``POLICIES`` list built from them, shared by the pack and by ``policy.offline``;
* ``policy.contract`` names the resource types and property names the rules read (the program's
  contract), and the ``UNKNOWN`` sentinel;
* ``policy.offline`` evaluates the same ``POLICIES`` over resources collected under mocks, without
  the Pulumi CLI, and prints violations the way ``pulumi preview --policy-pack`` does.

Nothing in this package may be named like a standard-library module (``types``, ``json``...): the
CLI starts the pack with ``python -m pulumi.policy`` *in this directory*, so such a file would
shadow the standard library before any of our code runs (``tests/policy/test_pack_boot.py``).
"""
