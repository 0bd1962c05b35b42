"""Whole-system urgent and emergency care flow simulation: scenario, compilation, examples.

The scenario document (:class:`Scenario`) is validated by pydantic, then compiled by
:func:`compile_scenario` into flat numpy arrays (:class:`CompiledScenario`) that the engines
consume. The semantics both engines implement are written in ``docs/simulation.md``.
"""

from flowplan.sim.compiled import (
    RESOURCE_NAMES,
    RNG_STREAM_NAMES,
    CompiledScenario,
    compile_scenario,
    generate_arrivals,
    kpi_names,
    replication_generators,
    rng_stream_names,
)
from flowplan.sim.distributions import (
    Deterministic,
    Distribution,
    Erlang,
    Exponential,
    Gamma,
    Lognormal,
    Uniform,
    encode,
    sample_encoded,
)
from flowplan.sim.examples import (
    EXAMPLE_SCHEMES,
    example_scenario,
    example_scheme,
    implied_annual_flows,
    implied_daily_flows,
    queue_scenario,
)
from flowplan.sim.scenario import (
    STREAM_NAMES,
    Scenario,
    ScenarioError,
    ScenarioProblem,
    dump_scenario,
    load_scenario,
    parse_scenario_text,
    scenario_json_schema,
    validate_scenario,
)

__all__ = [
    "EXAMPLE_SCHEMES",
    "RESOURCE_NAMES",
    "RNG_STREAM_NAMES",
    "STREAM_NAMES",
    "CompiledScenario",
    "Deterministic",
    "Distribution",
    "Erlang",
    "Exponential",
    "Gamma",
    "Lognormal",
    "Scenario",
    "ScenarioError",
    "ScenarioProblem",
    "Uniform",
    "compile_scenario",
    "dump_scenario",
    "encode",
    "example_scenario",
    "example_scheme",
    "generate_arrivals",
    "implied_annual_flows",
    "implied_daily_flows",
    "kpi_names",
    "load_scenario",
    "parse_scenario_text",
    "queue_scenario",
    "replication_generators",
    "rng_stream_names",
    "sample_encoded",
    "scenario_json_schema",
    "validate_scenario",
]
