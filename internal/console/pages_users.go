package console

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/portico-gw/portico/internal/rbac"
	"github.com/portico-gw/portico/internal/spec"
	"github.com/portico-gw/portico/internal/webpage"
)

// peopleRoutes are users, members, roles, the user's own account, the
// audit log and the invitation page.
func peopleRoutes() []pageRoute {
	const U = "/users/{username}"
	rows := []pageRoute{
		{pattern: "GET /users", perm: rbac.UserRead, handle: func(q *req) error { return usersView(q, q.page(q.t("nav.users"), "users"), 200) }},
		{pattern: "POST /users", perm: rbac.UserManage, handle: (*req).createUser},
		{pattern: "GET " + U, perm: rbac.UserRead, handle: func(q *req) error { return userView(q, q.page(q.t("nav.users"), "users"), 200) }},
		{pattern: "POST " + U, perm: rbac.UserManage, handle: (*req).patchUser},
		{pattern: "POST " + U + "/disable", perm: rbac.UserManage, handle: func(q *req) error { return q.setDisabled(true) }},
		{pattern: "POST " + U + "/enable", perm: rbac.UserManage, handle: func(q *req) error { return q.setDisabled(false) }},
		{pattern: "POST " + U + "/delete", perm: rbac.UserManage, handle: (*req).deleteUser},
		{pattern: "POST " + U + "/invite", perm: rbac.UserManage, handle: func(q *req) error { return q.userLink("invite") }},
		{pattern: "POST " + U + "/reset", perm: rbac.UserManage, handle: func(q *req) error { return q.userLink("reset") }},
		{pattern: "POST " + U + "/password", perm: rbac.UserManage, handle: (*req).setUserPassword},
		{pattern: "POST " + U + "/sessions/{sid}/delete", perm: rbac.UserManage, handle: (*req).endUserSession},
		{pattern: "POST " + U + "/tokens/{t}/delete", perm: rbac.UserManage, handle: (*req).revokeUserToken},
		// A project admin lifts the lockouts of their members (from the
		// members page); the admin API checks whose.
		{pattern: "POST " + U + "/unlock", perm: rbac.LockoutManage, scope: scopeAny, handle: (*req).unlockUser},
	}
	return slices.Concat(rows, memberRoutes(), accountRoutes(), auditRoutes(), inviteRoutes())
}

const usersPageSize = 50

// newUserRoles are the system roles a new user can have, the least first:
// the form's default must not be every permission.
var newUserRoles = []string{rbac.User, rbac.SuperAdmin}

// lockout is a username locked out by failed logins (GET /lockouts).
type lockout struct {
	Username    string    `json:"username"`
	Failures    int       `json:"failures"`
	LastFailure time.Time `json:"last_failure"`
	LockedUntil time.Time `json:"locked_until"`
}

type usersData struct {
	Items      []spec.User
	Total      int
	Page, Last int
	Q          string
	Lockouts   []lockout
	Roles      []string
}

// lockouts lists the lockouts the user may lift, none without the permission.
func (q *req) lockouts() ([]lockout, error) {
	if !q.who.Anywhere(rbac.LockoutManage) {
		return nil, nil
	}
	var ll webpage.List[lockout]
	if err := q.call("GET", "/lockouts", nil, &ll); err != nil {
		return nil, err
	}
	return ll.Items, nil
}

func usersView(q *req, p *page, status int) error {
	pg, _ := strconv.Atoi(q.r.URL.Query().Get("page"))
	pg = min(max(pg, 1), 100000)
	search := q.r.URL.Query().Get("q")
	v := url.Values{"page": {strconv.Itoa(pg)}, "page_size": {strconv.Itoa(usersPageSize)}}
	if search != "" {
		v.Set("q", search)
	}
	var ul webpage.List[spec.User]
	if err := q.call("GET", "/users?"+v.Encode(), nil, &ul); err != nil {
		return err
	}
	lo, err := q.lockouts()
	if err != nil {
		return err
	}
	p.Data = usersData{Items: ul.Items, Total: ul.Total, Page: pg, Last: max((ul.Total+usersPageSize-1)/usersPageSize, 1), Q: search,
		Lockouts: lo, Roles: newUserRoles}
	q.render(status, "users", p)
	return nil
}

