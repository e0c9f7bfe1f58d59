//go:build tools

// Package kubeapiserver pins the main packages of the API server, the controller manager (its
// clusterrole-aggregation controller fills the built-in admin/edit/view roles) and kubectl, so
// `go mod tidy` keeps their dependencies.
package kubeapiserver

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kubectl"
)
