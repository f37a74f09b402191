package console

// dataAPIRoutes are the generated data APIs of a project's services.
func dataAPIRoutes() []pageRoute { return nil }
