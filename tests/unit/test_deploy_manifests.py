"""The Kubernetes manifests in deploy/k8s are valid against the Kubernetes schemas.

Validated offline (the schemas ship with the validator) and strictly, so a misspelt
field fails here instead of being ignored by a cluster's lenient client.
"""

import copy
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

K8S = Path(__file__).resolve().parents[2] / "deploy" / "k8s"
KUBERNETES = "1.31"  # the oldest minor still supported by the big managed offerings


def _documents() -> list[tuple[str, dict[str, Any]]]:
    """Every resource of the kustomization, named by file and kind."""
    listed = yaml.safe_load((K8S / "kustomization.yaml").read_text())["resources"]
    return [
        (f"{name}:{document['kind']}", document)
        for name in listed
        for document in yaml.safe_load_all((K8S / name).read_text())
    ]


@pytest.mark.parametrize(("where", "resource"), _documents(), ids=lambda value: str(value))
def test_every_manifest_is_valid_kubernetes(where: str, resource: dict[str, Any]) -> None:
    kubernetes_validate.validate(resource, KUBERNETES, strict=True)


def test_a_misspelt_probe_field_is_caught() -> None:
    # Given the StatefulSet with a typo in its readiness probe
    statefulset = dict(_documents())["statefulset.yaml:StatefulSet"]
    broken = copy.deepcopy(statefulset)
    probe = broken["spec"]["template"]["spec"]["containers"][0]["readinessProbe"]
    probe["periodSecond"] = probe.pop("periodSeconds")
    # Then validation refuses it
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, KUBERNETES, strict=True)


def test_the_worker_is_probed_and_keeps_its_tables_on_a_volume() -> None:
    resources = dict(_documents())
    pod = resources["statefulset.yaml:StatefulSet"]["spec"]["template"]["spec"]
    worker = pod["containers"][0]
    assert worker["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert worker["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert worker["startupProbe"]["httpGet"]["path"] == "/healthz"
    data_dir = resources["configmap.yaml:ConfigMap"]["data"]["DISTGATE_DATA_DIR"]
    assert {"name": "data", "mountPath": data_dir} in worker["volumeMounts"]
    assert "requests" in worker["resources"]
    assert "PodDisruptionBudget" in {where.split(":")[1] for where in resources}
