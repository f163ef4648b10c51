// flux-substitute runs Flux's own post-build variable substitution
// (github.com/fluxcd/pkg/kustomize.SubstituteVariables, the function
// kustomize-controller v1.9.4 calls for every resource of a Kustomization
// with spec.postBuild) over a YAML stream, so rtc's tests can show what Flux
// would apply without a cluster.
//
// Usage: flux-substitute KUSTOMIZATION.yaml < resources.yaml > substituted.yaml
//
// Only in-line variables (spec.postBuild.substitute) are used: dry-run mode
// skips reading ConfigMaps and Secrets, so no cluster is needed.
package main

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/fluxcd/pkg/kustomize"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/kustomize/api/provider"
	"sigs.k8s.io/yaml"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintf(os.Stderr, "flux-substitute: %v\n", err)
		os.Exit(1)
	}
}

func run() error {
	if len(os.Args) != 2 {
		return fmt.Errorf("usage: flux-substitute KUSTOMIZATION.yaml < resources.yaml")
	}
	ksData, err := os.ReadFile(os.Args[1])
	if err != nil {
		return err
	}
	var ks unstructured.Unstructured
	if err := yaml.Unmarshal(ksData, &ks.Object); err != nil {
		return fmt.Errorf("%s: %w", os.Args[1], err)
	}
	input, err := io.ReadAll(os.Stdin)
	if err != nil {
		return err
	}
	resources, err := provider.NewDefaultDepProvider().GetResourceFactory().SliceFromBytes(input)
	if err != nil {
		return err
	}
	for i, res := range resources {
		// What kustomize-controller does for each resource when spec.postBuild is set.
		if _, err := kustomize.SubstituteVariables(context.Background(), nil, ks, res,
			kustomize.SubstituteWithDryRun(true)); err != nil {
			return fmt.Errorf("post build failed for '%s/%s': %w", res.GetGvk(), res.GetName(), err)
		}
		out, err := res.AsYAML()
		if err != nil {
			return err
		}
		if i > 0 {
			os.Stdout.WriteString("---\n")
		}
		os.Stdout.Write(out)
	}
	return nil
}
