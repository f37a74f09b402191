package manifest

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path"
	"sort"
	"strings"
	"time"

	"github.com/portico-gw/portico/internal/spec"
)

// A package carries a project's services between installs that cannot see
// each other (publishing to another project): a zip of JSON files, one per
// upstream and per service, plus package.json. It never carries secrets or
// application credentials.
const (
	packageMeta   = "package.json"
	packageFormat = "portico-package/1"
	maxPackage    = 64 << 20 // bytes, unpacked
)

// PackageMeta describes a package. Name and Description are what the
// target project lists it by (packages before them had neither: the
// target names them DefaultPackageName).
type PackageMeta struct {
	Format      string    `json:"format"`
	Name        string    `json:"name,omitempty"`
	Description string    `json:"description,omitempty"`
	Project     string    `json:"project"`
	ExportedAt  time.Time `json:"exported_at"`
	Services    []string  `json:"services"`
	Upstreams   []string  `json:"upstreams"`
}

// DefaultPackageName names a package exported from project at a moment
// that was given no name: the project and the day, such as
// default-2025-05-01.
func DefaultPackageName(project string, at time.Time) string {
	return project + "-" + at.UTC().Format(time.DateOnly)
}

// PackagedService is a service with the path of its folder (folders are
// found by path in the target project).
type PackagedService struct {
	spec.Service
	Folder string `json:"folder,omitempty"`
}

// Package is a package's content.
type Package struct {
	Meta      PackageMeta
	Upstreams []spec.Upstream
	Services  []PackagedService
}

// WritePackage renders p as a zip.
func WritePackage(p *Package) ([]byte, error) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	put := func(name string, v any) error {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Deflate, Modified: p.Meta.ExportedAt})
		if err != nil {
			return err
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	}
	p.Meta.Format = packageFormat
	p.Meta.Services, p.Meta.Upstreams = nil, nil
	for _, s := range p.Services {
		p.Meta.Services = append(p.Meta.Services, s.Name)
	}
	for _, u := range p.Upstreams {
		p.Meta.Upstreams = append(p.Meta.Upstreams, u.Name)
	}
	if err := put(packageMeta, p.Meta); err != nil {
		return nil, fmt.Errorf("write package: %w", err)
	}
	for _, u := range p.Upstreams {
		if err := put("upstreams/"+u.Name+".json", u); err != nil {
			return nil, fmt.Errorf("write package: %w", err)
		}
	}
	for _, s := range p.Services {
		if err := put("services/"+s.Name+".json", s); err != nil {
			return nil, fmt.Errorf("write package: %w", err)
		}
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("write package: %w", err)
	}
	return buf.Bytes(), nil
}

// ReadPackage reads a zip made by WritePackage, each file with decode
// (strict, see Decoder). Every problem is a field error naming the file.
func ReadPackage(b []byte, decode Decoder) (Package, error) {
	var p Package
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		return p, spec.FieldErrors{{Field: "package", Message: "not a zip file: " + err.Error()}}
	}
	var fe spec.FieldErrors
	var total int64
	seenMeta := false
	for _, f := range zr.File {
		if f.FileInfo().IsDir() {
			continue
		}
		total += int64(f.UncompressedSize64)
		if total > maxPackage {
			return p, spec.FieldErrors{{Field: "package", Message: fmt.Sprintf("unpacks to more than %d bytes", maxPackage)}}
		}
		data, err := readZipFile(f)
		if err != nil {
			fe.Add(f.Name, "%v", err)
			continue
		}
		dir, base := path.Split(f.Name)
		switch {
		case f.Name == packageMeta:
			seenMeta = true
			err = decode(data, &p.Meta)
		case dir == "upstreams/" && strings.HasSuffix(base, ".json"):
			var u spec.Upstream
			if err = decode(data, &u); err == nil {
				p.Upstreams = append(p.Upstreams, u)
			}
		case dir == "services/" && strings.HasSuffix(base, ".json"):
			var s PackagedService
			if err = decode(data, &s); err == nil {
				p.Services = append(p.Services, s)
			}
		default:
			err = fmt.Errorf("is not part of a Portico package")
		}
		if ffe, ok := errors.AsType[spec.FieldErrors](err); ok {
			for _, e := range ffe {
				fe.Add(f.Name, "%s: %s", e.Field, e.Message)
			}
		} else if err != nil {
			fe.Add(f.Name, "%v", err)
		}
	}
	if !seenMeta {
		fe.Add(packageMeta, "is missing: not a Portico package")
	} else if p.Meta.Format != packageFormat {
		fe.Add(packageMeta+".format", "is %q, want %q", p.Meta.Format, packageFormat)
	} else {
		// What the target lists the package by: checked like an export's.
		name := p.Meta.Name
		if name == "" {
			name = "unnamed" // a package from before names: DefaultPackageName
		}
		spec.ValidatePackageInfo(&fe, packageMeta+".", name, p.Meta.Description)
		if p.Meta.Project != "" && !spec.ValidSlug(p.Meta.Project) {
			fe.Add(packageMeta+".project", "must be a project id")
		}
	}
	sort.Slice(p.Services, func(i, j int) bool { return p.Services[i].Name < p.Services[j].Name })
	sort.Slice(p.Upstreams, func(i, j int) bool { return p.Upstreams[i].Name < p.Upstreams[j].Name })
	return p, fe.Err()
}

func readZipFile(f *zip.File) ([]byte, error) {
	rc, err := f.Open()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return io.ReadAll(io.LimitReader(rc, maxPackage))
}

// Unmapped lists the upstreams the package's services refer to that the
// mapping does not name, sorted: a package import needs them all mapped.
func (p *Package) Unmapped(mapping map[string]string) []string {
	need := map[string]bool{}
	for _, s := range p.Services {
		if s.UpstreamID != "" {
			need[s.UpstreamID] = true
		}
	}
	var out []string
	for name := range need {
		if mapping[name] == "" {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}

// DataSources lists the data sources the package's generated data APIs
// read, sorted.
func (p *Package) DataSources() []string {
	seen := map[string]bool{}
	for _, s := range p.Services {
		for _, r := range s.Routes {
			if b := r.Backend; b != nil && b.SQLBackend != nil && b.SQLBackend.DataSource != "" {
				seen[b.SQLBackend.DataSource] = true
			}
		}
	}
	out := make([]string, 0, len(seen))
	for n := range seen {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// MapDataSources points every generated data API at the target's data
// source; a reference the mapping lacks is left (Unmapped lists it).
func (p *Package) MapDataSources(mapping map[string]string) {
	for si := range p.Services {
		routes := p.Services[si].Routes
		for ri := range routes {
			b := routes[ri].Backend
			if b == nil || b.SQLBackend == nil {
				continue
			}
			if to, ok := mapping[b.SQLBackend.DataSource]; ok {
				nb, sb := *b, *b.SQLBackend
				sb.DataSource = to
				nb.SQLBackend = &sb
				routes[ri].Backend = &nb
			}
		}
	}
}
