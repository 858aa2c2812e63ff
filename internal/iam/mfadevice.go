package iam

// Virtual MFA devices.
//
// A device is created unassigned (CreateVirtualMFADevice), then enabled
// for one user with two consecutive codes (EnableMFADevice); from then on
// VerifyMFA checks codes for STS and S3 MFA Delete. Coffer lets the
// account root enable a device too, with the user name "root": AWS does
// that only in its console, and a server without a console needs an API
// for it (a documented deviation).
//
// Every verification runs in one Store Update transaction that reads the
// device's last used TOTP step and writes the new one. Update
// transactions are serializable, so that read-check-write is a
// compare-and-swap: of two concurrent requests with the same code, the
// second sees the step the first recorded and is refused.

import (
	"context"
	"errors"
	"io"
	"strings"
	"time"

	"github.com/coffer-io/coffer/internal/mfa"
)

// RootUserName is the UserName under which the MFA operations address the
// account root (a Coffer deviation: AWS has no API for the root's MFA).
const RootUserName = "root"

// MFADevice is a virtual MFA device. It is enabled when EnableDate is
// set, for UserName, or for the account root when UserName is "".
type MFADevice struct {
	Path       string    `json:"path"`
	Name       string    `json:"name"`
	Seed       []byte    `json:"seed"` // the TOTP secret
	CreateDate time.Time `json:"created"`
	EnableDate time.Time `json:"enabled,omitzero"`
	UserName   string    `json:"user,omitempty"`
	// LastStep is the latest TOTP time step accepted, so a code is never
	// accepted twice; Drift is the client clock's offset in steps, learnt
	// by ResyncMFADevice.
	LastStep int64 `json:"lastStep,omitempty"`
	Drift    int64 `json:"drift,omitempty"`
	Tags     []Tag `json:"tags,omitempty"`
}

// SerialNumber returns the device's serial number (its ARN) in account.
func (d *MFADevice) SerialNumber(account string) string {
	return mfa.SerialARNPath(account, d.Path, d.Name)
}

// Enabled reports whether the device is assigned to a user or the root.
func (d *MFADevice) Enabled() bool { return !d.EnableDate.IsZero() }

// IsRoot reports whether the device is enabled for the account root.
func (d *MFADevice) IsRoot() bool { return d.Enabled() && d.UserName == "" }

func (d *MFADevice) device() mfa.Device {
	return mfa.Device{Secret: d.Seed, EnabledAt: d.EnableDate, LastStep: d.LastStep, Drift: d.Drift}
}

func (d *MFADevice) setDevice(m mfa.Device) {
	d.EnableDate, d.LastStep, d.Drift = m.EnabledAt, m.LastStep, m.Drift
}

// MFATx is the part of a Tx that keeps MFA devices, keyed by device name
// compared case-insensitively (like other IAM names). It is separate from
// Tx so that stores written before MFA keep compiling; a Store whose Tx
// lacks it refuses the MFA operations.
type MFATx interface {
	MFADevice(name string) (*MFADevice, error)
	// MFADevices returns the account's devices ordered by lower-cased name.
	MFADevices() ([]*MFADevice, error)
	PutMFADevice(d *MFADevice) error
	DeleteMFADevice(name string) error
}

var errNoMFAStore = errors.New("iam: the store does not keep MFA devices")

func mfaTx(tx Tx) (MFATx, error) {
	m, ok := tx.(MFATx)
	if !ok {
		return nil, errNoMFAStore
	}
	return m, nil
}

const maxMFAName = 226

func noSuchDevice(serial string) error {
	return Errorf(ErrNoSuchEntity, "VirtualMFADevice with serial number %s doesn't exist.", serial)
}

// deviceBySerial finds the device a serial number names in account.
func deviceBySerial(tx Tx, account, serial string) (MFATx, *MFADevice, error) {
	m, err := mfaTx(tx)
	if err != nil {
		return nil, nil, err
	}
	acct, path, name, ok := mfa.ParseSerialARN(serial)
	if !ok || acct != account {
		return nil, nil, noSuchDevice(serial)
	}
	d, err := m.MFADevice(name)
	if errors.Is(err, ErrNotFound) || (err == nil && d.Path != path) {
		return nil, nil, noSuchDevice(serial)
	}
	return m, d, err
}

// checkSerial validates a SerialNumber parameter.
func checkSerial(v string) error {
	switch {
	case v == "":
		return missing("serialNumber")
	case !mfa.ValidSerial(v):
		return validationf("serialNumber", v, `satisfy regular expression pattern: [\w+=/:,.@-]+`)
	}
	return nil
}

