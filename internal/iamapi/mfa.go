package iamapi

// Virtual MFA devices.

import (
	"encoding/base64"

	"github.com/coffer-io/coffer/internal/iam"
	"github.com/coffer-io/coffer/internal/mfa"
)

// mfaIssuer is the issuer shown by authenticator apps for Coffer's
// devices.
const mfaIssuer = "Coffer"

type xVirtualMFADevice struct {
	SerialNumber     string        `xml:"SerialNumber"`
	Base32StringSeed string        `xml:"Base32StringSeed,omitempty"`
	QRCodePNG        string        `xml:"QRCodePNG,omitempty"`
	User             *xUser        `xml:"User,omitempty"`
	EnableDate       string        `xml:"EnableDate,omitempty"`
	Tags             members[xTag] `xml:"Tags,omitempty"`
}

type createVirtualMFADeviceResult struct {
	VirtualMFADevice xVirtualMFADevice `xml:"VirtualMFADevice"`
}

// createVirtualMFADevice returns the seed both ways AWS does, each
// base64-encoded on the wire (the CLI decodes the one it is asked for into
// --outfile): the ASCII base32 seed, and a PNG of the otpauth QR code.
func (h *Handler) createVirtualMFADevice(c *call) (any, error) {
	d, err := h.IAM.CreateVirtualMFADevice(c.ctx, c.account, c.get("Path"), c.get("VirtualMFADeviceName"), c.tags())
	if err != nil {
		return nil, err
	}
	png, err := mfa.QRCodePNG(mfa.URI(d.Seed, d.Name, c.account, mfaIssuer))
	if err != nil {
		return nil, err
	}
	return createVirtualMFADeviceResult{xVirtualMFADevice{
		SerialNumber:     d.SerialNumber(c.account),
		Base32StringSeed: base64.StdEncoding.EncodeToString([]byte(mfa.Base32(d.Seed))),
		QRCodePNG:        base64.StdEncoding.EncodeToString(png),
		Tags:             tagsXML(d.Tags),
	}}, nil
}

func (h *Handler) deleteVirtualMFADevice(c *call) (any, error) {
	return nil, h.IAM.DeleteVirtualMFADevice(c.ctx, c.account, c.get("SerialNumber"))
}

func (h *Handler) enableMFADevice(c *call) (any, error) {
	return nil, h.IAM.EnableMFADevice(c.ctx, c.account, c.get("UserName"), c.get("SerialNumber"),
		c.get("AuthenticationCode1"), c.get("AuthenticationCode2"))
}

func (h *Handler) deactivateMFADevice(c *call) (any, error) {
	user, err := c.mfaUser()
	if err != nil {
		return nil, err
	}
	return nil, h.IAM.DeactivateMFADevice(c.ctx, c.account, user, c.get("SerialNumber"))
}

func (h *Handler) resyncMFADevice(c *call) (any, error) {
	return nil, h.IAM.ResyncMFADevice(c.ctx, c.account, c.get("UserName"), c.get("SerialNumber"),
		c.get("AuthenticationCode1"), c.get("AuthenticationCode2"))
}

// mfaUser is the UserName of an MFA operation, defaulting to the caller
// ("root" for the account root).
func (c *call) mfaUser() (string, error) {
	user, err := c.userOrCaller()
	if err == nil && user == "" {
		user = iam.RootUserName
	}
	return user, err
}

type xMFADevice struct {
	UserName     string `xml:"UserName"`
	SerialNumber string `xml:"SerialNumber"`
	EnableDate   string `xml:"EnableDate"`
}

type listMFADevicesResult struct {
	MFADevices members[xMFADevice] `xml:"MFADevices"`
	page
}

func (h *Handler) listMFADevices(c *call) (any, error) {
	user, err := c.mfaUser()
	if err != nil {
		return nil, err
	}
	opts, err := c.listOptions()
	if err != nil {
		return nil, err
	}
	p, err := h.IAM.ListMFADevices(c.ctx, c.account, user, opts)
	if err != nil {
		return nil, err
	}
	r := listMFADevicesResult{MFADevices: members[xMFADevice]{}, page: pageOf(p)}
	for _, d := range p.Items {
		name := d.UserName
		if name == "" {
			name = iam.RootUserName
		}
		r.MFADevices = append(r.MFADevices, xMFADevice{UserName: name, SerialNumber: d.SerialNumber(c.account), EnableDate: isoDate(d.EnableDate)})
	}
	return r, nil
}

type listVirtualMFADevicesResult struct {
	VirtualMFADevices members[xVirtualMFADevice] `xml:"VirtualMFADevices"`
	page
}

func (h *Handler) listVirtualMFADevices(c *call) (any, error) {
	opts, err := c.listOptions()
	if err != nil {
		return nil, err
	}
	p, err := h.IAM.ListVirtualMFADevices(c.ctx, c.account, c.get("AssignmentStatus"), opts)
	if err != nil {
		return nil, err
	}
	r := listVirtualMFADevicesResult{VirtualMFADevices: members[xVirtualMFADevice]{}, page: pageOf(p)}
	for _, d := range p.Items {
		x := xVirtualMFADevice{SerialNumber: d.SerialNumber(c.account), Tags: tagsXML(d.Tags)}
		if d.Enabled() {
			x.EnableDate = isoDate(d.EnableDate)
			if d.IsRoot() {
				x.User = &xUser{UserID: c.account, Arn: iam.RootARN(c.account)}
			} else if u, err := h.IAM.GetUser(c.ctx, c.account, d.UserName); err == nil {
				xu := userXML(c.account, u, false)
				x.User = &xu
			}
		}
		r.VirtualMFADevices = append(r.VirtualMFADevices, x)
	}
	return r, nil
}
