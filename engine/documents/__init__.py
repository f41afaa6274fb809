"""The documents adjudicate writes: the decision memo, the candidate notices,
the rulebook document and the batch's output folder.

``templating`` holds the jinja2 environments and the filters, ``once`` the
tag that writes a part many memos share once per value, ``wording``
the catalogues of fixed wording (one per language), ``memos`` and ``notices``
the context of each document, ``explain`` the rulebook document and
``reports`` the CSV files and the manifest.
"""