// mfaError turns package mfa's verification failures into IAM errors.
func mfaError(err error) error {
	var me *mfa.Error
	switch {
	case err == nil:
		return nil
	case errors.As(err, &me):
		return Errorf(ErrInvalidAuthenticationCode, "%s", me.Message)
	case errors.Is(err, mfa.ErrNotEnabled):
		return Errorf(ErrNoSuchEntity, "MFA device is not enabled.")
	case errors.Is(err, mfa.ErrAlreadyEnabled):
		return Errorf(ErrEntityAlreadyExists, "MFA Device is already in use.")
	}
	return err
}

// owner resolves the UserName of the MFA operations: "root" is the
// account root (returned as ""), anything else must be an existing user.
func owner(tx Tx, userName string) (string, error) {
	if err := checkName("userName", userName, maxUserName); err != nil {
		return "", err
	}
	if strings.EqualFold(userName, RootUserName) {
		return "", nil
	}
	u, err := getUser(tx, userName)
	if err != nil {
		return "", err
	}
	return u.UserName, nil
}

// CreateVirtualMFADevice creates an unassigned device with a fresh seed.
// The returned device carries the seed: this is the only time it leaves
// the server.
func (s *Service) CreateVirtualMFADevice(ctx context.Context, account, path, name string, tags []Tag) (*MFADevice, error) {
	if err := checkName("virtualMFADeviceName", name, maxMFAName); err != nil {
		return nil, err
	}
	path, err := checkPath("path", path)
	if err != nil {
		return nil, err
	}
	if err := s.checkTagCount(tags); err != nil {
		return nil, err
	}
	seed := make([]byte, mfa.SecretSize)
	if _, err := io.ReadFull(s.rand(), seed); err != nil {
		return nil, err
	}
	d := &MFADevice{Path: path, Name: name, Seed: seed, CreateDate: s.now(), Tags: tags}
	err = s.update(ctx, account, func(tx Tx) error {
		m, err := mfaTx(tx)
		if err != nil {
			return err
		}
		_, err = m.MFADevice(name)
		if err := absent(err, Errorf(ErrEntityAlreadyExists, "MFADevice entity at the same path and name already exists.")); err != nil {
			return err
		}
		return m.PutMFADevice(d)
	})
	if err != nil {
		return nil, err
	}
	return d, nil
}

// EnableMFADevice assigns a device to a user (or the root, for user name
// "root") once code1 and code2 are two consecutive codes of its seed.
// A user has at most one device.
func (s *Service) EnableMFADevice(ctx context.Context, account, userName, serial, code1, code2 string) error {
	if err := checkSerial(serial); err != nil {
		return err
	}
	now := s.now()
	return s.update(ctx, account, func(tx Tx) error {
		user, err := owner(tx, userName)
		if err != nil {
			return err
		}
		m, d, err := deviceBySerial(tx, account, serial)
		if err != nil {
			return err
		}
		if d.Enabled() {
			return Errorf(ErrEntityAlreadyExists, "MFA Device is already in use.")
		}
		all, err := m.MFADevices()
		if err != nil {
			return err
		}
		for _, o := range all {
			if o.Enabled() && o.UserName == user {
				return Errorf(ErrLimitExceeded, "Cannot exceed quota for MFADevicesPerUser: 1")
			}
		}
		nd, err := d.device().Enable(code1, code2, now)
		if err != nil {
			return mfaError(err)
		}
		d.setDevice(nd)
		d.UserName = user
		return m.PutMFADevice(d)
	})
}

// enabledFor finds the device serial names, enabled for userName.
func enabledFor(tx Tx, account, userName, serial string) (MFATx, *MFADevice, error) {
	user, err := owner(tx, userName)
	if err != nil {
		return nil, nil, err
	}
	m, d, err := deviceBySerial(tx, account, serial)
	if err != nil {
		return nil, nil, err
	}
	if !d.Enabled() || d.UserName != user {
		return nil, nil, Errorf(ErrNoSuchEntity, "MFA Device with serial number %s is not associated with user %s.", serial, userName)
	}
	return m, d, nil
}

// DeactivateMFADevice unassigns a device from its user; the virtual
// device remains and can be enabled again (with fresh codes).
func (s *Service) DeactivateMFADevice(ctx context.Context, account, userName, serial string) error {
	if err := checkSerial(serial); err != nil {
		return err
	}
	return s.update(ctx, account, func(tx Tx) error {
		m, d, err := enabledFor(tx, account, userName, serial)
		if err != nil {
			return err
		}
		d.setDevice(d.device().Disable())
		d.UserName = ""
		return m.PutMFADevice(d)
	})
}

// ResyncMFADevice re-learns a device's clock drift from two consecutive
// codes within a wide window.
func (s *Service) ResyncMFADevice(ctx context.Context, account, userName, serial, code1, code2 string) error {
	if err := checkSerial(serial); err != nil {
		return err
	}
	now := s.now()
	return s.update(ctx, account, func(tx Tx) error {
		m, d, err := enabledFor(tx, account, userName, serial)
		if err != nil {
			return err
		}
		nd, err := d.device().Resync(code1, code2, now)
		if err != nil {
			return mfaError(err)
		}
		d.setDevice(nd)
		return m.PutMFADevice(d)
	})
}

