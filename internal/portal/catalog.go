package portal

import (
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/portico-gw/portico/internal/spec"
	"github.com/portico-gw/portico/internal/webpage"
)

// catalogEntry is GET /catalog's item (and GET /catalog/{service}'s
// answer, with the caller's subscriptions).
type catalogEntry struct {
	ID              string              `json:"id"`
	Name            string              `json:"name"`
	Description     string              `json:"description"`
	Labels          map[string]string   `json:"labels"`
	Project         string              `json:"project"`
	Folder          *catalogFolder      `json:"folder"`
	Listing         *spec.Listing       `json:"listing"`
	TestGroup       string              `json:"test_group"`
	ProductionGroup string              `json:"production_group"`
	Versions        map[string]string   `json:"versions"`
	URLs            map[string][]string `json:"urls"`
	PublicURLs      map[string][]string `json:"public_urls"`
	Plans           []spec.Plan         `json:"plans"`
	UpdatedAt       time.Time           `json:"updated_at"`
	Subscriptions   []spec.Subscription `json:"subscriptions"`
}

type catalogFolder struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	Path string `json:"path"`
}

// Tags are the entry's labels as the catalog filters them: "key=value",
// or "key" alone for an empty value.
func (e catalogEntry) Tags() []string {
	out := make([]string, 0, len(e.Labels))
	for k, v := range e.Labels {
		if v == "" {
			out = append(out, k)
		} else {
			out = append(out, k+"="+v)
		}
	}
	slices.Sort(out)
	return out
}

// groupRow is where an entry runs: a gateway group, its stage in the
// service's project, the version there and its call URLs.
type groupRow struct {
	Group, Stage, Version string
	URLs                  []string
	Public                bool // URLs are absolute (the group has a public URL)
}

// Groups lists the groups an entry runs in, production first.
func (e catalogEntry) Groups() []groupRow {
	var out []groupRow
	for g, v := range e.Versions {
		row := groupRow{Group: g, Version: v, URLs: e.PublicURLs[g], Public: len(e.PublicURLs[g]) > 0}
		if !row.Public {
			row.URLs = e.URLs[g]
		}
		switch g {
		case e.ProductionGroup:
			row.Stage = "production"
		case e.TestGroup:
			row.Stage = "test"
		}
		out = append(out, row)
	}
	rank := func(r groupRow) int {
		switch r.Stage {
		case "production":
			return 0
		case "test":
			return 1
		}
		return 2
	}
	slices.SortFunc(out, func(a, b groupRow) int {
		if d := rank(a) - rank(b); d != 0 {
			return d
		}
		return strings.Compare(a.Group, b.Group)
	})
	return out
}

const catalogPageSize = 20

type catalogData struct {
	Items              []catalogEntry
	Total, Page, Pages int
	Q, Tag, Folder     string
	Tags               []string
	Folders            []catalogFolder
	Prev, Next         string
	Filtered           bool
}

func (q *req) catalogPage() error {
	in := q.r.URL.Query()
	d := catalogData{Q: strings.TrimSpace(in.Get("q")), Tag: strings.TrimSpace(in.Get("tag")), Folder: strings.TrimSpace(in.Get("folder")), Page: 1}
	if n, err := strconv.Atoi(in.Get("page")); err == nil && n > 1 && n < 10000 {
		d.Page = n
	}
	d.Filtered = d.Q != "" || d.Tag != "" || d.Folder != ""
	v := url.Values{"page": {strconv.Itoa(d.Page)}, "page_size": {strconv.Itoa(catalogPageSize)}}
	for k, x := range map[string]string{"q": d.Q, "tag": d.Tag, "folder": d.Folder} {
		if x != "" {
			v.Set(k, x)
		}
	}
	var list webpage.List[catalogEntry]
	if err := q.call("GET", "/catalog?"+v.Encode(), nil, &list); err != nil {
		return err
	}
	d.Items, d.Total = list.Items, list.Total
	d.Pages = max(1, (d.Total+catalogPageSize-1)/catalogPageSize)
	// The filters offer the tags and folders of the whole catalog (its
	// first 500 entries), not only of this page.
	all := list
	if d.Filtered || d.Total > len(d.Items) {
		all = webpage.List[catalogEntry]{}
		if err := q.call("GET", "/catalog?page_size=500", nil, &all); err != nil {
			return err
		}
	}
	tags, folders := map[string]bool{}, map[string]catalogFolder{}
	for _, e := range all.Items {
		for _, t := range e.Tags() {
			tags[t] = true
		}
		if e.Folder != nil && e.Folder.ID != "" {
			folders[e.Folder.ID] = *e.Folder
		}
	}
	for t := range tags {
		d.Tags = append(d.Tags, t)
	}
	slices.Sort(d.Tags)
	for _, f := range folders {
		d.Folders = append(d.Folders, f)
	}
	slices.SortFunc(d.Folders, func(a, b catalogFolder) int { return strings.Compare(folderLabel(a), folderLabel(b)) })
	pageLink := func(n int) string {
		w := url.Values{}
		for k, x := range map[string]string{"q": d.Q, "tag": d.Tag, "folder": d.Folder} {
			if x != "" {
				w.Set(k, x)
			}
		}
		w.Set("page", strconv.Itoa(n))
		return "/portal/?" + w.Encode()
	}
	if d.Page > 1 {
		d.Prev = pageLink(d.Page - 1)
	}
	if d.Page < d.Pages {
		d.Next = pageLink(d.Page + 1)
	}
	pg := q.page(q.t("nav.catalog"), "catalog")
	pg.Data = d
	q.render(200, "catalog", pg)
	return nil
}

func folderLabel(f catalogFolder) string {
	if f.Path != "" {
		return f.Path
	}
	return f.Name
}

// Label is how a folder shows: its path, else its name.
func (f catalogFolder) Label() string { return folderLabel(f) }

// quotaText writes a plan's quotas: "1,000 / day · 10 / second".
func quotaText(pg *page, qs []spec.Quota) string {
	if len(qs) == 0 {
		return pg.T("plan.unlimited")
	}
	parts := make([]string, len(qs))
	for i, x := range qs {
		parts[i] = fmt.Sprintf("%s / %s", groupDigits(x.Count), pg.Period(x.Period))
	}
	return strings.Join(parts, " · ")
}

// Quotas is quotaText for templates.
func (pg *page) Quotas(qs []spec.Quota) string { return quotaText(pg, qs) }
