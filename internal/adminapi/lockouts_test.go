package adminapi

import (
	"net/http"
	"testing"

	"github.com/portico-gw/portico/internal/rbac"
)

// TestLockoutsByProjectAdmin: a project admin sees and lifts the lockouts
// of their project's members and no one else's; a super_admin sees every
// locked username, unknown ones too.
func TestLockoutsByProjectAdmin(t *testing.T) {
	a := newTestAPI(t)
	a.newProject(t, "shop")
	a.newProject(t, "bank")
	pam := a.personIn(t, "pam", "shop", rbac.ProjectAdmin)
	a.personIn(t, "sam", "shop", rbac.Developer)
	a.personIn(t, "oli", "bank", rbac.Developer)
	// 15 failures from this address: below the client's threshold.
	for _, name := range []string{"sam", "oli", "ghost"} {
		for range userPolicy.threshold {
			wantCode(t, "wrong password", a.doToken("", "POST", "/auth/login", loginBody(name, "Wrong-Passphrase-1")), http.StatusUnauthorized)
		}
	}
	var page struct {
		Items []lockout
		Total int
	}
	a.mustJSON("GET", "/lockouts", nil, http.StatusOK, &page)
	if page.Total != 3 || page.Items[0].Username != "ghost" || page.Items[1].Username != "oli" || page.Items[2].Username != "sam" {
		t.Fatalf("super_admin's lockouts %+v", page)
	}
	if l := page.Items[2]; l.Failures != userPolicy.threshold || l.LockedUntil.IsZero() || l.LastFailure.IsZero() {
		t.Errorf("lockout %+v", l)
	}
	a.decode(a.doToken(pam, "GET", "/lockouts", nil), &page)
	if page.Total != 1 || page.Items[0].Username != "sam" {
		t.Errorf("pam's lockouts %+v", page)
	}
	wantDenied(t, a.doToken(a.viewerToken(t), "GET", "/lockouts", nil), rbac.LockoutManage)

	wantDenied(t, a.doToken(pam, "POST", "/users/oli/unlock", nil), rbac.LockoutManage)
	wantDenied(t, a.doToken(pam, "POST", "/users/ghost/unlock", nil), rbac.LockoutManage)
	var res unlockResult
	a.decode(a.doToken(pam, "POST", "/users/sam/unlock", nil), &res)
	if res.Username != "sam" || res.Failures != userPolicy.threshold {
		t.Errorf("unlock %+v", res)
	}
	a.logIn(t, "sam", personPassword)
	if ev := audits(t, a.store, "auth.unlock"); len(ev) != 1 || ev[0].Actor != "pam" {
		t.Errorf("unlock events %+v", ev)
	}
	a.decode(a.doToken(pam, "GET", "/lockouts", nil), &page)
	if page.Total != 0 {
		t.Errorf("pam's lockouts after the unlock %+v", page)
	}
	// The super_admin lifts an unknown username's.
	a.mustJSON("POST", "/users/ghost/unlock", nil, http.StatusOK, &res)
	a.mustJSON("GET", "/lockouts", nil, http.StatusOK, &page)
	if page.Total != 1 || page.Items[0].Username != "oli" {
		t.Errorf("lockouts left %+v", page)
	}
}
