package adminclient

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
)

// TestUsersReadsEveryPage: Users follows the pages until total, sending
// the search; a refusal is an *Error with the server's status.
func TestUsersReadsEveryPage(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/api/v1/users" || r.Header.Get("Authorization") != "Bearer pat_t" {
			w.Header().Set("Content-Type", "application/problem+json")
			w.WriteHeader(http.StatusForbidden)
			fmt.Fprint(w, `{"status":403,"title":"Forbidden","detail":"permission denied: user:read"}`)
			return
		}
		page, _ := strconv.Atoi(r.URL.Query().Get("page"))
		if r.URL.Query().Get("q") != "a" || r.URL.Query().Get("page_size") != "500" {
			t.Errorf("query %s", r.URL.RawQuery)
		}
		// 501 users: a full page of 500, then one.
		n := 500
		if page == 2 {
			n = 1
		}
		fmt.Fprint(w, `{"total":501,"items":[`)
		for i := range n {
			if i > 0 {
				fmt.Fprint(w, ",")
			}
			fmt.Fprintf(w, `{"username":"u%d_%d"}`, page, i)
		}
		fmt.Fprint(w, `]}`)
	}))
	defer srv.Close()
	us, err := New(srv.URL, "pat_t").Users(context.Background(), "a")
	if err != nil || len(us) != 501 || us[500].Username != "u2_0" {
		t.Fatalf("Users: %d users, %v", len(us), err)
	}
	_, err = New(srv.URL, "other").Users(context.Background(), "a")
	var ae *Error
	if !errors.As(err, &ae) || ae.Status != http.StatusForbidden || ae.Detail != "permission denied: user:read" {
		t.Fatalf("refused: %v", err)
	}
}
