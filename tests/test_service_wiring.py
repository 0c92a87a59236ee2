"""Issue 22: each service declares what it uses in its constructor and the Application wires it from the
Runtime; the deployment service is composed of parts whose use cases the doors reach under its name."""

from __future__ import annotations

import inspect

from actors import make_app
from openfr.services.authorisation import DeploymentAuthorisation
from openfr.services.deployment_statistics import DeploymentStatistics
from openfr.services.deployments import DeploymentService
from openfr.services.refusals import PartUseCase, UseCases
from openfr.services.runs import DeploymentRuns

PARTS = {"runs": DeploymentRuns, "authorisation": DeploymentAuthorisation, "stats": DeploymentStatistics}


def test_building_the_application_opens_no_database_and_loads_no_model(tmp_path):
    app = make_app(tmp_path / "home")
    built = set(vars(app.runtime))
    assert {"db", "secret_box", "view_grants", "searcher"}.isdisjoint(built), built
    assert not app.runtime._engines  # no model pack loaded
    assert not any((tmp_path / "home").glob("*.db"))
    app.close()


def test_no_service_holds_the_runtime(tmp_path):
    app = make_app(tmp_path / "home")
    services = [v for v in vars(app).values() if isinstance(v, UseCases)]
    services += [getattr(app.deployments, part) for part in PARTS]
    assert len(services) >= 14
    for service in services:
        assert all(value is not app.runtime for value in vars(service).values()), type(service).__name__
    app.close()


def test_the_deployment_parts_use_cases_are_all_reached_through_the_deployment_service(tmp_path):
    offered = {name: v for name, v in vars(DeploymentService).items() if isinstance(v, PartUseCase)}
    for part, cls in PARTS.items():
        public = {n for n, f in vars(cls).items() if inspect.isfunction(f) and not n.startswith("_")}
        through = {name for name, use in offered.items() if use.part == part}
        # renew and finish: the camera runner's, through the RunControl it is given, never a door's
        assert public - through == ({"renew", "finish"} if cls is DeploymentRuns else set()), part
    app = make_app(tmp_path / "home")
    for name, use in offered.items():
        assert getattr(app.deployments, name) == getattr(getattr(app.deployments, use.part), name)
    assert inspect.signature(app.deployments.start) == inspect.signature(app.deployments.runs.start)
    app.close()