// DeleteVirtualMFADevice deletes an unassigned device.
func (s *Service) DeleteVirtualMFADevice(ctx context.Context, account, serial string) error {
	if err := checkSerial(serial); err != nil {
		return err
	}
	return s.update(ctx, account, func(tx Tx) error {
		m, d, err := deviceBySerial(tx, account, serial)
		if err != nil {
			return err
		}
		if d.Enabled() {
			return Errorf(ErrDeleteConflict, "MFA device is still in use.")
		}
		return m.DeleteMFADevice(d.Name)
	})
}

// ListMFADevices lists the devices enabled for a user ("root": the root).
func (s *Service) ListMFADevices(ctx context.Context, account, userName string, opts ListOptions) (Page[*MFADevice], error) {
	var out []*MFADevice
	err := s.view(ctx, account, func(tx Tx) error {
		out = nil
		user, err := owner(tx, userName)
		if err != nil {
			return err
		}
		m, err := mfaTx(tx)
		if err != nil {
			return err
		}
		all, err := m.MFADevices()
		for _, d := range all {
			if d.Enabled() && d.UserName == user {
				out = append(out, d)
			}
		}
		return err
	})
	if err != nil {
		return Page[*MFADevice]{}, err
	}
	return page(out, func(d *MFADevice) string { return lower(d.Name) }, opts)
}

// ListVirtualMFADevices lists the account's devices; assignment is
// "Assigned", "Unassigned" or "Any" ("" means Any).
func (s *Service) ListVirtualMFADevices(ctx context.Context, account, assignment string, opts ListOptions) (Page[*MFADevice], error) {
	switch assignment {
	case "", "Any", "Assigned", "Unassigned":
	default:
		return Page[*MFADevice]{}, validationf("assignmentStatus", assignment, "satisfy enum value set: [Any, Assigned, Unassigned]")
	}
	var out []*MFADevice
	err := s.view(ctx, account, func(tx Tx) error {
		out = nil
		m, err := mfaTx(tx)
		if err != nil {
			return err
		}
		all, err := m.MFADevices()
		for _, d := range all {
			if assignment == "Assigned" && !d.Enabled() || assignment == "Unassigned" && d.Enabled() {
				continue
			}
			out = append(out, d)
		}
		return err
	})
	if err != nil {
		return Page[*MFADevice]{}, err
	}
	return page(out, func(d *MFADevice) string { return lower(d.Name) }, opts)
}

// MFAVerification is what a successful VerifyMFA learnt: the owner of the
// device, so that STS can check it belongs to the caller.
type MFAVerification struct {
	UserName string // "" for the account root
	Time     time.Time
}

// VerifyMFA checks a code of an enabled device and records its time step,
// so that the code (and any earlier one) is refused from then on, even to
// a concurrent request. Failures are NoSuchEntity (no such device, or not
// enabled) or InvalidAuthenticationCode.
func (s *Service) VerifyMFA(ctx context.Context, account, serial, code string) error {
	_, err := s.VerifyMFADevice(ctx, account, serial, code)
	return err
}

// VerifyMFADevice is VerifyMFA that also reports whose device it is.
func (s *Service) VerifyMFADevice(ctx context.Context, account, serial, code string) (MFAVerification, error) {
	return s.verifyMFA(ctx, account, serial, code, nil)
}

// VerifyUserMFA is VerifyMFA for a device that must be enabled for
// userName ("root": the account root). A device of someone else is
// NoSuchEntity and its code is left unused, so nobody can spend another
// user's codes.
func (s *Service) VerifyUserMFA(ctx context.Context, account, userName, serial, code string) error {
	_, err := s.verifyMFA(ctx, account, serial, code, &userName)
	return err
}

func (s *Service) verifyMFA(ctx context.Context, account, serial, code string, userName *string) (MFAVerification, error) {
	if err := checkSerial(serial); err != nil {
		return MFAVerification{}, err
	}
	now := s.now()
	var v MFAVerification
	err := s.update(ctx, account, func(tx Tx) error {
		m, d, err := deviceBySerial(tx, account, serial)
		if err != nil {
			return err
		}
		if !d.Enabled() {
			return Errorf(ErrNoSuchEntity, "MFA device is not enabled.")
		}
		if userName != nil {
			user, err := owner(tx, *userName)
			if err != nil {
				return err
			}
			if d.UserName != user {
				return Errorf(ErrNoSuchEntity, "MFA Device with serial number %s is not associated with user %s.", serial, *userName)
			}
		}
		nd, err := d.device().Verify(code, now)
		if err != nil {
			return mfaError(err)
		}
		d.setDevice(nd)
		v = MFAVerification{UserName: d.UserName, Time: now}
		return m.PutMFADevice(d)
	})
	return v, err
}
