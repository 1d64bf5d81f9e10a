"""Where the CRDs of every built-in component come from, at the pinned versions.

One entry per component (and per GitOps engine, whose CRDs the cluster already has).
`scripts/gen_crd_schemas.py` builds the embedded bundle from these entries; `schemas pull`
uses `url_template` + `crd_files` to fetch another release of a component whose pin the
spec overrides. The entries move into the component descriptors once those exist.

`url_template` takes `{version}` (the pin, as the spec writes it) and `{file}`. It points
at raw.githubusercontent.com at the release tag: that host serves the tagged file
directly, where GitHub release downloads redirect to another host (which pull refuses).
"""

from __future__ import annotations

from dataclasses import dataclass

RAW = "https://raw.githubusercontent.com"


@dataclass(frozen=True)
class CrdSource:
    name: str  # the spec's components.<name> key, or the GitOps engine
    project: str  # upstream GitHub repository
    version: str  # release tag of the embedded schemas
    commit: str  # commit of that tag ("" when the collector did not record it)
    url_template: str  # {version}, {file}
    crd_files: tuple[str, ...]  # files under the template's folder that hold the CRDs
    chart_archive: str = ""  # chart file in ../shared/charts holding the same CRDs
    chart_path: str = ""  # the chart's folder in the upstream repository
    helm_set: tuple[str, ...] = ()  # `--set` values that make the chart render its CRDs
    groups: frozenset[str] = frozenset()  # keep only these API groups (empty: all)
    spec_pin: str = ""  # Platform spec.components key that overrides `version`


def _raw(project: str, folder: str) -> str:
    return f"{RAW}/{project}/{{version}}/{folder}/{{file}}"


