// Package notify implements RGW-compatible bucket notifications (see
// shared/spec/notifications.md): topics and their store, the S3
// NotificationConfiguration document, event names and filters, the event
// record JSON, and the Dispatcher that turns committed object changes into
// records for matching notifications.
//
// Squid 19.2 is the behaviour followed by default: topics are looked up
// live by name at event time (a deleted topic silently stops its
// notifications), topics have owners, names follow [A-Za-z0-9_-]{1,256}.
//
// Deliberate deviations, all harmless to RGW clients:
//   - Re-putting a notification Id with another topic replaces the entry
//     instead of keeping two entries with the same Id.
//   - S3Key regex filters use Go's RE2 syntax anchored as a full match;
//     ECMAScript backreferences and lookaround are rejected at PUT time.
//   - A record's "metadata" lists the object's user metadata only (Squid);
//     Pacific also listed the request's x-amz-* headers.
//
// # Wiring (done by the server, the only package that knows the concrete types)
//
//	var d *notify.Dispatcher
//	st, _ := local.Open(dir, local.Options{Hook: func(ctx context.Context, c store.Change, w store.RecordWriter) error {
//		return d.Hook(ctx, c, w)
//	}})
//	topics := notify.NewTopics(st.KV())
//	var q *queue.Queue
//	d, _ = notify.NewDispatcher(notify.Config{Topics: topics, Queue: <q via a forwarding Enqueuer>,
//		Pusher: <adapter: endpoint.ParseConfig(p.Endpoint, endpoint.ParseArgs(p.Args)) → pool.Get → Send>})
//	q, _ = queue.New(queue.Config{KV: st.KV(), Sender: d, Policy: d.QueuePolicy})  // q.Run(ctx) under the errgroup
//	api.EnableNotifications(d)
//	api.Handle(s3api.OpSNS, snsapi.New(topics, snsapi.Config{Queues: q}).Serve)
//	handler := s3api.WaitForPushes(d, api)  // responses wait for synchronous pushes
//	defer d.Close()
//
// The end-to-end test (e2e_test.go) builds exactly this.
package notify
