"""The parts of the analyst page ``/explore`` (``pages/explore.py``), imported by that page
alone: Dash loads no page from a folder whose name starts with ``_``."""
