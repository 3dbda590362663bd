"""``byecore proxy``: the local gateway (aiohttp). Imported only by the proxy command."""
