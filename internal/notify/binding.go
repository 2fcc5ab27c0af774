package notify

import (
	"context"
	"errors"

	"github.com/cairn-s3/cairn/internal/s3err"
)

// Who may use a topic in a bucket notification (spec §2.12, Cairn's
// secure default).
//
// A binding sends a bucket's events to the topic's endpoint with the
// topic owner's credentials for as long as the bucket keeps it, whoever
// made the request. So the principal the topic must accept is the bucket
// owner, on whose behalf every event is published: AWS likewise grants S3
// the right to publish for a source bucket or account, not for whoever
// edited the configuration. It is also the only principal known when an
// event is delivered, so the same rule is checked again there. RGW
// evaluates the requester instead; Cairn additionally lets an explicit
// Deny for the requester refuse the binding.

// AuthorizePublish decides whether a notification of a bucket owned by
// bucketOwner, configured by caller ("" when unknown: at delivery), may use
// topic t. In order:
//
//  1. the topic's Policy explicitly denies sns:Publish to the bucket owner
//     or the caller: denied;
//  2. the Policy allows sns:Publish for the bucket owner: allowed;
//  3. the topic's owner owns the bucket: allowed (so a user whom the bucket
//     policy lets edit the owner's notifications may use the owner's
//     topics);
//  4. the topic has no Policy and PublishWithoutPolicy is set (RGW's
//     default): allowed;
//  5. otherwise denied.
func (o *Options) AuthorizePublish(t *Topic, bucketOwner, caller string) error {
	arn := t.ARN(o.Zonegroup)
	if t.Policy != "" {
		// Validated when stored; a policy that no longer parses grants
		// nothing.
		if p, err := parsePolicy(t.Policy); err == nil {
			for _, who := range []string{bucketOwner, caller} {
				if who != "" && p.eval(who, ActionPublish, arn) == deny {
					return s3err.AccessDenied.WithMessage("The Policy of topic %s denies sns:Publish to %s", arn, principalARN(who))
				}
			}
			if p.eval(bucketOwner, ActionPublish, arn) == allow {
				return nil
			}
		}
	}
	if t.Owner != "" && t.Owner == bucketOwner {
		return nil
	}
	if t.Policy == "" && o.PublishWithoutPolicy {
		return nil
	}
	return s3err.AccessDenied.WithMessage("Topic was created by another user: %s may be used by a bucket of another user only if the topic's Policy allows sns:Publish for the bucket owner (%s)",
		arn, principalARN(bucketOwner))
}

// ResolveTopics returns, for PUT ?notification, the topic each
// notification names, read from the namespace its ARN gives (404 NoSuchKey
// for a missing one), and records each topic's owner in its notification:
// delivery then tells the topic bound from one re-created by another user.
func (d *Dispatcher) ResolveTopics(ctx context.Context, ns []Notification) ([]*Topic, error) {
	topics := make([]*Topic, len(ns))
	for i := range ns {
		tenant, name, _ := ParseTopicARN(ns[i].TopicARN)
		t, err := d.cfg.Topics.Get(ctx, tenant, name)
		if errors.Is(err, ErrNoSuchTopic) {
			return nil, s3err.NoSuchKey.WithMessage("").WithCause(err)
		}
		if err != nil {
			return nil, err
		}
		ns[i].TopicOwner = t.Owner
		topics[i] = t
	}
	return topics, nil
}

// AuthorizeBindings decides whether the bucket owned by bucketOwner may use
// every one of topics (ResolveTopics' result) at the request of caller.
func (d *Dispatcher) AuthorizeBindings(topics []*Topic, bucketOwner, caller string) error {
	for _, t := range topics {
		if err := d.cfg.Options.AuthorizePublish(t, bucketOwner, caller); err != nil {
			return err
		}
	}
	return nil
}

// deliverable re-checks a stored binding when an event fires: the topic
// must still belong to the user it belonged to when it was bound (a topic
// deleted and re-created by another user never receives the bucket's
// events), and AuthorizePublish must still allow it (a Policy tightened
// since stops the events). Bindings stored before the owner was recorded
// get the second check only.
func (d *Dispatcher) deliverable(n *Notification, t *Topic, bucketOwner string) bool {
	if n.TopicOwner != "" && n.TopicOwner != t.Owner {
		return false
	}
	return d.cfg.Options.AuthorizePublish(t, bucketOwner, "") == nil
}
