"""Reports: the typed report of one run (``model``), where report files live and how
many are kept (``store``), and ``provision report`` over many of them (``reader``,
``table``, ``html``); one JUnit writer (``junit``). Schema: docs/report.md.
"""
