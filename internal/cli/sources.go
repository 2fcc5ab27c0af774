package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/cairn-s3/cairn/internal/transfer"
)

// source is what one source argument of cp, mv or sync names.
type source struct {
	loc     transfer.Location
	many    bool // a directory, prefix or wildcard: the destination is a directory
	entries []entry
}

// expander turns source arguments into the files or objects they name.
type expander struct {
	c         *s3.Client
	filters   *filters
	recursive bool
	markers   bool // list directory marker objects too (rm: they are objects to remove)
}

func (x expander) expand(ctx context.Context, arg string) (source, error) {
	if arg == "-" {
		return source{loc: transfer.Location{Path: "-"}, entries: []entry{{rel: "-", loc: transfer.Location{Path: "-"}}}}, nil
	}
	l, err := transfer.ParseLocation(arg)
	if err != nil {
		return source{}, err
	}
	s := source{loc: l}
	add := func(e entry) error {
		if x.filters.included(e.rel) {
			s.entries = append(s.entries, e)
		}
		return nil
	}
	if l.IsS3() {
		s.many, err = x.expandS3(ctx, l, add)
	} else {
		s.many, err = x.expandLocal(l.Path, add)
	}
	return s, err
}

// expandS3 lists a wildcard or (with --recursive) a prefix, or checks that
// a single object exists.
func (x expander) expandS3(ctx context.Context, l transfer.Location, add func(entry) error) (bool, error) {
	if i := strings.IndexAny(l.Key, "*?["); i >= 0 {
		re, err := globRegexp(l.Key)
		if err != nil {
			return true, err
		}
		prefix := l.Key[:i]
		root := prefix[:strings.LastIndex(prefix, "/")+1]
		return true, walkS3(ctx, x.c, l.Bucket, prefix, root, re.MatchString, x.markers, add)
	}
	if x.recursive {
		root := l.Key
		if root != "" && !strings.HasSuffix(root, "/") {
			root += "/"
		}
		return true, walkS3(ctx, x.c, l.Bucket, root, root, nil, x.markers, add)
	}
	if l.Key == "" || strings.HasSuffix(l.Key, "/") {
		return false, errPrefix(l)
	}
	head, err := x.c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(l.Bucket), Key: aws.String(l.Key)})
	if err != nil {
		if notFound(err) {
			if isPrefix(ctx, x.c, l.Bucket, l.Key) {
				return false, errPrefix(l)
			}
			return false, fmt.Errorf("%s: %w", l, errNoObject)
		}
		return false, err
	}
	return false, add(entry{rel: path.Base(l.Key), loc: l, size: aws.ToInt64(head.ContentLength), mtime: aws.ToTime(head.LastModified)})
}

// expandLocal walks a directory (with --recursive), expands a glob the
// shell left alone, or stats one file.
func (x expander) expandLocal(p string, add func(entry) error) (bool, error) {
	fi, err := os.Stat(p)
	if errors.Is(err, os.ErrNotExist) && hasWildcard(p) {
		matches, gerr := filepath.Glob(p)
		if gerr != nil || len(matches) == 0 {
			return true, fmt.Errorf("%s: no match", p)
		}
		for _, m := range matches {
			if err := x.addLocal(m, filepath.Base(m), add); err != nil {
				return true, err
			}
		}
		return true, nil
	}
	if err != nil {
		return false, err
	}
	if fi.IsDir() {
		if !x.recursive {
			return true, fmt.Errorf("%s is a directory: add --recursive", p)
		}
		return true, walkLocal(p, "", add)
	}
	return false, add(entry{rel: filepath.Base(p), loc: transfer.Location{Path: p}, size: fi.Size(), mtime: fi.ModTime()})
}

// addLocal adds a glob match: a file by its name, a directory's files
// under its name (with --recursive, as the shell's cp -r does).
func (x expander) addLocal(p, rel string, add func(entry) error) error {
	fi, err := os.Stat(p)
	if err != nil {
		return err
	}
	if fi.IsDir() {
		if !x.recursive {
			return nil
		}
		return walkLocal(p, rel, add)
	}
	return add(entry{rel: rel, loc: transfer.Location{Path: p}, size: fi.Size(), mtime: fi.ModTime()})
}

// notFound reports whether err is an HTTP 404 (a HEAD's has no code).
func notFound(err error) bool {
	re, ok := errors.AsType[*awshttp.ResponseError](err)
	return ok && re.HTTPStatusCode() == 404
}

// target is where entry e of a source goes: below dst if dst is a
// directory (many sources, a directory or prefix source, a "/" ending or
// an existing directory), else dst itself. A key that would climb out of a
// local destination ("../x") is refused.
func target(dst transfer.Location, e entry, asDir bool) (transfer.Location, error) {
	if dst.IsS3() {
		if asDir || dst.Key == "" || strings.HasSuffix(dst.Key, "/") {
			if dst.Key != "" && !strings.HasSuffix(dst.Key, "/") {
				dst.Key += "/"
			}
			dst.Key += e.rel
		}
		return dst, nil
	}
	if dst.Path == "-" {
		return dst, nil
	}
	if fi, err := os.Stat(dst.Path); asDir || (err == nil && fi.IsDir()) || strings.HasSuffix(dst.Path, string(filepath.Separator)) {
		rel := filepath.FromSlash(e.rel)
		if !filepath.IsLocal(rel) {
			return dst, fmt.Errorf("%s: refusing a name outside %s", e.loc, dst.Path)
		}
		dst.Path = filepath.Join(dst.Path, rel)
	}
	return dst, nil
}
