"""`rtc validate` and `rtc schemas export` as a user runs them."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from xml.etree import ElementTree

from tests.conftest import run_rtc

RUNTIME = """\
apiVersion: serving.kserve.io/v1alpha1
kind: ClusterServingRuntime
metadata:
  name: {name}
spec:
  containers:
  - name: kserve-container
    image: kserve/sklearnserver:v0.20.0
    {extra}
"""

WIDGET_CRD = """\
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.example.com
spec:
  group: example.com
  scope: Namespaced
  names: {kind: Widget, plural: widgets}
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          apiVersion: {type: string}
          kind: {type: string}
          metadata: {type: object}
          spec:
            type: object
            x-kubernetes-validations:
            - rule: self.min <= self.max
              message: min must not exceed max
            - rule: isURL(self.url)
              message: url must be a URL
            properties:
              min: {type: integer}
              max: {type: integer}
              url: {type: string}
              ports:
                type: array
                x-kubernetes-list-type: map
                x-kubernetes-list-map-keys: [port]
                items:
                  type: object
                  required: [port]
                  properties:
                    port: {type: integer}
"""


def runtime(name: str = "sklearn", extra: str = "ports: [{containerPort: 8080}]") -> str:
    return RUNTIME.format(name=name, extra=extra)


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_stdin_multi_document_points_at_the_line_of_the_bad_field(tmp_path: Path) -> None:
    stream = "---\n" + runtime("good") + "---\n# a comment\n" + runtime("bad", "ports: [{containerPort: http}]")
    run = run_rtc(tmp_path, "validate", "-", stdin=stream)
    assert run.code == 1
    lines = stream.splitlines()
    bad_line = next(i for i, line in enumerate(lines, 1) if "containerPort: http" in line)
    assert run.stdout.splitlines()[0] == (
        f'<stdin>:{bad_line}: error: spec.containers[0].ports[0].containerPort: got "http" (string); '
        "expected integer [E301]"
    )
    assert "in ClusterServingRuntime/bad (document 2)" in run.stdout
    assert run.stdout.rstrip().endswith("rtc: 2 documents in 1 file: 1 valid, 1 invalid")


def test_list_items_get_one_verdict_each(tmp_path: Path) -> None:
    items = textwrap.indent(runtime("one") + "---\n" + runtime("two", "ports: [{containerPort: http}]"), "  ")
    items = items.replace("  apiVersion:", "- apiVersion:").replace("  ---\n", "")
    path = write(tmp_path / "list.yaml", "apiVersion: v1\nkind: List\nitems:\n" + items)
    run = run_rtc(tmp_path, "validate", "-o", "json", str(path))
    assert run.code == 1
    resources = json.loads(run.stdout)["resources"]
    assert [(r["item"], r["name"], r["status"]) for r in resources] == [(0, "one", "valid"), (1, "two", "invalid")]
    assert resources[1]["findings"][0]["path"] == "spec.containers[0].ports[0].containerPort"
    assert resources[1]["line"] == 13


def test_folders_are_walked_and_kustomizations_skipped(tmp_path: Path) -> None:
    write(tmp_path / "m" / "a.yaml", runtime("a"))
    write(tmp_path / "m" / "sub" / "b.yml", runtime("b"))
    write(tmp_path / "m" / "c.json", json.dumps({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "c"}}))
    write(tmp_path / "m" / "kustomization.yaml", "resources: [a.yaml]\n")
    write(tmp_path / "m" / ".git" / "x.yaml", "not: [valid")
    write(tmp_path / "m" / "notes.txt", "ignored")
    run = run_rtc(tmp_path, "validate", "-o", "json", "m")
    assert run.code == 0, run.stdout
    statuses = {r["filename"]: r["status"] for r in json.loads(run.stdout)["resources"]}
    assert statuses == {
        "m/a.yaml": "valid",
        "m/c.json": "valid",
        "m/kustomization.yaml": "skipped",
        "m/sub/b.yml": "valid",
    }


def test_unknown_kinds_fail_unless_ignored(tmp_path: Path) -> None:
    path = write(tmp_path / "x.yaml", "apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w\n")
    run = run_rtc(tmp_path, "validate", str(path))
    assert run.code == 1
    assert "no schema for Widget in example.com/v1" in run.stdout and "[E305]" in run.stdout
    ignored = run_rtc(tmp_path, "validate", "--ignore-missing-schemas", str(path))
    assert ignored.code == 0
    assert "1 skipped" in ignored.stdout


def test_user_crds_with_cel_and_list_map_keys(tmp_path: Path) -> None:
    crds = write(tmp_path / "crds" / "widget.yaml", WIDGET_CRD)
    good = write(
        tmp_path / "good.yaml",
        "apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w\n  namespace: team\n"
        "spec: {min: 1, max: 2, url: 'https://x', ports: [{port: 1}, {port: 2}]}\n",
    )
    bad = write(
        tmp_path / "bad.yaml",
        "apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w\n"
        "spec: {min: 3, max: 2, url: x, ports: [{port: 1}, {port: 1}], extra: 1}\n",
    )
    run = run_rtc(tmp_path, "validate", "--schema-location", str(crds.parent), "-o", "json", str(good), str(bad))
    assert run.code == 1
    good_result, bad_result = json.loads(run.stdout)["resources"]
    assert good_result["status"] == "valid"
    # isURL is a Kubernetes CEL extension: reported as not checked, not failed.
    assert [f["code"] for f in good_result["findings"]] == ["W301"]
    codes = sorted((f["code"], f["path"]) for f in bad_result["findings"])
    assert codes == [
        ("E301", "spec.extra"),
        ("E303", "spec.ports[1]"),
        ("E304", "spec"),
        ("W301", "spec"),
    ]
    assert any("min must not exceed max" in f["message"] for f in bad_result["findings"])


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    assert run_rtc(tmp_path, "validate").code == 2
    missing = run_rtc(tmp_path, "validate", "nowhere.yaml")
    assert missing.code == 2 and "no such file or folder: nowhere.yaml" in missing.stderr
    not_a_crd = write(tmp_path / "cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n")
    bad_location = run_rtc(tmp_path, "validate", "--schema-location", str(not_a_crd), str(not_a_crd))
    assert bad_location.code == 2 and "no CustomResourceDefinition in this file" in bad_location.stderr
    assert run_rtc(tmp_path, "validate", "-o", "xml", str(not_a_crd)).code == 2


def test_unreadable_documents(tmp_path: Path) -> None:
    duplicate = write(tmp_path / "dup.yaml", "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: a\n  name: b\n")
    syntax = write(tmp_path / "syntax.yaml", "apiVersion: v1\nkind: [Namespace\n")
    binary = tmp_path / "binary.yaml"
    binary.write_bytes(b"apiVersion: v1\nkind: \xff\n")
    run = run_rtc(tmp_path, "validate", str(duplicate), str(syntax), str(binary))
    assert run.code == 1
    assert (
        f"{duplicate}:5: error: metadata.name: key 'name' appears twice in one mapping (first on line 4)" in run.stdout
    )
    assert f"{syntax}:3: error: not valid YAML" in run.stdout
    assert f"{binary}:1: error: not UTF-8 text" in run.stdout


def test_machine_readable_formats(tmp_path: Path) -> None:
    write(tmp_path / "m" / "good.yaml", runtime("good"))
    write(tmp_path / "m" / "bad.yaml", runtime("Bad"))
    junit = run_rtc(tmp_path, "validate", "-o", "junit", "m")
    assert junit.code == 1
    suites = ElementTree.fromstring(junit.stdout)
    assert [(s.get("name"), s.get("failures")) for s in suites] == [("m/bad.yaml", "1"), ("m/good.yaml", "0")]
    assert suites.find("testsuite/testcase/failure") is not None

    sarif = json.loads(run_rtc(tmp_path, "validate", "-o", "sarif", "m").stdout)
    (result,) = sarif["runs"][0]["results"]
    assert sarif["version"] == "2.1.0"
    assert result["ruleId"] == "E302" and result["level"] == "error"
    assert result["locations"][0]["physicalLocation"] == {
        "artifactLocation": {"uri": "m/bad.yaml"},
        "region": {"startLine": 4},
    }
    assert sarif["runs"][0]["tool"]["driver"]["rules"][0]["id"] == "E302"

    github = run_rtc(tmp_path, "validate", "-o", "github", "m").stdout.splitlines()
    assert github[0].startswith(
        "::error file=m/bad.yaml,line=4,title=rtc E302 ClusterServingRuntime/Bad (document 1)::"
    )
    assert github[0].endswith(
        'metadata.name: name "Bad" is not a valid DNS-1123 subdomain (lower-case letters, digits, '
        "'-' and '.', starting and ending with a letter or digit)"
    )


def test_schemas_export_uses_kubeconform_file_names(tmp_path: Path) -> None:
    run = run_rtc(tmp_path, "schemas", "export", str(tmp_path / "schemas"))
    assert run.code == 0, run.stderr
    names = {p.name for p in (tmp_path / "schemas").iterdir()}
    assert {
        "clusterservingruntime-serving-v1alpha1.json",
        "servingruntime-serving-v1alpha1.json",
        "inferenceservice-serving-v1beta1.json",
        "application-argoproj-v1alpha1.json",
        "applicationset-argoproj-v1alpha1.json",
        "kustomization-kustomize-v1.json",
        "gitrepository-source-v1.json",
        "configmap-v1.json",
        "deployment-apps-v1.json",
    } <= names
    schema = json.loads((tmp_path / "schemas" / "clusterservingruntime-serving-v1alpha1.json").read_text())
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["additionalProperties"] is False
    assert "kubeconform -strict -schema-location" in run.stderr
