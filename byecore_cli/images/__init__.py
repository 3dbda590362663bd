"""Image models: their sizes and prices, and the OpenAI Images API.

- ``catalog``: which image models a provider has (its saved table, else its preset's),
  which provider serves a model, and a model's size table: tiers, prices, the cheapest
  size, what ``--size 2K`` means, the refusal that lists the valid sizes.
- ``multipart``: a ``multipart/form-data`` body read and changed without touching the
  bytes of any part but the fields changed (an edit's images go up exactly as sent).
- ``formats``: what an image's first bytes say (PNG, JPEG, WebP; a PNG's width×height).
- ``client``: ``POST {openai base}/images/generations`` and ``/images/edits`` for
  ``byecore image``, streamed partial images included; ``saving``: where its files go.

The proxy's side is ``byecore_cli/proxy/images.py``.
"""
