package lua

// ACL is an access control policy as Request.UserACL, BucketACL and
// ObjectACL show it: RGW's RGWAccessControlPolicy, in plain Go.
type ACL struct {
	Owner  Owner
	Grants []Grant
}

// Owner is an ACL's owner: RGW's ACLOwner.
type Owner struct {
	DisplayName string
	ID          string // the owner id as RGW prints it: "tenant$uid", or "uid"
}

// Grant is one grant: RGW's ACLGrant. User is set for canonical users,
// Email for email grantees, GroupType for groups.
type Grant struct {
	Type       int // GranteeCanonicalUser, GranteeEmail or GranteeGroup
	User       string
	Email      string
	GroupType  int // GroupNone, GroupAllUsers or GroupAuthenticatedUsers
	Permission int // an OR of the Perm* bits
}

// RGW's grantee types (ACLGranteeTypeEnum).
const (
	GranteeCanonicalUser = 0
	GranteeEmail         = 1
	GranteeGroup         = 2
)

// RGW's groups (ACLGroupTypeEnum): a group RGW does not know (S3's
// LogDelivery) is GroupNone.
const (
	GroupNone               = 0
	GroupAllUsers           = 1
	GroupAuthenticatedUsers = 2
)

// RGW's permission bits (RGW_PERM_*).
const (
	PermRead        = 0x01
	PermWrite       = 0x02
	PermReadACP     = 0x04
	PermWriteACP    = 0x08
	PermFullControl = PermRead | PermWrite | PermReadACP | PermWriteACP
)

// key is the grant's key in RGW's grant map: the user id, the email
// address, or "" for groups (which RGW hides from iteration).
func (g Grant) key() string {
	switch g.Type {
	case GranteeCanonicalUser:
		return g.User
	case GranteeEmail:
		return g.Email
	}
	return ""
}
