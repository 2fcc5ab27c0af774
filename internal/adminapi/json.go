package adminapi

import (
	"github.com/cairn-s3/cairn/internal/account"
	"github.com/cairn-s3/cairn/internal/tenant"
)

// UserInfo is RGW's JSON document for a user (radosgw-admin user info),
// with the fields Cairn does not implement at their RGW defaults. The
// user id is "tenant$uid" as radosgw-admin prints it; RGW's Admin Ops
// also give the tenant apart and the full id (current RGW).
type UserInfo struct {
	FullUserID          string    `json:"full_user_id"`
	Tenant              string    `json:"tenant"`
	UserID              string    `json:"user_id"`
	DisplayName         string    `json:"display_name"`
	Email               string    `json:"email"`
	Suspended           int       `json:"suspended"`
	MaxBuckets          int       `json:"max_buckets"`
	Subusers            []any     `json:"subusers"`
	Keys                []KeyInfo `json:"keys"`
	SwiftKeys           []any     `json:"swift_keys"`
	Caps                []CapInfo `json:"caps"`
	OpMask              string    `json:"op_mask"`
	System              bool      `json:"system"`
	Admin               bool      `json:"admin"`
	DefaultPlacement    string    `json:"default_placement"`
	DefaultStorageClass string    `json:"default_storage_class"`
	PlacementTags       []any     `json:"placement_tags"`
	BucketQuota         Quota     `json:"bucket_quota"`
	UserQuota           Quota     `json:"user_quota"`
	TempURLKeys         []any     `json:"temp_url_keys"`
	Type                string    `json:"type"`
	MfaIDs              []any     `json:"mfa_ids"`
	CreateDate          string    `json:"create_date"`
	// Stats is the storage the user's buckets hold, with stats=true.
	Stats *StorageStats `json:"stats,omitempty"`
}

// KeyInfo is one S3 key pair in RGW's JSON.
type KeyInfo struct {
	User      string `json:"user"`
	AccessKey string `json:"access_key"`
	SecretKey string `json:"secret_key"`
}

// CapInfo is one capability in RGW's JSON.
type CapInfo struct {
	Type string `json:"type"`
	Perm string `json:"perm"`
}

// Quota is RGW's quota document; Cairn reports quotas as disabled.
type Quota struct {
	Enabled    bool  `json:"enabled"`
	CheckOnRaw bool  `json:"check_on_raw"`
	MaxSize    int64 `json:"max_size"`
	MaxSizeKB  int64 `json:"max_size_kb"`
	MaxObjects int64 `json:"max_objects"`
}

var noQuota = Quota{MaxSize: -1, MaxObjects: -1}

func userInfo(u account.User) UserInfo {
	info := UserInfo{
		FullUserID:    u.ID,
		Tenant:        tenant.OfUser(u.ID),
		UserID:        u.ID,
		DisplayName:   u.DisplayName,
		Email:         u.Email,
		MaxBuckets:    u.MaxBuckets,
		Subusers:      []any{},
		Keys:          []KeyInfo{},
		SwiftKeys:     []any{},
		Caps:          []CapInfo{},
		OpMask:        "read, write, delete",
		System:        u.System,
		Admin:         u.Admin,
		PlacementTags: []any{},
		BucketQuota:   noQuota,
		UserQuota:     noQuota,
		TempURLKeys:   []any{},
		Type:          "rgw",
		MfaIDs:        []any{},
		CreateDate:    u.Created.UTC().Format("2006-01-02T15:04:05.000000Z"),
	}
	if u.Suspended {
		info.Suspended = 1
	}
	for _, k := range u.Keys {
		info.Keys = append(info.Keys, KeyInfo{User: u.ID, AccessKey: k.AccessKey, SecretKey: k.SecretKey})
	}
	for _, c := range u.Caps {
		info.Caps = append(info.Caps, CapInfo{Type: c.Type, Perm: c.Perm})
	}
	return info
}
