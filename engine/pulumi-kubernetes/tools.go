//go:build tools

// Package pulumikubernetes pins the provider plugin's main package so `go mod tidy` keeps its dependencies.
package pulumikubernetes

import _ "github.com/pulumi/pulumi-kubernetes/provider/v4/cmd/pulumi-resource-kubernetes"
