package s3api

// S3 Object Lock: a bucket created with x-amz-bucket-object-lock-enabled
// (or versioned and then given a configuration) keeps a default retention
// rule; each object version carries its own retention (mode and date) and
// legal hold in store.Metadata. A version under a legal hold or an
// unexpired retention cannot be removed by version id; GOVERNANCE retention
// yields to x-amz-bypass-governance-retention, COMPLIANCE to nothing.
// Deleting without a version id only adds a delete marker, which is always
// allowed.

import (
	"encoding/xml"
	"net/http"
	"strings"
	"time"

	"github.com/cairn-s3/cairn/internal/s3err"
	"github.com/cairn-s3/cairn/internal/store"
)

// objectLockConfigKey is the key of a bucket's ObjectLockConfiguration in
// Bucket.Config. Its presence means object lock is enabled.
const objectLockConfigKey = "object-lock"

// Retention modes.
const (
	lockGovernance = "GOVERNANCE"
	lockCompliance = "COMPLIANCE"
)

// Legal hold states.
const (
	legalHoldOn  = "ON"
	legalHoldOff = "OFF"
)

// Limits on a default retention period, as in S3.
const (
	maxRetentionDays  = 36500
	maxRetentionYears = 100
)

// Request headers of object lock.
const (
	hdrLockMode         = "X-Amz-Object-Lock-Mode"
	hdrLockRetainUntil  = "X-Amz-Object-Lock-Retain-Until-Date"
	hdrLockLegalHold    = "X-Amz-Object-Lock-Legal-Hold"
	hdrBypassGovernance = "X-Amz-Bypass-Governance-Retention"
)

// objectLockConfiguration is the document of Get/PutObjectLockConfiguration,
// and the form in which it is kept in Bucket.Config.
type objectLockConfiguration struct {
	XMLName           xml.Name        `xml:"ObjectLockConfiguration"`
	Xmlns             string          `xml:"xmlns,attr,omitempty"`
	ObjectLockEnabled string          `xml:"ObjectLockEnabled,omitempty"`
	Rule              *objectLockRule `xml:"Rule,omitempty"`
}

type objectLockRule struct {
	DefaultRetention *defaultRetention `xml:"DefaultRetention"`
}

type defaultRetention struct {
	Mode  string `xml:"Mode,omitempty"`
	Days  *int   `xml:"Days,omitempty"`
	Years *int   `xml:"Years,omitempty"`
}

// objectRetention is the document of Get/PutObjectRetention.
type objectRetention struct {
	XMLName         xml.Name `xml:"Retention"`
	Xmlns           string   `xml:"xmlns,attr,omitempty"`
	Mode            string   `xml:"Mode,omitempty"`
	RetainUntilDate string   `xml:"RetainUntilDate,omitempty"`
}

// objectLegalHold is the document of Get/PutObjectLegalHold.
type objectLegalHold struct {
	XMLName xml.Name `xml:"LegalHold"`
	Xmlns   string   `xml:"xmlns,attr,omitempty"`
	Status  string   `xml:"Status"`
}

var errNoBucketLock = s3err.InvalidRequest.WithMessage("Bucket is missing Object Lock Configuration")

func validLockMode(m string) bool { return m == lockGovernance || m == lockCompliance }

// lockEnabled reports whether a bucket has object lock enabled.
func lockEnabled(b store.Bucket) bool {
	_, ok := b.Config[objectLockConfigKey]
	return ok
}

// lockConfig returns a bucket's object lock configuration; ok is false
// when object lock is not enabled.
func lockConfig(b store.Bucket) (c objectLockConfiguration, ok bool, err error) {
	doc, ok := b.Config[objectLockConfigKey]
	if !ok {
		return c, false, nil
	}
	if err := xml.Unmarshal(doc, &c); err != nil {
		return c, true, s3err.InternalError.WithCause(err)
	}
	return c, true, nil
}

// enableObjectLock records an enabled configuration without a default
// rule, as CreateBucket with x-amz-bucket-object-lock-enabled does.
func enableObjectLock(b *store.Bucket) {
	setLockConfig(b, objectLockConfiguration{ObjectLockEnabled: "Enabled"})
}

