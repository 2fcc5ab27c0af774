package s3api

import (
	"context"

	"github.com/cairn-s3/cairn/internal/lua"
)

// scriptACL shows a stored ACL to scripts as RGW's policy: canned ACLs
// expanded against the owners, grantees and permissions in RGW's numbers.
func (a *API) scriptACL(ctx context.Context, stored, owner, bucketOwner string) lua.ACL {
	acl := lua.ACL{Owner: lua.Owner{ID: owner, DisplayName: a.displayName(ctx, owner)}}
	for _, g := range loadACL(stored, owner, bucketOwner) {
		lg := lua.Grant{Permission: scriptPerms[g.Perm]}
		switch g.Type {
		case granteeUser:
			lg.Type, lg.User = lua.GranteeCanonicalUser, g.ID
		case granteeEmail:
			lg.Type, lg.Email = lua.GranteeEmail, g.Email
		case granteeGroup:
			lg.Type, lg.GroupType = lua.GranteeGroup, scriptGroups[g.URI]
		default:
			continue
		}
		acl.Grants = append(acl.Grants, lg)
	}
	return acl
}

var scriptPerms = map[string]int{permRead: lua.PermRead, permWrite: lua.PermWrite, permReadACP: lua.PermReadACP,
	permWriteACP: lua.PermWriteACP, permFullControl: lua.PermFullControl}

// scriptGroups are the groups RGW knows; others (LogDelivery) are its
// ACL_GROUP_NONE.
var scriptGroups = map[string]int{groupAllUsers: lua.GroupAllUsers, groupAuthUsers: lua.GroupAuthenticatedUsers}
