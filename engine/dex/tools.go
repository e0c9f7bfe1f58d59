//go:build tools

// Package dex pins dex's main package so `go mod tidy` keeps its dependencies.
package dex

import _ "github.com/dexidp/dex/cmd/dex"