func setLockConfig(b *store.Bucket, c objectLockConfiguration) {
	c.Xmlns = ""
	doc, _ := xml.Marshal(c) // plain structs: cannot fail
	if b.Config == nil {
		b.Config = make(map[string][]byte)
	}
	b.Config[objectLockConfigKey] = doc
}

// checkVersioningChange refuses to suspend versioning on a bucket with
// object lock.
func checkVersioningChange(b store.Bucket, v store.Versioning) error {
	if v != store.Enabled && lockEnabled(b) {
		return s3err.InvalidBucketState.WithMessage("An Object Lock configuration is present on this bucket, so the versioning state cannot be changed.")
	}
	return nil
}

// validateLockConfig checks a PutObjectLockConfiguration document.
func validateLockConfig(c objectLockConfiguration) error {
	if c.ObjectLockEnabled != "Enabled" {
		return s3err.MalformedXML
	}
	if c.Rule == nil {
		return nil
	}
	dr := c.Rule.DefaultRetention
	if dr == nil || !validLockMode(dr.Mode) || (dr.Days == nil) == (dr.Years == nil) {
		return s3err.MalformedXML
	}
	if dr.Days != nil && (*dr.Days <= 0 || *dr.Days > maxRetentionDays) ||
		dr.Years != nil && (*dr.Years <= 0 || *dr.Years > maxRetentionYears) {
		return s3err.InvalidRetentionPeriod
	}
	return nil
}

// defaultUntil is the end of a default retention starting at now.
func (dr *defaultRetention) until(now time.Time) time.Time {
	if dr.Years != nil {
		return now.AddDate(*dr.Years, 0, 0)
	}
	return now.AddDate(0, 0, *dr.Days)
}

// lockTime normalises a retention date to what Cairn stores and renders:
// UTC, millisecond precision.
func lockTime(t time.Time) time.Time { return t.UTC().Truncate(time.Millisecond) }

func parseLockDate(v string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(v))
	return lockTime(t), err
}

// bypassGovernance reports x-amz-bypass-governance-retention: true.
func bypassGovernance(h http.Header) bool {
	return strings.EqualFold(strings.TrimSpace(h.Get(hdrBypassGovernance)), "true")
}

var errLocked = s3err.AccessDenied.WithMessage("Access Denied because object protected by object lock.")

// retentionActive reports whether m's retention still holds at now.
func retentionActive(m store.Metadata, now time.Time) bool {
	return m.LockMode != "" && m.LockRetainUntil.After(now)
}

// deleteLockCheck is the store's DeleteOptions.Check for removing a
// version: a legal hold or an unexpired retention forbids it, except that
// GOVERNANCE retention yields to the bypass header.
func deleteLockCheck(bypass bool) func(store.ObjectInfo) error {
	return func(oi store.ObjectInfo) error {
		m := oi.Meta
		if m.LegalHold == legalHoldOn {
			return errLocked
		}
		if retentionActive(m, time.Now()) && (m.LockMode == lockCompliance || !bypass) {
			return errLocked
		}
		return nil
	}
}

// checkRetentionChange decides whether a version's retention may become
// (mode, until): extending it in the same mode always may; anything else
// under unexpired COMPLIANCE never may, under GOVERNANCE only with bypass.
func checkRetentionChange(cur store.Metadata, mode string, until time.Time, bypass bool, now time.Time) error {
	if !retentionActive(cur, now) {
		return nil
	}
	if mode == cur.LockMode && !until.Before(cur.LockRetainUntil) {
		return nil
	}
	if cur.LockMode == lockGovernance && bypass {
		return nil
	}
	return errLocked
}

