// Package spec holds Portico's resource types: the vocabulary shared by the
// store, the control plane and the gateway. It imports only the standard
// library. Validate methods return FieldErrors with JSON paths so the admin
// API can name every bad field.
package spec
