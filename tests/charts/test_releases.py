"""The releases platformc renders are those the GitOps engine installs, read from the objects it reads."""

from __future__ import annotations

import shutil
from pathlib import Path

from compiler.charts.releases import (
    builtin_api_versions,
    releases_in_objects,
    releases_of_units,
    rendered_tree,
)
from compiler.emit import render_cluster
from compiler.pipeline import ClusterBuild
from tests.charts.conftest import Rendered, of_kind


def test_releases_of_the_model_are_those_in_the_applications_and_helmreleases(
    example_builds: dict[str, ClusterBuild],
) -> None:
    """Argo CD (prod-us-east) reads chart sources of Applications; Flux (staging-eu) HelmReleases with
    their HelmRepository / OCIRepository. Both must carry what releases_of_units renders."""
    for build in example_builds.values():
        from_model = sorted(r.comparable() for r in releases_of_units(build.model.engine, build.units))
        from_tree = sorted(r.comparable() for r in releases_in_objects(build.placed))
        assert from_model == from_tree
        assert {r[1] for r in from_model} >= {
            "gpu-operator",
            "kueue",
            "kube-prometheus-stack",
            "cert-manager",
        }


def test_argo_release_name_defaults_to_the_application_name() -> None:
    """argo-cd reposerver/repository/repository.go helmTemplate: releaseName defaults to the app name;
    valuesObject overrides values."""
    app = {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Application",
        "metadata": {"name": "c1-things"},
        "spec": {
            "destination": {"namespace": "things"},
            "source": {
                "repoURL": "registry.example/charts",
                "chart": "things",
                "targetRevision": "1.0.0",
                "helm": {"values": "a: 1\nb: 2\n", "valuesObject": {"b": 3}},
            },
        },
    }
    (release,) = releases_in_objects([("apps", app)])
    assert (release.release, release.namespace, release.repository) == (
        "c1-things",
        "things",
        "oci://registry.example/charts",
    )
    assert release.values == {"a": 1, "b": 3}


def test_flux_release_name_defaults_to_target_namespace_and_name() -> None:
    """helm-controller api/v2 HelmRelease.GetReleaseName: `<targetNamespace>-<name>` without releaseName."""
    source = {
        "apiVersion": "source.toolkit.fluxcd.io/v1",
        "kind": "HelmRepository",
        "metadata": {"name": "repo", "namespace": "flux-system"},
        "spec": {"url": "https://charts.example"},
    }
    release = {
        "apiVersion": "helm.toolkit.fluxcd.io/v2",
        "kind": "HelmRelease",
        "metadata": {"name": "things", "namespace": "flux-system"},
        "spec": {
            "targetNamespace": "things-system",
            "chart": {
                "spec": {
                    "chart": "things",
                    "version": "1.0.0",
                    "sourceRef": {"kind": "HelmRepository", "name": "repo"},
                }
            },
        },
    }
    (found,) = releases_in_objects(
        [("components/things/flux-system", source), ("components/things/flux-system", release)]
    )
    assert (found.unit, found.release, found.namespace, found.repository) == (
        "things",
        "things-system-things",
        "things-system",
        "https://charts.example",
    )


def test_cluster_serves_its_version_apis_and_the_charts_crds(example_rendered: dict[str, Rendered]) -> None:
    """dra-driver-nvidia-gpu 0.4.1 templates/_helpers.tpl picks resource.k8s.io/v1 when the cluster
    serves it (Kubernetes 1.34 does) and then sets the gpu DeviceClass's extendedResourceName
    (templates/deviceclass-gpu.yaml)."""
    assert "resource.k8s.io/v1/DeviceClass" in builtin_api_versions("1.34")
    assert not any("alpha" in v for v in builtin_api_versions("1.34"))
    (gpu,) = of_kind(example_rendered["prod-us-east"]["dra"], "DeviceClass", "gpu.nvidia.com")
    assert gpu["apiVersion"] == "resource.k8s.io/v1"
    assert gpu["spec"]["extendedResourceName"] == "nvidia.com/gpu"


def test_a_generated_tree_renders_like_the_model(
    example_builds: dict[str, ClusterBuild],
    example_rendered: dict[str, Rendered],
    shared_charts: Path,
    tmp_path: Path,
) -> None:
    """verify reads a generated tree: same units, same objects as from the compiled model."""
    for name, build in example_builds.items():
        for path, content in render_cluster(build.info, build.placed).items():
            target = tmp_path / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(content)
        assert rendered_tree(tmp_path / name, shared_charts) == example_rendered[name]
    shutil.rmtree(tmp_path)


def test_a_release_that_skips_crds_renders_none(
    example_builds: dict[str, ClusterBuild], example_rendered: dict[str, Rendered]
) -> None:
    """The DRA driver's release skips its crds/ (Argo CD helm.skipCrds; gpu-operator installs the
    ComputeDomain CRDs): the render leaves them out, as `helm template` without --include-crds does."""
    build = example_builds["prod-us-east"]
    (dra,) = [r for r in releases_in_objects(build.placed) if r.chart == "dra-driver-nvidia-gpu"]
    assert dra.skip_crds
    assert not of_kind(example_rendered["prod-us-east"]["dra"], "CustomResourceDefinition")
    crds = {
        o["metadata"]["name"]
        for o in of_kind(example_rendered["prod-us-east"]["gpu-operator"], "CustomResourceDefinition")
    }
    assert "computedomains.resource.nvidia.com" in crds
