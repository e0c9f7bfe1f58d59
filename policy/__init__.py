"""Keystone's policy pack and its offline runner.

* ``policy/__main__.py`` is what ``pulumi preview --policy-pack policy`` runs (``PulumiPolicy.yaml``);
* ``policy.rules`` holds every rule as a plain ``validate(args, report_violation)`` function and the
  ``POLICIES`` list built from them, shared by the pack and by ``policy.offline``;
* ``policy.contract`` names the resource types and property names the rules read (the program's
  contract), and the ``UNKNOWN`` sentinel;
* ``policy.offline`` (the command line) evaluates the same ``POLICIES`` over resources collected
  under mocks (``policy.collect``), without the Pulumi CLI, and prints violations the way
  ``pulumi preview --policy-pack`` does; one module per job: ``records`` (the data),
  ``pack_config`` (the CLI's config reconciliation), ``wire`` (what the engine and the analyzer
  make of a resource), ``evaluation`` (the policies over the records), ``report`` (the printout).

Nothing in this package may be named like a standard-library module (``types``, ``json``...): the
CLI starts the pack with ``python -m pulumi.policy`` *in this directory*, so such a file would
shadow the standard library before any of our code runs (``tests/policy/test_pack_boot.py``).
"""
