package bolt

// MFA devices of the IAM store (iam.MFATx), in the account's nested
// bucket:
//
//	iam/<account id>/mfa   lower(device name) → iam.MFADevice (JSON)
//
// The record holds the TOTP seed and the last accepted time step. The
// Service verifies a code and writes the new step in one Update, which
// bbolt's single writer serializes: that is the compare-and-swap that
// keeps a code from being used twice.

import "github.com/coffer-io/coffer/internal/iam"

var bIAMMFA = []byte("mfa")

// MFADevice implements iam.MFATx.
func (t *iamTx) MFADevice(name string) (*iam.MFADevice, error) {
	return getRecord[iam.MFADevice](&t.accountTx, bIAMMFA, name)
}

// MFADevices implements iam.MFATx.
func (t *iamTx) MFADevices() ([]*iam.MFADevice, error) {
	return listRecords[iam.MFADevice](&t.accountTx, bIAMMFA)
}

// PutMFADevice implements iam.MFATx.
func (t *iamTx) PutMFADevice(d *iam.MFADevice) error { return t.put(bIAMMFA, d.Name, d) }

// DeleteMFADevice implements iam.MFATx.
func (t *iamTx) DeleteMFADevice(name string) error { return t.del(bIAMMFA, name) }

var _ iam.MFATx = (*iamTx)(nil)
