"""Rendering results as files a bureau takes to a meeting: CSV tables, ``report.xlsx``, the
offline ``map.html``, the comparison and the estate-review pages.

Renderers read the typed results (:class:`~schoolplan.schema.Result`,
:class:`~schoolplan.siting.Review`, the comparison table) and never compute planning figures.
"""

from schoolplan.outputs.comparison import write_comparison
from schoolplan.outputs.estate import review_map, write_review
from schoolplan.outputs.maps import overview_map, save_map
from schoolplan.outputs.report import write_csv, write_outputs

__all__ = ["overview_map", "review_map", "save_map", "write_comparison", "write_csv",
           "write_outputs", "write_review"]
