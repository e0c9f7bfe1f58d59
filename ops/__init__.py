"""Operator commands that read live systems (``python -m ops …``): reports for the admin on call.

* ``people_report`` — who exists where: per person and host, from the stack's state and history
  (``ops.people`` renders it, pure), with each home's used space read live;
* ``peers_report`` — per peer ASN and route server: sessions and filtered prefixes, read live.

The roster package stays pure (validation, schema, diff); whatever reaches a host, a route server or
the Pulumi CLI lives here.
"""
