package adminapi

// peopleEndpoints are the rows of users, personal access tokens,
// sessions, project members, roles and lockouts (appended to the table).
func (s *server) peopleEndpoints() []endpoint {
	return nil
}
