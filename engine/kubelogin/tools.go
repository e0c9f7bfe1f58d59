//go:build tools

// Package kubelogin pins kubelogin's main package (the module's root) so `go mod tidy` keeps its dependencies.
package kubelogin

import _ "github.com/int128/kubelogin"
