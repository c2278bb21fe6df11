"""The /health page's parts."""
