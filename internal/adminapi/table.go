package adminapi

// The admin operation table: rows of the same shape as the S3 adapter's
// (optable.Row) with their handlers. Every row needs an authenticated
// admin or system user, or a user with the row's capability; paths or
// sub-resources without a handler answer NotImplemented, and only to
// admins.

import (
	"net/http"
	"strings"

	"github.com/cairn-s3/cairn/internal/optable"
)

// route is one admin operation: its row and its handler (nil: not
// implemented).
type route struct {
	optable.Row
	h handler
}

// admin builds a route: the capability a non-admin needs, read or write.
func admin(op, method, path, query, capType string, write bool, hook string, h handler) route {
	acc := optable.AccessAdminRead
	if write {
		acc = optable.AccessAdminWrite
	}
	return route{Row: optable.Row{Op: optable.Op(op), Match: optable.Match{Method: method, Path: path, Query: query},
		Scope: optable.ScopeAdmin, Access: acc, Capability: capType, Hook: hook}, h: h}
}

// unsupported answers NotImplemented to admins for a sub-resource of a
// path with no operation on it.
func unsupported(path, query string) route {
	return admin("Unsupported", "", path, query, "", true, "", nil)
}

// rowUnsupported is the row of a request no row matches.
var rowUnsupported = unsupported("", "")

const (
	get  = http.MethodGet
	put  = http.MethodPut
	post = http.MethodPost
	del  = http.MethodDelete
)

// routes is the table. Between equally specific rows the earlier one wins,
// which gives the sub-resources their priority (a request naming several
// is the operation of the first).
var routes = buildRoutes()

func buildRoutes() []route {
	var t []route
	t = append(t, userRoutes()...)
	t = append(t, topicRoutes()...)
	t = append(t, bucketRoutes()...)
	t = append(t, scriptRoutes()...)
	t = append(t, clusterRoutes()...)
	return append(t, subscriptionRoutes()...)
}

// userRoutes are RGW's user, key and capability operations (hook names:
// RGW's RGWOp_* names).
func userRoutes() []route {
	const u = "/admin/user"
	t := []route{
		admin("ListUserMetadata", get, "/admin/metadata/user", "", "metadata", false, "list_metadata", (*API).listMetadata),
		admin("CreateKey", put, u, "key", "users", true, "create_access_key", (*API).createKey),
		admin("RemoveKey", del, u, "key", "users", true, "remove_access_key", (*API).removeKey),
		admin("AddUserCaps", put, u, "caps", "users", true, "add_user_caps", (*API).addCaps),
		admin("RemoveUserCaps", del, u, "caps", "users", true, "remove_user_caps", (*API).removeCaps),
		admin("ListUsers", get, u, "list", "users", false, "list_user", (*API).listUsers),
	}
	for _, sub := range []string{"key", "caps", "list", "quota", "subuser"} {
		t = append(t, unsupported(u, sub))
	}
	return append(t,
		admin("GetUserInfo", get, u, "", "users", false, "get_user_info", (*API).getUser),
		admin("CreateUser", put, u, "", "users", true, "create_user", (*API).createUser),
		admin("ModifyUser", post, u, "", "users", true, "modify_user", (*API).modifyUser),
		admin("RemoveUser", del, u, "", "users", true, "remove_user", (*API).removeUser),
	)
}

// bucketRoutes are RGW's bucket info (radosgw-admin bucket list and bucket
// stats); RGW's other bucket operations and sub-resources are not served.
func bucketRoutes() []route {
	const b = "/admin/bucket"
	t := []route{admin("GetBucketInfo", get, b, "", "buckets", false, "get_bucket_info", (*API).getBucket)}
	for _, sub := range []string{"index", "object", "policy", "quota"} {
		t = append(t, unsupported(b, sub))
	}
	return append(t, unsupported(b, ""))
}

// topicRoutes are the topic and notification operations (radosgw-admin's
// topic and notification commands, which RGW has no REST op for: the hook
// names are Cairn's).
func topicRoutes() []route {
	const tp = "/admin/topic"
	t := []route{
		admin("GetTopicStats", get, tp, "stats", "buckets", false, "admin_topic_stats", (*API).topicStats),
		admin("ListDeadLetters", get, tp, "dlq", "buckets", false, "admin_topic_dlq", (*API).listDeadLetters),
		admin("ReplayDeadLetters", post, tp, "replay", "buckets", true, "admin_topic_replay", (*API).replayDeadLetters),
		admin("SendTestEvent", post, tp, "test-event", "buckets", true, "admin_topic_test_event", (*API).sendTestEvent),
	}
	for _, sub := range []string{"stats", "dlq", "replay", "test-event"} {
		t = append(t, unsupported(tp, sub))
	}
	return append(t,
		admin("GetTopic", get, tp, "topic", "buckets", false, "admin_topic_get", (*API).getTopic),
		admin("ListTopics", get, tp, "", "buckets", false, "admin_topics_list", (*API).listTopics),
		admin("RemoveTopic", del, tp, "", "buckets", true, "admin_topic_delete", (*API).removeTopic),
		admin("GetNotification", get, "/admin/notification", "", "buckets", false, "admin_notification_get", (*API).getNotifications),
		admin("RemoveNotification", del, "/admin/notification", "", "buckets", true, "admin_notification_delete", (*API).removeNotifications),
		admin("GetNotificationStats", get, "/admin/notification/stats", "", "buckets", false, "admin_notification_stats",
			(*API).notificationStats),
	)
}

// subscriptionRoutes are the PubSub administration operations.
func subscriptionRoutes() []route {
	const s = "/admin/subscription"
	return []route{
		admin("PullSubscription", get, s, "events", "buckets", false, "admin_subscription_pull", (*API).pullSubscription),
		admin("AckSubscription", post, s, "ack", "buckets", true, "admin_subscription_ack", (*API).ackSubscription),
		admin("GetSubscription", get, s, "", "buckets", false, "admin_subscription_get", (*API).getSubscription),
		admin("RemoveSubscription", del, s, "", "buckets", true, "admin_subscription_delete", (*API).removeSubscription),
		admin("GetCounters", get, "/admin/counters", "", "buckets", false, "admin_counters", (*API).counters),
		admin("Scrub", post, "/admin/scrub", "", "buckets", true, "admin_scrub", (*API).scrub),
		admin("ProcessLifecycle", post, "/admin/lc", "process", "buckets", true, "admin_lc_process", (*API).processLifecycle),
		admin("ListLifecycle", get, "/admin/lc", "", "buckets", false, "admin_lc_list", (*API).listLifecycle),
		unsupported("/admin/lc", ""),
	}
}

// resolve maps a request onto its route; a request no row matches is
// rowUnsupported.
func resolve(r *http.Request) route {
	sel := optable.Request{Method: r.Method, Path: strings.TrimSuffix(r.URL.Path, "/"), Query: r.URL.Query(), Header: r.Header}
	i := optable.Index(len(routes), func(i int) optable.Match { return routes[i].Match }, sel)
	if i < 0 {
		return rowUnsupported
	}
	return routes[i]
}

// Table returns the rows of the admin operation table, for tests and tools
// that walk every operation.
func Table() []optable.Row {
	rows := make([]optable.Row, len(routes))
	for i, rt := range routes {
		rows[i] = rt.Row
	}
	return rows
}
