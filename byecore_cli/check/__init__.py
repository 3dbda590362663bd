"""``byecore check``: probes that prove a key, a URL and each protocol work (probes.py),
and the plain-words diagnosis of each failure (diagnose.py)."""
