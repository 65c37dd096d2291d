"""The SYNTHETIC demo county: a deterministic generator of a ledger, towns, villages, roads,
estates and an enrolment history that agree with each other (``python -m schoolplan.demo``
rewrites ``data/``). Every file it writes says it is synthetic."""

from schoolplan.demo.generate import (
    DEFAULT_SEED,
    DEMO_FILES,
    DEMO_SCENARIO_YAML,
    LEDGER_COLUMNS,
    DemoCounty,
    DemoShape,
    generate_demo,
    write_demo,
    write_estates,
)

__all__ = ["DEFAULT_SEED", "DEMO_FILES", "DEMO_SCENARIO_YAML", "LEDGER_COLUMNS", "DemoCounty", "DemoShape",
           "generate_demo", "write_demo", "write_estates"]
