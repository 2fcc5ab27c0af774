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
package notify
