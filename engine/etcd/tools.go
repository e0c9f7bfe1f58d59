//go:build tools

// Package etcd pins etcd's main package so `go mod tidy` keeps its dependencies.
package etcd

import _ "go.etcd.io/etcd/server/v3"
