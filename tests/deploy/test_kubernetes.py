"""Issue 14 ("no Kubernetes manifests"): deploy/k8s, a kustomize base and one overlay per demo region, rendered
with ``kubectl kustomize`` as an operator would and checked against the Kubernetes schemas that the
``kubernetes-validate`` package ships, strictly (an unknown field is an error); then what the render must hold:
two replicas behind a PodDisruptionBudget, gRPC probes on the node's plain health port, no root, the migration
Job, every ConfigMap and Secret the pods mount rendered beside them, and placeholders instead of keys."""

from __future__ import annotations

import base64
import copy
import os
import shutil
import subprocess
from functools import cache
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from share_gateway.config import NodeConfig

K8S = Path(__file__).resolve().parents[2] / "deploy" / "k8s"
REGIONS = ("110000", "310000", "440000")
# The oldest Kubernetes the manifests are meant for (gRPC probes are GA from 1.27) and the newest schemas shipped.
VERSIONS = ("1.30.0", kubernetes_validate.latest_version())

Resource = dict[str, Any]


def _kubectl() -> str:
    found = shutil.which("kubectl")
    if found is None:
        if os.environ.get("CI"):
            pytest.fail("kubectl is missing: apt-get install kubectl")
        pytest.skip("kubectl is not installed (Debian: apt-get install kubectl)")
    return found


@cache
def rendered(region: str) -> tuple[Resource, ...]:
    out = subprocess.run(
        [_kubectl(), "kustomize", str(K8S / "overlays" / region)], capture_output=True, text=True, check=True
    ).stdout
    return tuple(doc for doc in yaml.safe_load_all(out) if doc)


def one(resources: tuple[Resource, ...], kind: str, name: str | None = None) -> Resource:
    found = [r for r in resources if r["kind"] == kind and (name is None or r["metadata"]["name"] == name)]
    assert len(found) == 1, (kind, name, [r["metadata"]["name"] for r in found])
    return found[0]


def invalid(resource: Resource, version: str) -> str | None:
    try:
        kubernetes_validate.validate(resource, version, strict=True)
    except kubernetes_validate.ValidationError as error:
        return str(error.message)
    return None


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("region", REGIONS)
def test_each_overlay_renders_and_is_valid_kubernetes(region: str, version: str) -> None:
    resources = rendered(region)
    kinds = sorted(r["kind"] for r in resources)
    expected = ["Namespace", "ServiceAccount", "ConfigMap", "ConfigMap", "Secret", "Secret", "Service", "Service"]
    assert kinds == sorted([*expected, "Deployment", "PodDisruptionBudget", "Job"])
    assert {r["metadata"]["name"]: invalid(r, version) for r in resources} == {
        r["metadata"]["name"]: None for r in resources
    }


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("spec", "replicas"), "two"),
        (("spec", "template", "spec", "containers", 0, "readinessProbe", "grpc", "port"), "health"),
        (("spec", "template", "spec", "containers", 0, "livenessProbe", "grpcc"), {"port": 8081}),
        (("spec", "strategy", "rollingUpdate", "maxUnavailable"), [0]),
    ],
)
def test_the_schemas_refuse_a_broken_deployment(path: tuple[str | int, ...], value: object) -> None:
    deployment = copy.deepcopy(one(rendered("110000"), "Deployment"))
    target: Any = deployment
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    assert invalid(deployment, VERSIONS[-1]) is not None


def _node_config(resources: tuple[Resource, ...], tmp_path: Path) -> NodeConfig:
    config_map = next(r for r in resources if r["kind"] == "ConfigMap" and "node.yaml" in r.get("data", {}))
    file = tmp_path / "node.yaml"
    file.write_text(config_map["data"]["node.yaml"])
    return NodeConfig.load(file)


@pytest.mark.parametrize("region", REGIONS)
def test_the_deployment_serves_two_replicas_with_probes_on_the_health_port(region: str, tmp_path: Path) -> None:
    resources = rendered(region)
    deployment = one(resources, "Deployment")
    assert deployment["metadata"]["namespace"] == f"share-gateway-{region}"
    assert deployment["spec"]["replicas"] == 2
    pod = deployment["spec"]["template"]["spec"]
    [container] = pod["containers"]
    assert container["command"][:3] == ["share-gateway", "serve", "--config"]
    config_path = Path(container["command"][3])
    mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
    assert mounts[str(config_path.parent)] == "config"
    settings = yaml.safe_load(
        next(r for r in resources if r["kind"] == "ConfigMap" and "node.yaml" in r["data"])["data"]["node.yaml"]
    )
    assert settings["region"] == region
    health_port = int(settings["health"]["listen"].rsplit(":", 1)[1])
    assert container["readinessProbe"]["grpc"] == {"port": health_port, "service": "share_gateway.Readiness"}
    assert container["livenessProbe"]["grpc"] == {"port": health_port, "service": "share_gateway.Liveness"}
    assert {p["containerPort"] for p in container["ports"]} >= {7443, health_port}
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] != 0
    assert container["securityContext"]["allowPrivilegeEscalation"] is False
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert _node_config(resources, tmp_path).region == region


@pytest.mark.parametrize("region", REGIONS)
def test_the_budget_and_services_select_the_nodes_and_the_job_migrates(region: str) -> None:
    resources = rendered(region)
    deployment = one(resources, "Deployment")
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    budget = one(resources, "PodDisruptionBudget")
    assert budget["spec"]["minAvailable"] == 1
    assert budget["spec"]["selector"]["matchLabels"].items() <= labels.items()
    service = one(resources, "Service", "share-gateway")
    assert service["spec"]["selector"].items() <= labels.items()
    assert {p["port"] for p in service["spec"]["ports"]} == {7443, 7080}
    job = one(resources, "Job")
    [migrate] = job["spec"]["template"]["spec"]["containers"]
    assert migrate["command"][:3] == ["share-gateway", "migrate", "--config"]
    assert migrate["image"] == deployment["spec"]["template"]["spec"]["containers"][0]["image"]
    assert (
        not job["spec"]["template"]["metadata"]["labels"].items() >= budget["spec"]["selector"]["matchLabels"].items()
    )


@pytest.mark.parametrize("region", REGIONS)
def test_every_mounted_config_map_and_secret_is_rendered_and_holds_no_key(region: str) -> None:
    resources = rendered(region)
    names = {(r["kind"], r["metadata"]["name"]) for r in resources}
    for workload in (one(resources, "Deployment"), one(resources, "Job")):
        pod = workload["spec"]["template"]["spec"]
        for volume in pod["volumes"]:
            if "configMap" in volume:
                assert ("ConfigMap", volume["configMap"]["name"]) in names
            if "secret" in volume:
                assert ("Secret", volume["secret"]["secretName"]) in names
                assert volume["secret"]["defaultMode"] == 0o440, "the one group-readable mode the node accepts"
        for env in pod["containers"][0]["env"]:
            assert ("Secret", env["valueFrom"]["secretKeyRef"]["name"]) in names
    for secret in (r for r in resources if r["kind"] == "Secret"):
        for value in secret["data"].values():
            text = base64.b64decode(value).decode()
            assert text.startswith("PLACEHOLDER"), "no real key or password in the repository"
            assert "PRIVATE KEY" not in text
