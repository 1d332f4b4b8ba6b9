"""accessrecon's command line: the composition root that joins agent, server and sandbox.

``agent`` is the domain core and the crawler, ``server`` the local API, ``sandbox``
the imitation portals; only this package knows all three.
"""
