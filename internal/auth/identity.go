package auth

import (
	"context"
	"errors"
)

// Identity is who signed a request.
type Identity struct {
	AccessKey string
	UserID    string
	Anonymous bool
}

// Credentials looks up secret keys; the account package implements it.
type Credentials interface {
	// Lookup returns the user owning accessKey and its secret, or
	// ErrUnknownAccessKey.
	Lookup(ctx context.Context, accessKey string) (userID, secretKey string, err error)
}

// ErrUnknownAccessKey is returned by Credentials.Lookup for a key nobody owns.
var ErrUnknownAccessKey = errors.New("auth: unknown access key")
