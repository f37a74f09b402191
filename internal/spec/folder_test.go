package spec

import (
	"strings"
	"testing"
)

func TestFolderValidate(t *testing.T) {
	tests := []struct {
		name   string
		folder Folder
		want   string
	}{
		{"one segment", Folder{Name: "用户域", Path: "/user"}, ""},
		{"two segments", Folder{Name: "基本信息", Path: "/user/basic"}, ""},
		{"no path", Folder{Name: "API管理"}, ""},
		{"three segments", Folder{Name: "x", Path: "/a/b/c"}, "path"},
		{"parameter", Folder{Name: "x", Path: "/a/{id}"}, "path"},
		{"wildcard", Folder{Name: "x", Path: "/a*"}, "path"},
		{"no slash", Folder{Name: "x", Path: "user"}, "path"},
		{"trailing slash", Folder{Name: "x", Path: "/user/"}, "path"},
		{"no name", Folder{Path: "/user"}, "name"},
		{"own parent", Folder{ID: "f1", ParentID: "f1", Name: "x"}, "parent_id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := strings.Join(fields(tt.folder.Validate()), ",")
			if got != tt.want {
				t.Errorf("bad fields = %q, want %q (err: %v)", got, tt.want, tt.folder.Validate())
			}
		})
	}
}

func TestServiceDefaultPath(t *testing.T) {
	svc := Service{Name: "user_info", Path: DefaultPath, FolderID: "f1", FolderPath: "/user/active"}
	if err := svc.Validate(); err != nil {
		t.Fatalf("path default: %v", err)
	}
	r := Route{Name: "user_info"}
	tests := []struct {
		name, path, folderPath, prefix string
		want                           string
	}{
		{"folder path", DefaultPath, "/user/active", "/api/gateway/test/{project}", "/api/gateway/test/p1/user/active/user_info"},
		{"default without a folder path", DefaultPath, "", "/api/gateway", "/api/gateway/user_info"},
		{"own path wins", "/own", "/user/active", "/api/gateway", "/api/gateway/own/user_info"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := svc
			s.Path, s.FolderPath = tt.path, tt.folderPath
			if got := RoutePaths(tt.prefix, "p1", &s, &r); len(got) != 1 || got[0] != tt.want {
				t.Errorf("RoutePaths = %q, want %q", got, tt.want)
			}
		})
	}
}
