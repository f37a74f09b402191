package spec

import (
	"fmt"
	"regexp"
	"strings"
)

// VersionRouting runs other versions of a service beside the one its
// deployment runs (the default version) in the same gateway group: a
// request names a version by a header, a query parameter or a path
// segment, and a request that names none gets the default version.
type VersionRouting struct {
	// By is how a request names its version: header, query or path.
	By string `json:"by"`
	// Name is the header or query parameter naming the version (by
	// header or query; refused by path).
	Name string `json:"name,omitempty"`
	// DefaultMatch is the value (by header or query) that names the
	// default version explicitly; empty: the default version's string.
	// By path the default version answers without a segment.
	DefaultMatch string `json:"default_match,omitempty"`
	// Versions are the other versions running beside the default one.
	Versions []RoutedVersion `json:"versions"`
}

// RoutedVersion is a version running beside the default one.
type RoutedVersion struct {
	Version string `json:"version"`
	// Match is the header or query value, or the path segment, that
	// names this version; empty: the version string.
	Match string `json:"match,omitempty"`
	// Upstream is where this version's requests go; nil: the
	// deployment's upstream.
	Upstream *Upstream `json:"upstream,omitempty"`
}

// DeployedVersion is a routed version as a gateway compiles it: the
// version's frozen service, routes included, and its upstream.
type DeployedVersion struct {
	Version  string   `json:"version"`
	Match    string   `json:"match"`
	Service  Service  `json:"service"`
	Upstream Upstream `json:"upstream"`
}

// How a request names its version.
const (
	VersionByHeader = "header"
	VersionByQuery  = "query"
	VersionByPath   = "path"
)

// MaxRoutedVersions bounds the versions beside the default one: each
// compiles the service's routes once more.
const MaxRoutedVersions = 10

// versionMatchRe is what a version can be named by: one path segment, one
// header or query value, without anything that needs escaping.
var versionMatchRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._+-]{0,63}$`)

// queryNameRe is a query parameter name that needs no escaping.
var queryNameRe = regexp.MustCompile(`^[A-Za-z0-9_.\-\[\]]{1,100}$`)

// MatchOf is the value that names a routed version.
func (v RoutedVersion) MatchOf() string {
	if v.Match != "" {
		return v.Match
	}
	return v.Version
}

// DefaultMatchOf is the value that names the default version.
func (vr *VersionRouting) DefaultMatchOf(defaultVersion string) string {
	if vr.DefaultMatch != "" {
		return vr.DefaultMatch
	}
	return defaultVersion
}

// Validate checks the routing on its own; that the versions exist is the
// caller's check. defaultVersion is what the deployment runs.
func (vr *VersionRouting) Validate(prefix, defaultVersion string) FieldErrors {
	var fe FieldErrors
	switch vr.By {
	case VersionByHeader:
		if !validHeaderName(vr.Name) {
			fe.Add(prefix+"name", "must be a header name (an RFC 9110 token)")
		}
	case VersionByQuery:
		if !queryNameRe.MatchString(vr.Name) {
			fe.Add(prefix+"name", "must be a query parameter name: letters, digits, '_', '.', '-', '[', ']' (at most 100)")
		}
	case VersionByPath:
		if vr.Name != "" {
			fe.Add(prefix+"name", "is not taken by path: the version is the path segment after the service's path")
		}
		if vr.DefaultMatch != "" {
			fe.Add(prefix+"default_match", "is not taken by path: the default version answers without a segment")
		}
	case "":
		fe.Add(prefix+"by", "is required: header, query or path")
	default:
		fe.Add(prefix+"by", "must be header, query or path")
	}
	if vr.DefaultMatch != "" && !versionMatchRe.MatchString(vr.DefaultMatch) {
		fe.Add(prefix+"default_match", "must start with a letter or digit and hold only letters, digits, '.', '_', '+' or '-' (at most 64)")
	}
	switch {
	case len(vr.Versions) == 0:
		fe.Add(prefix+"versions", "is required: at least one version beside the default one (delete the routing to run only that)")
	case len(vr.Versions) > MaxRoutedVersions:
		fe.Add(prefix+"versions", "holds %d versions; at most %d run beside the default one", len(vr.Versions), MaxRoutedVersions)
	}
	versions := map[string]bool{defaultVersion: true}
	matches := map[string]string{}
	if vr.By != VersionByPath {
		matches[vr.DefaultMatchOf(defaultVersion)] = "the default version " + defaultVersion
	}
	for i, v := range vr.Versions {
		field := fmt.Sprintf("%sversions[%d]", prefix, i)
		switch {
		case !ValidVersion(v.Version):
			fe.Add(field+".version", "must be a version string of the service")
		case v.Version == defaultVersion:
			fe.Add(field+".version", "%s is the default version, which the deployment runs", v.Version)
		case versions[v.Version]:
			fe.Add(field+".version", "%s is given twice", v.Version)
		}
		versions[v.Version] = true
		m := v.MatchOf()
		if !versionMatchRe.MatchString(m) {
			fe.Add(field+".match", "must start with a letter or digit and hold only letters, digits, '.', '_', '+' or '-' (at most 64)")
		} else if other, ok := matches[m]; ok {
			fe.Add(field+".match", "%q already names %s", m, other)
		}
		matches[m] = "version " + v.Version
		if v.Upstream != nil {
			fe = append(fe, v.Upstream.Validate(field+".upstream.")...)
		}
	}
	return fe
}

// VersionPaths are the paths a routed version's route answers at, given
// the paths the route would answer at as the default version (RoutePaths)
// and its service's path. By path the version's segment follows the
// service's path; by header or query the route sits under a hidden first
// segment naming the selector and its value, which no request path can
// hold (the gateway refuses control bytes in paths): the gateway looks a
// request up there when it carries that header or query parameter.
func (vr *VersionRouting) VersionPaths(groupPrefix, project string, svc *Service, r *Route, match string) []string {
	if vr.By == VersionByPath {
		s := *svc
		s.Path = strings.TrimRight(svc.EffectivePath(), "/") + "/" + match
		return RoutePaths(groupPrefix, project, &s, r)
	}
	paths := RoutePaths(groupPrefix, project, svc, r)
	hidden := vr.SelectorPrefix() + match
	for i, p := range paths {
		paths[i] = hidden + p
	}
	return paths
}

// SelectorPrefix is the hidden first segment of header- and
// query-routed versions' paths, up to the value: "/\x01h:x-api-version="
// (header names are case-insensitive), "/\x01q:version=". Empty by path.
func (vr *VersionRouting) SelectorPrefix() string {
	switch vr.By {
	case VersionByHeader:
		return "/\x01h:" + strings.ToLower(vr.Name) + "="
	case VersionByQuery:
		return "/\x01q:" + vr.Name + "="
	}
	return ""
}
