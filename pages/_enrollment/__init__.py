"""The parts of the admissions cockpit ``/enrollment`` (``pages/enrollment.py``) that have grown
beyond its module: the notice funnel and intake-quality tiles. Imported by that page alone:
Dash loads no page from a folder whose name starts with ``_``."""
