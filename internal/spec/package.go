package spec

import (
	"regexp"
	"time"
	"unicode"
	"unicode/utf8"
)

// Package is a package imported into a project (cross-project
// publishing), as the target project lists it: what the package says of
// itself (name, description, where it came from), where it stands, and
// why. An import that is refused leaves the package here, failed, with
// the uploaded zip kept, so it can be applied again with a corrected
// mapping; one that succeeds is published, with what it changed.
type Package struct {
	ID            string    `json:"id"`
	Project       string    `json:"project"`        // the target project
	Name          string    `json:"name"`           // the package's own name (ValidPackageName)
	Description   string    `json:"description"`    // as given at export
	SourceProject string    `json:"source_project"` // the project it was exported from
	ExportedAt    time.Time `json:"exported_at,omitzero"`
	Services      []string  `json:"services"` // the services it carries
	// Uses lists every upstream and data source the package's services
	// refer to: each must be mapped to one of the target project's.
	Uses PackageRefs `json:"uses"`

	State string `json:"state"` // PackagePending, PackagePublished, PackageFailed
	// Reason says why a failed package was refused (the refusal's detail),
	// Errors each field the refusal named, and Unmapped what the last
	// attempt's mapping left out. All empty unless failed.
	Reason   string       `json:"reason,omitempty"`
	Errors   []FieldError `json:"errors,omitempty"`
	Unmapped PackageRefs  `json:"unmapped,omitzero"`
	// Mapping is the last attempt's.
	Mapping PackageMapping `json:"mapping"`
	// Result is what a published package created and changed.
	Result   *PackageResult `json:"result,omitempty"`
	Attempts int            `json:"attempts"`
	// Size is the uploaded zip's length in bytes; the zip is kept until
	// the package is published.
	Size int `json:"size"`

	CreatedBy string    `json:"created_by"` // who uploaded it
	CreatedAt time.Time `json:"created_at"`
	UpdatedBy string    `json:"updated_by"` // who made the last attempt
	UpdatedAt time.Time `json:"updated_at"`
}

// PackageRefs names upstreams and data sources of a package.
type PackageRefs struct {
	Upstreams   []string `json:"upstreams,omitempty"`
	DataSources []string `json:"data_sources,omitempty"`
}

// PackageMapping says which upstream (data source) of the target project
// stands for each one a package's services refer to.
type PackageMapping struct {
	Upstreams   map[string]string `json:"upstreams"`
	DataSources map[string]string `json:"data_sources"`
}

// PackageChange is one change an applied package made.
type PackageChange struct {
	Kind   string   `json:"kind"`   // upstream | service | route
	Name   string   `json:"name"`   // route: service/route
	Action string   `json:"action"` // create | update | delete
	Fields []string `json:"fields,omitempty"`
}

// PackageResult is what applying a package did.
type PackageResult struct {
	Changes  []PackageChange `json:"changes"`
	Diff     string          `json:"diff"`
	Warnings []string        `json:"warnings,omitempty"`
}

// The states of an imported package.
const (
	PackagePending   = "pending"   // uploaded, not applied yet (or the apply did not finish)
	PackagePublished = "published" // applied
	PackageFailed    = "failed"    // refused; Reason and Errors say why
)

// PackageStates lists the states of an imported package.
var PackageStates = []string{PackagePending, PackagePublished, PackageFailed}

// Bounds of a package's name and description.
const (
	MaxPackageName        = 100
	MaxPackageDescription = 2000
)

var packageNameRe = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,100}$`)

// ValidPackageName reports whether s can name a package: letters, digits,
// underscore, hyphen and dot, at most MaxPackageName of them.
func ValidPackageName(s string) bool { return packageNameRe.MatchString(s) }

// ValidatePackageInfo checks a package's name and description, naming
// the fields with prefix (such as "package.json.").
func ValidatePackageInfo(fe *FieldErrors, prefix, name, description string) {
	if !ValidPackageName(name) {
		fe.Add(prefix+"name", "must be 1 to %d letters, digits, _, - or .", MaxPackageName)
	}
	switch {
	case len(description) > MaxPackageDescription:
		fe.Add(prefix+"description", "must be at most %d bytes", MaxPackageDescription)
		return
	case !utf8.ValidString(description):
		fe.Add(prefix+"description", "must be UTF-8")
		return
	}
	for _, r := range description {
		if unicode.IsControl(r) && r != '\n' && r != '\t' {
			fe.Add(prefix+"description", "must not contain control characters other than newline and tab")
			break
		}
	}
}
