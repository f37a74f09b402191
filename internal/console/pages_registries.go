package console

import (
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/portico-gw/portico/internal/rbac"
	"github.com/portico-gw/portico/internal/spec"
	"github.com/portico-gw/portico/internal/webpage"
)

// registryRoutes add, change and delete a gateway group's service
// registry connections from its page. The admin API lets only admins do
// so, which is what group:manage is (a system permission no project role
// holds), so the forms show exactly to those the API would let through.
func registryRoutes() []pageRoute {
	return []pageRoute{
		{pattern: "POST /groups/{g}/registries", perm: rbac.GroupManage, handle: (*req).createRegistry},
		{pattern: "POST /groups/{g}/registries/{reg}", perm: rbac.GroupManage, handle: (*req).updateRegistry},
		{pattern: "POST /groups/{g}/registries/{reg}/delete", perm: rbac.GroupManage, handle: (*req).deleteRegistry},
	}
}

// registryTextFields are the form's plain fields, sent only when filled:
// the admin API refuses a field the registry's type does not take even
// when it is "", and a PUT replaces the whole connection, so a field left
// empty is one the connection does not have.
var registryTextFields = []string{"address", "namespace", "service_group", "username", "ca"}

// registryBody is the admin API body of a registry form. Credentials are
// write-only: a typed password or token is sent; on an edit (PUT), an
// empty one is left out, which keeps the stored one, unless its "remove"
// box is ticked, which sends "" and removes it. A new registry has no
// stored credential, so its remove boxes mean nothing.
func (q *req) registryBody(edit bool) (map[string]any, error) {
	f := q.r.PostForm
	body := map[string]any{"name": strings.TrimSpace(f.Get("name")), "type": strings.TrimSpace(f.Get("type"))}
	for _, k := range registryTextFields {
		if v := strings.TrimSpace(f.Get(k)); v != "" {
			body[k] = v
		}
	}
	fields := map[string]string{}
	if s := strings.TrimSpace(f.Get("poll_interval")); s != "" {
		n, err := strconv.ParseFloat(s, 64)
		if err != nil || math.IsNaN(n) || math.IsInf(n, 0) {
			fields["poll_interval"] = q.t("grp.reg_poll_invalid")
		} else {
			body["poll_interval"] = n
		}
	}
	// A password may hold spaces at its ends; a token is pasted, and a
	// trailing newline is never part of it.
	creds := []struct{ name, value string }{{"password", f.Get("password")}, {"token", strings.TrimSpace(f.Get("token"))}}
	for _, c := range creds {
		remove := edit && f.Get("remove_"+c.name) == "on"
		switch {
		case c.value != "" && remove:
			fields[c.name] = q.t("grp.reg_remove_and_new")
		case c.value != "":
			body[c.name] = c.value
		case remove:
			body[c.name] = ""
		}
	}
	if len(fields) > 0 {
		msg := q.t("grp.reg_form_invalid")
		return nil, &webpage.Refusal{Status: http.StatusBadRequest, Detail: msg, Fields: fields}
	}
	return body, nil
}

// reshowRegistry shows a refused registry form again, open, with what was
// typed except the password and token: those are never written back into
// a page, so they are typed again.
func (q *req) reshowRegistry(err error, form string) error {
	delete(q.r.PostForm, "password")
	delete(q.r.PostForm, "token")
	return q.reshow(err, form, groupView, q.r.PathValue("g"), "groups")
}

func (q *req) createRegistry() error {
	body, err := q.registryBody(false)
	if err == nil {
		err = q.call("POST", q.groupPath()+"/registries", body, nil)
	}
	if err != nil {
		return q.reshowRegistry(err, "new-registry")
	}
	q.redirect(q.groupBack(), "created")
	return nil
}

// updateRegistry replaces a registry with the form's fields (PUT: there
// is no PATCH). The members only answers carry (has_password, has_token,
// status) and the server's own (id, group, times) are never sent: the
// body is built from the form alone.
func (q *req) updateRegistry() error {
	form := "registry-" + q.r.PathValue("reg")
	body, err := q.registryBody(true)
	if err == nil {
		err = q.call("PUT", q.registryPath(), body, nil)
	}
	if err != nil {
		return q.reshowRegistry(err, form)
	}
	q.redirect(q.groupBack(), "saved")
	return nil
}

func (q *req) deleteRegistry() error {
	if err := q.call("DELETE", q.registryPath(), nil, nil); err != nil {
		// Refused while a running service discovers through it: the
		// banner lists the service's field.
		return q.reshow(err, "", groupView, q.r.PathValue("g"), "groups")
	}
	q.redirect(q.groupBack(), "deleted")
	return nil
}

// registryPath is the admin API path of the registry in the page's path.
func (q *req) registryPath() string {
	return q.groupPath() + "/registries/" + url.PathEscape(q.r.PathValue("reg"))
}

// registryField is the stored value of a registry form's field. It has no
// case for the password or the token: answers never hold them, and the
// form would not show them if they did.
func registryField(r spec.Registry, name string) string {
	switch name {
	case "name":
		return r.Name
	case "type":
		return r.Type
	case "address":
		return r.Address
	case "namespace":
		return r.Namespace
	case "service_group":
		return r.ServiceGroup
	case "username":
		return r.Username
	case "ca":
		return r.CA
	case "poll_interval":
		if r.PollInterval == 0 {
			return ""
		}
		return strconv.FormatFloat(r.PollInterval, 'f', -1, 64)
	}
	return ""
}

// registryForm is a registry form's values (editForm: the refused form's,
// else the stored registry's, never a password or token).
type registryForm struct {
	editForm[spec.Registry]
	// New is the form of a registry to add (no stored credentials, no
	// remove boxes).
	New bool
}

func init() {
	// regForm's r is the stored registry, nil for the form of a new one.
	funcs["regForm"] = func(p *page, r any) registryForm {
		f := registryForm{editForm: editForm[spec.Registry]{P: p, Form: "new-registry", field: registryField, secrets: []string{"password", "token"}}, New: true}
		if reg, ok := r.(registryRow); ok {
			reg.Password, reg.Token = "", ""
			f.Stored, f.Form, f.New = reg.Registry, "registry-"+reg.ID, false
		}
		return f
	}
	funcs["registryTypes"] = func() []string { return spec.RegistryTypes }
}
