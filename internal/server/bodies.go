package server

// AnonymousBodies returns the number of unauthenticated request bodies
// (anonymous uploads, POST forms) being read now, out of
// Config.MaxAnonymousBodies (tests use it).
func (s *Server) AnonymousBodies() int { return s.s3.AnonymousBodies() }
