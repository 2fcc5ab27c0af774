// Package lifecycle runs S3 bucket lifecycle configurations: it parses the
// stored configuration into rules, decides for each object version and
// incomplete upload what a rule does to it (expire, relabel its storage
// class, abort), and walks every bucket incrementally to apply them.
//
// The walk keeps a cursor per bucket in the kv store, so a pass resumes
// after a restart where it stopped; it lists page by page, so its memory
// does not grow with the number of objects; and it changes objects only
// through the store's operations (deletes, TransitionObject,
// AbortMultipartUpload), whose commits carry the events: the context names
// RGW's lifecycle events and principal, so each event exists iff its
// change does.
//
// Storage classes are labels on one tier of storage: a transition
// relabels the version, no data moves.
package lifecycle
