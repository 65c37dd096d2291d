"""Scenarios: a YAML file names the inputs, the settings and the actions; running it reads and
checks the inputs, computes travel costs once, applies the actions and diagnoses the result.

A scenario file is YAML that users write by hand; its shape is a contract (keys may be added,
these stay)::

    name: demo-county
    title: 示范县（合成数据）现状诊断
    inputs:
      schools: {path: ../data/schools/demo_schools.xlsx, coordinate_system: wgs84}
      towns:   {path: ../data/boundaries/demo_towns.geojson}
      demand:  {path: ../data/demand/demo_villages.geojson}
      roads:   {path: ../data/roads/demo_roads.graphml}
    settings:
      small_school_tiers: [200, 100, 50]
    actions: []

Paths are relative to the scenario file. ``coordinate_system`` defaults to ``wgs84`` for tables
and to the file's own CRS for layers. ``roads`` and ``demand`` are optional; ``roads`` may also
be ``none`` (straight line x circuity, marked as estimates) or ``osm`` (downloaded once, then
cached). Each input may also give ``columns`` (canonical name -> header), ``values`` (extra
level / area-type vocabularies), ``sheet``, ``header_row``, ``encoding``, ``layer``.

Further keys: ``actions`` (:mod:`schoolplan.scenario.actions`: close, merge, to_satellite,
new_school, planet_satellite, optimise), ``synthetic: true`` (labels every output as synthetic
data), and ``year`` with the inputs ``history`` (enrolment by grade over past years) and
``births`` (:mod:`schoolplan.projection`): the schools and villages are projected to that year
first.

Modules: :mod:`~schoolplan.scenario.spec` (reading the file), :mod:`~schoolplan.scenario.run`
(:func:`prepare` reads and checks the inputs and computes the travel costs once;
:func:`evaluate` applies the actions and diagnoses the result), :mod:`~schoolplan.scenario.actions`,
:mod:`~schoolplan.scenario.compare`.
"""

from schoolplan.scenario.actions import ACTIONS, apply_actions, check_action, run_actions
from schoolplan.scenario.run import (
    evaluate,
    initial_state,
    load_inputs,
    load_roads,
    prepare,
    report_snapping,
)
from schoolplan.scenario.spec import load_scenario, scenario_from_dict
from schoolplan.schema import Base, Inputs, InputSpec, Result, Scenario

__all__ = [
    "ACTIONS",
    "Base",
    "InputSpec",
    "Inputs",
    "Result",
    "Scenario",
    "apply_actions",
    "check_action",
    "evaluate",
    "initial_state",
    "load_inputs",
    "load_roads",
    "load_scenario",
    "prepare",
    "report_snapping",
    "run_actions",
    "scenario_from_dict",
]
