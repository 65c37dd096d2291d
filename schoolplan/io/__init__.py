"""Reading the files a bureau has: school ledgers, towns, villages, housing estates and proposed
school sites, enrolment histories and births.

Every reader takes the input's coordinate system explicitly, returns WGS-84, and collects every
problem of the file (file, row as Excel shows it, column, the fix) before raising one
:class:`~schoolplan.errors.InputValidationError`. :mod:`schoolplan.io.towns` links points to
their towns and checks them against each other.
"""

from schoolplan.io._files import (
    LAYER_SUFFIXES,
    TABLE_SUFFIXES,
    is_table,
    read_layer,
    read_table,
    sha256_of,
)
from schoolplan.io.estates import read_estates, read_sites
from schoolplan.io.history import read_births, read_enrolment_history
from schoolplan.io.origins import read_origins
from schoolplan.io.readers import (
    fill_seats,
    geometry_to_wgs84,
    read_demand,
    read_schools,
    read_towns,
)

__all__ = [
    "LAYER_SUFFIXES",
    "TABLE_SUFFIXES",
    "fill_seats",
    "geometry_to_wgs84",
    "is_table",
    "read_births",
    "read_demand",
    "read_enrolment_history",
    "read_estates",
    "read_layer",
    "read_origins",
    "read_schools",
    "read_sites",
    "read_table",
    "read_towns",
    "sha256_of",
]
