package store

// All reads every page of a list (ListProjects, ListGroups, …) through
// list, a page at the largest size: for callers that need the whole set,
// such as every group a consumer change must reach.
func All[T any](list func(ListQuery) ([]T, int, error)) ([]T, error) {
	var out []T
	for page := 1; ; page++ {
		items, total, err := list(ListQuery{Page: page, PageSize: maxPageSize})
		if err != nil {
			return nil, err
		}
		out = append(out, items...)
		if len(items) == 0 || len(out) >= total {
			return out, nil
		}
	}
}
