// crdcheck strictly decodes the ServiceMonitor and PrometheusRule objects of a rendered Helm chart into the
// Prometheus Operator's own Go types (github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring),
// rejecting unknown, duplicate and wrongly-cased fields the way the API server's strict field validation does.
//
// Usage: helm template ... | crdcheck
// Prints one line per checked object ("ok <Kind> <name>") and exits 1 when any object does not decode.
package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	k8syaml "k8s.io/apimachinery/pkg/util/yaml"
	sigsjson "sigs.k8s.io/json"
	"sigs.k8s.io/yaml"
)

type typeMeta struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Metadata   struct {
		Name string `json:"name"`
	} `json:"metadata"`
}

func check(doc []byte) (string, error) {
	data, err := yaml.YAMLToJSON(doc)
	if err != nil {
		return "", fmt.Errorf("not YAML: %w", err)
	}
	if string(data) == "null" {
		return "", nil
	}
	var meta typeMeta
	if err := sigsjson.UnmarshalCaseSensitivePreserveInts(data, &meta); err != nil {
		return "", fmt.Errorf("not an object: %w", err)
	}
	group := strings.SplitN(meta.APIVersion, "/", 2)[0]
	if group != monitoringv1.SchemeGroupVersion.Group {
		return "", nil
	}
	if meta.APIVersion != monitoringv1.SchemeGroupVersion.String() {
		return "", fmt.Errorf("%s %s: apiVersion %q, want %q", meta.Kind, meta.Metadata.Name, meta.APIVersion,
			monitoringv1.SchemeGroupVersion.String())
	}
	var obj any
	switch meta.Kind {
	case monitoringv1.ServiceMonitorsKind:
		obj = &monitoringv1.ServiceMonitor{}
	case monitoringv1.PrometheusRuleKind:
		obj = &monitoringv1.PrometheusRule{}
	default:
		return "", fmt.Errorf("%s %s: kind not checked by crdcheck", meta.Kind, meta.Metadata.Name)
	}
	strictErrs, err := sigsjson.UnmarshalStrict(data, obj)
	if err != nil {
		return "", fmt.Errorf("%s %s: %w", meta.Kind, meta.Metadata.Name, err)
	}
	if len(strictErrs) > 0 {
		return "", fmt.Errorf("%s %s: %w", meta.Kind, meta.Metadata.Name, errors.Join(strictErrs...))
	}
	if err := semantic(obj); err != nil {
		return "", fmt.Errorf("%s %s: %w", meta.Kind, meta.Metadata.Name, err)
	}
	return fmt.Sprintf("ok %s %s", meta.Kind, meta.Metadata.Name), nil
}

// semantic checks what the CRD's OpenAPI schema requires beyond the Go types.
func semantic(obj any) error {
	switch o := obj.(type) {
	case *monitoringv1.ServiceMonitor:
		if len(o.Spec.Endpoints) == 0 {
			return errors.New("spec.endpoints is empty")
		}
		for i, ep := range o.Spec.Endpoints {
			if ep.Port == "" && ep.TargetPort == nil {
				return fmt.Errorf("spec.endpoints[%d]: neither port nor targetPort", i)
			}
		}
	case *monitoringv1.PrometheusRule:
		if len(o.Spec.Groups) == 0 {
			return errors.New("spec.groups is empty")
		}
		for i, g := range o.Spec.Groups {
			if g.Name == "" {
				return fmt.Errorf("spec.groups[%d].name is empty", i)
			}
			for j, r := range g.Rules {
				if (r.Alert == "") == (r.Record == "") {
					return fmt.Errorf("spec.groups[%d].rules[%d]: exactly one of alert and record must be set", i, j)
				}
				if r.Expr.String() == "" {
					return fmt.Errorf("spec.groups[%d].rules[%d]: expr is empty", i, j)
				}
			}
		}
	}
	return nil
}

func main() {
	reader := k8syaml.NewYAMLReader(bufio.NewReader(os.Stdin))
	failed := false
	for {
		doc, err := reader.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "crdcheck: reading input:", err)
			os.Exit(2)
		}
		if len(bytes.TrimSpace(doc)) == 0 {
			continue
		}
		line, err := check(doc)
		if err != nil {
			fmt.Println("FAIL", err)
			failed = true
			continue
		}
		if line != "" {
			fmt.Println(line)
		}
	}
	if failed {
		os.Exit(1)
	}
}
