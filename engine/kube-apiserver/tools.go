//go:build tools

// Package kubeapiserver pins the API server's and kubectl's main packages so `go mod tidy` keeps their dependencies.
package kubeapiserver

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kubectl"
)