// userCreated is POST /users's answer: the user and, when asked for, the
// invitation's token (shown once).
type userCreated struct {
	spec.User
	Invite *linkToken `json:"invite"`
}

type linkToken struct {
	Token     string    `json:"token"`
	ExpiresAt time.Time `json:"expires_at"`
}

// oneTimeLink is an invitation or reset link as the page shows it, once.
type oneTimeLink struct {
	Kind      string // invite or reset
	URL       string
	ExpiresAt time.Time
}

// linkOf builds the console's /invite link around a one-time token, on
// the address the administrator reached the console at.
func (q *req) linkOf(kind string, t linkToken) *oneTimeLink {
	scheme := "http"
	if q.r.TLS != nil {
		scheme = "https"
	}
	u := url.URL{Scheme: scheme, Host: q.r.Host, Path: "/invite", RawQuery: url.Values{"token": {t.Token}}.Encode()}
	return &oneTimeLink{Kind: kind, URL: u.String(), ExpiresAt: t.ExpiresAt}
}

func (q *req) createUser() error {
	f := q.r.PostForm
	body := map[string]any{"username": strings.TrimSpace(f.Get("username")), "role": f.Get("role"),
		"display_name": strings.TrimSpace(f.Get("display_name")), "email": strings.TrimSpace(f.Get("email"))}
	if f.Get("how") == "password" {
		// Without a password the admin API would make a user who cannot
		// log in: say so beside the field instead.
		if f.Get("password") == "" {
			return q.reshow(&webpage.Refusal{Status: http.StatusBadRequest, Detail: q.t("users.password_required"),
				Fields: map[string]string{"password": q.t("users.password_required")}}, "new-user", usersView, q.t("nav.users"), "users")
		}
		body["password"] = f.Get("password")
	} else {
		body["invite"] = true
	}
	var out userCreated
	if err := q.call("POST", "/users", body, &out); err != nil {
		return q.reshow(err, "new-user", usersView, q.t("nav.users"), "users")
	}
	if out.Invite == nil {
		q.redirect("/users/"+url.PathEscape(out.Username), "created")
		return nil
	}
	// No redirect: this answer is the only one that may show the link.
	q.r.SetPathValue("username", out.Username)
	p := q.page(q.t("nav.users"), "users")
	p.Flash = q.t("flash.created")
	p.Data = q.linkOf("invite", *out.Invite)
	return userView(q, p, http.StatusOK)
}

type userData struct {
	User     spec.User
	Sessions []spec.Session
	Tokens   []spec.AccessToken
	Lockout  *lockout
	Link     *oneTimeLink // an invitation or reset link just made
	Roles    []string
}

func (q *req) userPath() string { return "/users/" + url.PathEscape(q.r.PathValue("username")) }

func userView(q *req, p *page, status int) error {
	var d userData
	d.Link, _ = p.Data.(*oneTimeLink)
	if err := q.call("GET", q.userPath(), nil, &d.User); err != nil {
		return err
	}
	var sl webpage.List[spec.Session]
	if err := q.call("GET", q.userPath()+"/sessions", nil, &sl); err != nil {
		return err
	}
	var tl webpage.List[spec.AccessToken]
	if err := q.call("GET", q.userPath()+"/tokens", nil, &tl); err != nil {
		return err
	}
	lo, err := q.lockouts()
	if err != nil {
		return err
	}
	for i := range lo {
		if lo[i].Username == d.User.Username {
			d.Lockout = &lo[i]
		}
	}
	d.Sessions, d.Tokens, d.Roles = sl.Items, tl.Items, rbac.SystemRoles
	p.Title = d.User.Username
	p.Data = d
	q.render(status, "user", p)
	return nil
}

