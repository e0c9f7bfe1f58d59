"""The live tier's lab (``tests/harness/netns.py``): one route server and two peers, each running its
own bird in network namespaces, for the whole session."""
from tests.harness.netns import lab  # noqa: F401 (fixture)
