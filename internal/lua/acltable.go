package lua

import (
	"context"
	"fmt"

	rt "github.com/arnodel/golua/runtime"
)

// The ACL tables (Request.UserACL, BucketACL, ObjectACL): RGW's ACL
// metatables over a policy read only when a script touches the field.

// aclTable shows the policy load returns; a policy not loaded (no bucket
// or object, or prerequest, before RGW loads them) is RGW's empty one.
func aclTable(x *exec, name string, load func(context.Context) (ACL, bool)) rt.Value {
	var acl ACL
	if x.c != PreRequest && x.req.Info != nil && load != nil {
		acl, _ = load(x.ctx)
	}
	owner := x.record("Owner", map[string]rt.Value{"DisplayName": str(acl.Owner.DisplayName), "User": str(acl.Owner.ID)})
	grants := grantsTable(x, name+".Grants", acl.Grants)
	return x.record(name, map[string]rt.Value{"Owner": owner, "Grants": grants})
}

func (x *exec) grantTable(g Grant) rt.Value {
	user, group := rt.NilValue, rt.NilValue
	if g.Type == GranteeCanonicalUser {
		user = str(g.User)
	}
	if g.Type == GranteeGroup {
		group = rt.IntValue(int64(g.GroupType))
	}
	// Referer grants exist only in Swift's ACLs.
	return x.record("Grant", map[string]rt.Value{"Type": rt.IntValue(int64(g.Type)), "User": user,
		"Permission": rt.IntValue(int64(g.Permission)), "GroupType": group, "Referer": rt.NilValue})
}

// grantsTable is RGW's grant map (a multimap keyed by grantee): indexing
// returns the first grant of a key, # counts every grant, and pairs()
// skips the grants without a key (groups), as RGW's iteration does.
func grantsTable(x *exec, name string, grants []Grant) rt.Value {
	meta := rt.NewTable()
	meta.Set(rt.StringValue("__index"), x.fn("__index", func(t *rt.Thread, c *rt.GoCont) (rt.Cont, error) {
		k, _ := c.Arg(1).ToString()
		for _, g := range grants {
			if g.key() == k {
				return c.PushingNext1(t.Runtime, x.grantTable(g)), nil
			}
		}
		return c.PushingNext1(t.Runtime, rt.NilValue), nil
	}, 2, false))
	meta.Set(rt.StringValue("__newindex"), x.fn("__newindex", func(*rt.Thread, *rt.GoCont) (rt.Cont, error) {
		return nil, fmt.Errorf("%s is read-only", name)
	}, 3, false))
	meta.Set(rt.StringValue("__len"), x.fn("__len", func(t *rt.Thread, c *rt.GoCont) (rt.Cont, error) {
		return c.PushingNext1(t.Runtime, rt.IntValue(int64(len(grants)))), nil
	}, 1, false))
	meta.Set(rt.StringValue("__pairs"), x.fn("__pairs", func(t *rt.Thread, c *rt.GoCont) (rt.Cont, error) {
		var keys []string
		var vals []rt.Value
		for _, g := range grants {
			if k := g.key(); k != "" {
				keys, vals = append(keys, k), append(vals, x.grantTable(g))
			}
		}
		return c.PushingNext(t.Runtime, x.iterator(keys, vals), c.Arg(0), rt.NilValue), nil
	}, 1, false))
	t := rt.NewTable()
	t.SetMetatable(meta)
	return rt.TableValue(t)
}