SOURCES: tuple[CrdSource, ...] = (
    CrdSource(
        "gpuOperator",
        "NVIDIA/gpu-operator",
        "v26.7.0",
        "10ee5b3638b89e11e949412aafa5ba99279c3721",
        _raw("NVIDIA/gpu-operator", "deployments/gpu-operator/crds"),
        ("nvidia.com_clusterpolicies.yaml", "nvidia.com_nvidiadrivers.yaml", "nvidia.com_gpuclusters.yaml"),
        chart_archive="gpu-operator-v26.7.0.tgz",
        chart_path="deployments/gpu-operator",
        # resource.nvidia.com is the DRA driver's API; its own chart is the source for it.
        groups=frozenset({"nvidia.com", "nfd.k8s-sigs.io"}),
        spec_pin="gpuOperator",
    ),
    CrdSource(
        "draDriver",
        "kubernetes-sigs/dra-driver-nvidia-gpu",
        "v0.4.1",
        "764900e7833798a1528bd52a2af3e1b2d5f7a616",
        _raw("kubernetes-sigs/dra-driver-nvidia-gpu", "deployments/helm/dra-driver-nvidia-gpu/crds"),
        ("resource.nvidia.com_computedomains.yaml", "resource.nvidia.com_computedomaincliques.yaml"),
        chart_archive="dra-driver-nvidia-gpu-0.4.1.tgz",
        chart_path="deployments/helm/dra-driver-nvidia-gpu",
        helm_set=("resources.gpus.enabled=false",),
        spec_pin="draDriver",
    ),
    CrdSource(
        "kueue",
        "kubernetes-sigs/kueue",
        "v0.19.2",
        "8eab68778fc1b52affe165fdf5af29d1e9b4f3cb",
        _raw("kubernetes-sigs/kueue", "config/components/crd/bases"),
        tuple(
            f"kueue.x-k8s.io_{plural}.yaml"
            for plural in (
                "admissionchecks",
                "clusterqueues",
                "cohorts",
                "localqueues",
                "multikueueclusters",
                "multikueueconfigs",
                "provisioningrequestconfigs",
                "resourceflavors",
                "topologies",
                "workloadpriorityclasses",
                "workloads",
            )
        ),
        chart_archive="kueue-0.19.2.tgz",
        chart_path="charts/kueue",
        spec_pin="kueue",
    ),
    CrdSource(
        "kserve",
        "kserve/kserve",
        "v0.20.0",
        "1fb781055dd1567164358233e1125142ca6ef1fe",
        _raw("kserve/kserve", "config/crd/full"),
        tuple(
            f"serving.kserve.io_{plural}.yaml"
            for plural in (
                "clusterservingruntimes",
                "clusterstoragecontainers",
                "inferencegraphs",
                "inferenceservices",
                "servingruntimes",
                "trainedmodels",
            )
        ),
        chart_archive="kserve-crd-v0.20.0.tgz",
        chart_path="charts/kserve-crd",
        spec_pin="kserve",
    ),
    CrdSource(
        "certManager",
        "cert-manager/cert-manager",
        "v1.19.1",
        "a22e21ea",
        _raw("cert-manager/cert-manager", "deploy/crds"),
        (
            "acme.cert-manager.io_challenges.yaml",
            "acme.cert-manager.io_orders.yaml",
            "cert-manager.io_certificaterequests.yaml",
            "cert-manager.io_certificates.yaml",
            "cert-manager.io_clusterissuers.yaml",
            "cert-manager.io_issuers.yaml",
        ),
        chart_archive="cert-manager-v1.19.1.tgz",
        chart_path="deploy/charts/cert-manager",
        helm_set=("crds.enabled=true",),
        spec_pin="certManager",
    ),
    CrdSource(
        "kube-prometheus-stack",
        "prometheus-community/helm-charts",
        "kube-prometheus-stack-88.0.0",
        "b5a2d187",
        _raw("prometheus-community/helm-charts", "charts/kube-prometheus-stack/charts/crds/crds"),
        tuple(
            f"crd-{plural}.yaml"
            for plural in (
                "alertmanagerconfigs",
                "alertmanagers",
                "podmonitors",
                "probes",
                "prometheusagents",
                "prometheuses",
                "prometheusrules",
                "scrapeconfigs",
                "servicemonitors",
                "thanosrulers",
            )
        ),
        chart_archive="kube-prometheus-stack-88.0.0.tgz",
        chart_path="charts/kube-prometheus-stack",
    ),
    CrdSource(
        "grafana-operator",
        "grafana/grafana-operator",
        "v5.24.0",
        "065a718a1fe83728d08054c299de7f8577e88f79",
        _raw("grafana/grafana-operator", "config/crd/bases"),
        tuple(
            f"grafana.integreatly.org_{plural}.yaml"
            for plural in (
                "grafanaalertrulegroups",
                "grafanacontactpoints",
                "grafanadashboards",
                "grafanadatasources",
                "grafanafolders",
                "grafanalibrarypanels",
                "grafanamanifests",
                "grafanamutetimings",
                "grafananotificationpolicies",
                "grafananotificationpolicyroutes",
                "grafananotificationtemplates",
                "grafanas",
                "grafanaserviceaccounts",
            )
        ),
        chart_archive="grafana-operator-5.24.0.tgz",
        chart_path="deploy/helm/grafana-operator",
    ),
    # The GitOps engines are installed before platformc's trees and ship no chart here.
    CrdSource(
        "argocd",
        "argoproj/argo-cd",
        "v3.5.1",
        "109ca7ca71139e514114499d294a492e7910a965",
        _raw("argoproj/argo-cd", "manifests/crds"),
        ("application-crd.yaml", "applicationset-crd.yaml", "appproject-crd.yaml"),
    ),
    CrdSource(
        "flux-source-controller",
        "fluxcd/source-controller",
        "v1.9.4",
        "",
        _raw("fluxcd/source-controller", "config/crd/bases"),
        tuple(
            f"source.toolkit.fluxcd.io_{plural}.yaml"
            for plural in ("buckets", "gitrepositories", "helmcharts", "helmrepositories", "ocirepositories")
        ),
    ),
    CrdSource(
        "flux-kustomize-controller",
        "fluxcd/kustomize-controller",
        "v1.9.4",
        "1324b615da01038e2859cbcde604bd5434f21933",
        _raw("fluxcd/kustomize-controller", "config/crd/bases"),
        ("kustomize.toolkit.fluxcd.io_kustomizations.yaml",),
    ),
    CrdSource(
        "flux-helm-controller",
        "fluxcd/helm-controller",
        "v1.6.3",
        "372c34e2b4a455d24ef6cbb8321c82c4533dbbd8",
        _raw("fluxcd/helm-controller", "config/crd/bases"),
        ("helm.toolkit.fluxcd.io_helmreleases.yaml",),
    ),
)

BY_NAME = {source.name: source for source in SOURCES}
BY_SPEC_PIN = {source.spec_pin: source for source in SOURCES if source.spec_pin}