// applyObjectLock sets the lock fields of a new object version (PUT, copy,
// multipart upload) from the x-amz-object-lock-* headers or, without an
// explicit retention, from the bucket's default retention. Lock settings are
// never inherited from a copy source.
func applyObjectLock(b store.Bucket, h http.Header, m *store.Metadata, now time.Time) error {
	m.LockMode, m.LockRetainUntil, m.LegalHold = "", time.Time{}, ""
	mode, date, hold := h.Get(hdrLockMode), h.Get(hdrLockRetainUntil), h.Get(hdrLockLegalHold)
	if (mode != "" || date != "" || hold != "") && !lockEnabled(b) {
		return errNoBucketLock
	}
	if (mode == "") != (date == "") {
		return s3err.InvalidArgument.WithMessage("x-amz-object-lock-retain-until-date and x-amz-object-lock-mode must both be supplied")
	}
	if mode != "" {
		if !validLockMode(mode) {
			return s3err.InvalidArgument.WithMessage("Unknown wormMode directive.")
		}
		until, err := parseLockDate(date)
		if err != nil {
			return s3err.InvalidArgument.WithMessage("The retain until date must be provided in ISO 8601 format")
		}
		if !until.After(now) {
			return s3err.InvalidArgument.WithMessage("The retain until date must be in the future!")
		}
		m.LockMode, m.LockRetainUntil = mode, until
	}
	switch hold {
	case "", legalHoldOn, legalHoldOff:
		m.LegalHold = hold
	default:
		return s3err.InvalidArgument.WithMessage("Legal Hold must be either of 'ON' or 'OFF'")
	}
	if mode != "" {
		return nil
	}
	c, ok, err := lockConfig(b)
	if err != nil || !ok || c.Rule == nil || c.Rule.DefaultRetention == nil {
		return err
	}
	dr := c.Rule.DefaultRetention
	m.LockMode, m.LockRetainUntil = dr.Mode, lockTime(dr.until(now))
	return nil
}

// setObjectLockHeaders describes a version's lock on GET and HEAD answers.
func setObjectLockHeaders(h http.Header, m store.Metadata) {
	if m.LockMode != "" {
		h.Set(hdrLockMode, m.LockMode)
		h.Set(hdrLockRetainUntil, isoTime(m.LockRetainUntil))
	}
	if m.LegalHold != "" {
		h.Set(hdrLockLegalHold, m.LegalHold)
	}
}

// decodeLockDocument reads a lock document, which S3 requires to carry a
// Content-MD5 or x-amz-checksum-* value; anything ill-formed is MalformedXML.
func decodeLockDocument(r *http.Request, v any) error {
	return decodeXMLDocument(r, v, true)
}

func (a *API) putObjectLockConfiguration(w http.ResponseWriter, r *http.Request, req *Request) error {
	var c objectLockConfiguration
	if err := decodeLockDocument(r, &c); err != nil {
		return err
	}
	if err := validateLockConfig(c); err != nil {
		return err
	}
	err := a.store.UpdateBucket(r.Context(), req.Bucket, func(b *store.Bucket) error {
		// Object lock may be turned on later only while versioning is on.
		if !lockEnabled(*b) && b.Versioning != store.Enabled {
			return s3err.InvalidBucketState.WithMessage("Versioning must be 'Enabled' on the bucket to apply a Object Lock configuration")
		}
		setLockConfig(b, c)
		return nil
	})
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusOK)
	return nil
}

func (a *API) getObjectLockConfiguration(w http.ResponseWriter, r *http.Request, req *Request) error {
	b := req.auth.bucket
	c, ok, err := lockConfig(b)
	if err != nil {
		return err
	}
	if !ok {
		return s3err.ObjectLockConfigurationNotFound
	}
	c.Xmlns = s3Namespace
	return writeXML(w, c)
}

// lockedObjectRequest reads the version of an object lock request and
// checks that its (authorized) bucket has object lock.
func (a *API) lockedObjectRequest(r *http.Request, req *Request) (versionID string, err error) {
	if versionID, err = versionIDParam(r); err != nil {
		return "", err
	}
	if !lockEnabled(req.auth.bucket) {
		return "", errNoBucketLock
	}
	return versionID, nil
}

