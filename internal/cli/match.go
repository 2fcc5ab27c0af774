package cli

import (
	"regexp"
	"strings"

	"github.com/spf13/pflag"
)

// hasWildcard reports whether s holds a glob metacharacter.
func hasWildcard(s string) bool { return strings.ContainsAny(s, "*?[") }

// globRegexp compiles a pattern with the semantics of `aws s3` filters and
// s5cmd wildcards: * matches any run of characters including "/", ? one
// character, [...] a class ([!...] negated).
func globRegexp(pattern string) (*regexp.Regexp, error) {
	var b strings.Builder
	b.WriteString("^")
	for i := 0; i < len(pattern); i++ {
		switch c := pattern[i]; c {
		case '*':
			b.WriteString(".*")
		case '?':
			b.WriteString(".")
		case '[':
			end := strings.IndexByte(pattern[i+1:], ']')
			if end < 0 {
				b.WriteString(`\[`)
				continue
			}
			class := pattern[i+1 : i+1+end]
			if strings.HasPrefix(class, "!") {
				class = "^" + class[1:]
			}
			b.WriteString("[" + strings.ReplaceAll(class, `\`, `\\`) + "]")
			i += end + 1
		default:
			b.WriteString(regexp.QuoteMeta(string(c)))
		}
	}
	b.WriteString("$")
	return regexp.Compile(b.String())
}

// filterRule is one --exclude or --include.
type filterRule struct {
	include bool
	pattern string
	re      *regexp.Regexp
}

// filters are the --exclude/--include rules in command-line order. As in
// `aws s3`, every file is included to begin with and the last rule that
// matches decides.
type filters struct{ rules []filterRule }

// register adds --exclude and --include; both append to one list, which
// keeps their relative order (two StringArray flags would lose it).
func (f *filters) register(fs *pflag.FlagSet) {
	fs.Var(&filterFlag{f: f}, "exclude", "leave out paths (relative to the source) matching this pattern; repeatable, order matters")
	fs.Var(&filterFlag{f: f, include: true}, "include", "bring back paths matching this pattern after an --exclude; repeatable")
}

// included reports whether the relative path rel passes the rules.
func (f *filters) included(rel string) bool {
	in := true
	for _, r := range f.rules {
		if r.re.MatchString(rel) {
			in = r.include
		}
	}
	return in
}

type filterFlag struct {
	f       *filters
	include bool
}

func (v *filterFlag) Set(s string) error {
	re, err := globRegexp(s)
	if err != nil {
		return err
	}
	v.f.rules = append(v.f.rules, filterRule{include: v.include, pattern: s, re: re})
	return nil
}

func (v *filterFlag) String() string { return "" }
func (v *filterFlag) Type() string   { return "pattern" }
