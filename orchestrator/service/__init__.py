"""``salesbus serve``: batches over HTTP, live progress, and the approval inbox.

Read in this order: ``admission`` (fair slots across batches), ``runtime`` (the
one orchestrator runtime every batch shares), ``submit`` (turning an upload
into a batch), ``views`` (what the API answers), ``sse`` and ``prometheus``
(live feeds), ``app`` (routes, auth, errors) and ``inbox`` (the HTML pages).
"""