func (a *API) putObjectRetention(w http.ResponseWriter, r *http.Request, req *Request) error {
	versionID, err := a.lockedObjectRequest(r, req)
	if err != nil {
		return err
	}
	var x objectRetention
	if err := decodeLockDocument(r, &x); err != nil {
		return err
	}
	now := time.Now()
	var until time.Time
	switch {
	case x.Mode == "" && x.RetainUntilDate == "": // removes the retention
	case !validLockMode(x.Mode) || x.RetainUntilDate == "":
		return s3err.MalformedXML
	default:
		if until, err = parseLockDate(x.RetainUntilDate); err != nil {
			return s3err.MalformedXML.WithCause(err)
		}
		if !until.After(now) {
			return s3err.InvalidArgument.WithMessage("The retain until date must be in the future!")
		}
	}
	bypass := a.bypassGovernanceFor(r, req, req.Key, versionID)
	return a.updateLockedObject(w, r, req, versionID, func(oi *store.ObjectInfo) error {
		if err := checkRetentionChange(oi.Meta, x.Mode, until, bypass, now); err != nil {
			return err
		}
		oi.Meta.LockMode, oi.Meta.LockRetainUntil = x.Mode, until
		return nil
	})
}

func (a *API) getObjectRetention(w http.ResponseWriter, r *http.Request, req *Request) error {
	oi, err := a.headLockedObject(w, r, req)
	if err != nil {
		return err
	}
	if oi.Meta.LockMode == "" {
		return s3err.NoSuchObjectLockConfiguration
	}
	setVersionHeaders(w.Header(), oi.VersionID, false)
	return writeXML(w, objectRetention{
		Xmlns: s3Namespace, Mode: oi.Meta.LockMode, RetainUntilDate: isoTime(oi.Meta.LockRetainUntil),
	})
}

func (a *API) putObjectLegalHold(w http.ResponseWriter, r *http.Request, req *Request) error {
	versionID, err := a.lockedObjectRequest(r, req)
	if err != nil {
		return err
	}
	var x objectLegalHold
	if err := decodeLockDocument(r, &x); err != nil {
		return err
	}
	if x.Status != legalHoldOn && x.Status != legalHoldOff {
		return s3err.MalformedXML
	}
	return a.updateLockedObject(w, r, req, versionID, func(oi *store.ObjectInfo) error {
		oi.Meta.LegalHold = x.Status
		return nil
	})
}

func (a *API) getObjectLegalHold(w http.ResponseWriter, r *http.Request, req *Request) error {
	oi, err := a.headLockedObject(w, r, req)
	if err != nil {
		return err
	}
	if oi.Meta.LegalHold == "" {
		return s3err.NoSuchObjectLockConfiguration
	}
	setVersionHeaders(w.Header(), oi.VersionID, false)
	return writeXML(w, objectLegalHold{Xmlns: s3Namespace, Status: oi.Meta.LegalHold})
}

// headLockedObject reads the object version whose retention or legal hold
// a GET asks for.
func (a *API) headLockedObject(w http.ResponseWriter, r *http.Request, req *Request) (store.ObjectInfo, error) {
	versionID, err := a.lockedObjectRequest(r, req)
	if err != nil {
		return store.ObjectInfo{}, err
	}
	oi, err := a.store.HeadObject(r.Context(), req.Bucket, req.Key, store.GetOptions{VersionID: versionID})
	if err != nil {
		if !req.auth.mayLearnMissing() {
			return oi, s3err.AccessDenied
		}
		return oi, readError(w.Header(), oi, err)
	}
	// A version's lock state is read like the version itself: its ACL,
	// not the bucket's (which may let everyone list the keys), admits
	// the caller.
	if !req.auth.allowsVersion(oi, req.Identity) {
		return oi, s3err.AccessDenied
	}
	return oi, nil
}

// updateLockedObject changes the lock metadata of one object version with
// fn and names the version changed, as the retention and legal hold PUTs
// answer.
func (a *API) updateLockedObject(w http.ResponseWriter, r *http.Request, req *Request, versionID string, fn func(*store.ObjectInfo) error) error {
	oi, err := a.store.UpdateObject(r.Context(), req.Bucket, req.Key, versionID, fn)
	if err != nil {
		return readError(w.Header(), oi, err)
	}
	setVersionHeaders(w.Header(), oi.VersionID, false)
	return nil
}
