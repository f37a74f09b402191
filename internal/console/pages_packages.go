package console

import (
	"net/url"
	"strconv"
	"strings"

	"github.com/portico-gw/portico/internal/rbac"
	"github.com/portico-gw/portico/internal/spec"
	"github.com/portico-gw/portico/internal/webpage"
)

// packageRoutes are the packages imported into a project (cross-project
// publishing): the list with each package's state and why a failed one
// was refused, a failed or pending one's retry form with its mapping,
// and deleting a record. Permissions are the import's.
func packageRoutes() []pageRoute {
	const K = "/p/{p}/packages"
	return []pageRoute{
		{pattern: "GET " + K, perm: rbac.PackageImport, scope: scopeProject, handle: func(q *req) error { return packagesView(q, q.page(q.t("nav.packages"), "packages"), 200) }},
		{pattern: "POST " + K + "/{k}/retry", perm: rbac.PackageImport, scope: scopeProject, handle: (*req).retryPackage},
		{pattern: "POST " + K + "/{k}/delete", perm: rbac.PackageImport, scope: scopeProject, handle: (*req).deletePackage},
	}
}

// packagesData is the Packages page: the project's packages, newest
// first, and the names its upstreams and data sources offer the retry
// forms (none when the user may not read them: the fields are typed).
type packagesData struct {
	Packages    []spec.Package
	Upstreams   []string
	DataSources []string
}

// packagePageSize bounds the packages the page lists.
const packagePageSize = 100

// mappingField is the retry form's field (and the admin API's error
// field) of a package's upstream or data source src: kind is upstreams
// or data_sources.
func mappingField(kind, src string) string { return "mapping." + kind + "." + src }

// packageForm is one package's retry form: the refused form's values on
// its own form, else the last attempt's mapping.
type packageForm struct {
	P    *page
	Pkg  spec.Package
	Form string
}

// V is the value of the mapping field of src.
func (pf packageForm) V(kind, src string) string {
	if pf.P.Open == pf.Form && pf.P.Form != nil {
		return pf.P.V(mappingField(kind, src))
	}
	if kind == "data_sources" {
		return pf.Pkg.Mapping.DataSources[src]
	}
	return pf.Pkg.Mapping.Upstreams[src]
}

// E is the admin API's message for the mapping of src: the refused
// form's, else the one the package was last refused with.
func (pf packageForm) E(kind, src string) string {
	if pf.P.Open == pf.Form {
		return pf.P.E(mappingField(kind, src))
	}
	for _, e := range pf.Pkg.Errors {
		if e.Field == mappingField(kind, src) {
			return e.Message
		}
	}
	return ""
}

func init() {
	funcs["packageForm"] = func(p *page, pkg spec.Package) packageForm {
		return packageForm{P: p, Pkg: pkg, Form: "retry-" + pkg.ID}
	}
	// packageBadge is the badge class of a package's state.
	funcs["packageBadge"] = func(state string) string {
		switch state {
		case spec.PackagePublished:
			return "s-published"
		case spec.PackageFailed:
			return "s-err"
		}
		return "s-submitted"
	}
}

func (q *req) packagesPath() string {
	return "/projects/" + url.PathEscape(q.r.PathValue("p")) + "/packages"
}

func packagesView(q *req, p *page, status int) error {
	var d packagesData
	var ps webpage.List[spec.Package]
	if err := q.call("GET", q.packagesPath()+"?page_size="+strconv.Itoa(packagePageSize), nil, &ps); err != nil {
		return err
	}
	d.Packages = ps.Items
	proj := "/projects/" + url.PathEscape(p.Project)
	// The names the mapping may pick; a user who may import but not
	// read upstreams types them.
	var ups webpage.List[spec.Upstream]
	if q.call("GET", proj+"/upstreams?page_size=500", nil, &ups) == nil {
		for _, u := range ups.Items {
			d.Upstreams = append(d.Upstreams, u.Name)
		}
	}
	var dss webpage.List[spec.DataSource]
	if q.call("GET", proj+"/data-sources?page_size=500", nil, &dss) == nil {
		for _, ds := range dss.Items {
			d.DataSources = append(d.DataSources, ds.Name)
		}
	}
	p.Data = d
	q.render(status, "packages", p)
	return nil
}

// retryPackage applies a package again with the form's mapping: every
// field of the package's upstreams and data sources, an empty one left
// out (the admin API then names it unmapped).
func (q *req) retryPackage() error {
	f := q.r.PostForm
	m := spec.PackageMapping{Upstreams: map[string]string{}, DataSources: map[string]string{}}
	for name, vs := range f {
		v := strings.TrimSpace(vs[0])
		if v == "" {
			continue
		}
		if src, ok := strings.CutPrefix(name, "mapping.upstreams."); ok && src != "" {
			m.Upstreams[src] = v
		} else if src, ok := strings.CutPrefix(name, "mapping.data_sources."); ok && src != "" {
			m.DataSources[src] = v
		}
	}
	id := q.r.PathValue("k")
	if err := q.call("POST", q.packagesPath()+"/"+url.PathEscape(id)+"/retry", m, nil); err != nil {
		return q.reshow(err, "retry-"+id, packagesView, q.t("nav.packages"), "packages")
	}
	q.redirect("/p/"+url.PathEscape(q.r.PathValue("p"))+"/packages", "package_published")
	return nil
}

func (q *req) deletePackage() error {
	if err := q.call("DELETE", q.packagesPath()+"/"+url.PathEscape(q.r.PathValue("k")), nil, nil); err != nil {
		return q.reshow(err, "", packagesView, q.t("nav.packages"), "packages")
	}
	q.redirect("/p/"+url.PathEscape(q.r.PathValue("p"))+"/packages", "deleted")
	return nil
}
