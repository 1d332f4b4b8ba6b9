"""Command groups of the ``accessrecon`` command line, one module per area."""