// userDone redirects to the user's page after a change.
func (q *req) userDone(flash string) error {
	q.redirect(q.userPath(), flash)
	return nil
}

func (q *req) patchUser() error {
	f := q.r.PostForm
	body := map[string]any{"role": f.Get("role"), "display_name": strings.TrimSpace(f.Get("display_name")), "email": strings.TrimSpace(f.Get("email"))}
	if err := q.call("PATCH", q.userPath(), body, nil); err != nil {
		return q.reshow(err, "profile", userView, q.t("nav.users"), "users")
	}
	return q.userDone("saved")
}

func (q *req) setDisabled(disabled bool) error {
	if err := q.call("PATCH", q.userPath(), map[string]any{"disabled": disabled}, nil); err != nil {
		return q.reshow(err, "", userView, q.t("nav.users"), "users")
	}
	if disabled {
		return q.userDone("user_disabled")
	}
	return q.userDone("user_enabled")
}

func (q *req) deleteUser() error {
	if err := q.call("DELETE", q.userPath(), nil, nil); err != nil {
		return q.reshow(err, "", userView, q.t("nav.users"), "users")
	}
	q.redirect("/users", "deleted")
	return nil
}

// userLink makes an invitation (a user without a password) or a reset
// link and shows it on this answer only.
func (q *req) userLink(kind string) error {
	var t linkToken
	var err error
	if kind == "invite" {
		err = q.call("POST", q.userPath()+"/invite", map[string]any{}, &t)
	} else {
		err = q.call("POST", q.userPath()+"/password", map[string]any{}, &t)
	}
	if err != nil {
		return q.reshow(err, "", userView, q.t("nav.users"), "users")
	}
	p := q.page(q.t("nav.users"), "users")
	p.Flash = q.t("flash.link_made")
	p.Data = q.linkOf(kind, t)
	return userView(q, p, http.StatusOK)
}

func (q *req) setUserPassword() error {
	pw := q.r.PostFormValue("password")
	if pw == "" {
		return q.reshow(&webpage.Refusal{Status: http.StatusBadRequest, Detail: q.t("users.password_required"),
			Fields: map[string]string{"password": q.t("users.password_required")}}, "password", userView, q.t("nav.users"), "users")
	}
	if err := q.call("POST", q.userPath()+"/password", map[string]any{"password": pw}, nil); err != nil {
		return q.reshow(err, "password", userView, q.t("nav.users"), "users")
	}
	return q.userDone("password_set")
}

func (q *req) endUserSession() error {
	if err := q.call("DELETE", q.userPath()+"/sessions/"+url.PathEscape(q.r.PathValue("sid")), nil, nil); err != nil {
		return q.reshow(err, "", userView, q.t("nav.users"), "users")
	}
	return q.userDone("session_ended")
}

func (q *req) revokeUserToken() error {
	if err := q.call("DELETE", q.userPath()+"/tokens/"+url.PathEscape(q.r.PathValue("t")), nil, nil); err != nil {
		return q.reshow(err, "", userView, q.t("nav.users"), "users")
	}
	return q.userDone("token_revoked")
}

// unlockUser lifts a lockout and goes back to the page the form was on
// (the users list, a user, a project's members).
func (q *req) unlockUser() error {
	back := safeRedirect(q.r.PostFormValue("back"))
	if back == "/" {
		back = "/users"
	}
	if err := q.call("POST", q.userPath()+"/unlock", nil, nil); err != nil {
		return err
	}
	q.redirect(back, "unlocked")
	return nil
}

// userRow and lockoutsPart hand the shared templates of layout.html
// ("userstate", "lockouts") their page along with their data.
type userRow struct {
	P *page
	U spec.User
}

type lockoutsPart struct {
	P     *page
	Items []lockout
	Back  string // where the unlock form returns
}

func init() {
	funcs["userState"] = func(p *page, u spec.User) userRow { return userRow{P: p, U: u} }
	funcs["lockoutList"] = func(p *page, items []lockout, back string) lockoutsPart {
		return lockoutsPart{P: p, Items: items, Back: back}
	}
}
