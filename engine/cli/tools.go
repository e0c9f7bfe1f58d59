//go:build tools

// Package cli pins the Pulumi CLI's main package so `go mod tidy` keeps its dependencies.
package cli

import _ "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi"
