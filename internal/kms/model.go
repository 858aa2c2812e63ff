package kms

import "time"

// KeyState is a key's lifecycle state, with AWS's wire values.
type KeyState string

const (
	KeyStateEnabled         KeyState = "Enabled"
	KeyStateDisabled        KeyState = "Disabled"
	KeyStatePendingDeletion KeyState = "PendingDeletion"
)

// KeyManager says who manages a key: AWS for the service-managed aws/s3
// key (which customers cannot disable, delete or re-alias), CUSTOMER
// otherwise.
type KeyManager string

const (
	KeyManagerAWS      KeyManager = "AWS"
	KeyManagerCustomer KeyManager = "CUSTOMER"
)

// Key is a KMS key's metadata (AWS KeyMetadata, symmetric keys only).
type Key struct {
	AccountID    string
	ID           string // UUID
	ARN          string // arn:aws:kms:REGION:ACCOUNT:key/ID
	Description  string
	State        KeyState
	KeyManager   KeyManager
	CreationDate time.Time
	// DeletionDate and PendingWindowInDays are set only in PendingDeletion.
	DeletionDate        time.Time
	PendingWindowInDays int

	RotationEnabled bool
	// RotationPeriodInDays is the automatic rotation period (90..2560),
	// kept when rotation is disabled so re-enabling reuses it.
	RotationPeriodInDays int
	// NextRotation is when RotateDue next rotates the key; zero when
	// rotation is disabled.
	NextRotation time.Time
	// OnDemandRotations counts RotateKeyOnDemand calls (AWS allows 10).
	OnDemandRotations int
	// CurrentVersion is the material version new ciphertexts use.
	CurrentVersion uint32

	// Policy is the key policy document (JSON), stored verbatim.
	Policy []byte
}

// Enabled reports the AWS KeyMetadata.Enabled flag.
func (k *Key) Enabled() bool { return k.State == KeyStateEnabled }

func (k *Key) clone() *Key {
	c := *k
	c.Policy = append([]byte(nil), k.Policy...)
	return &c
}

// Material is one version of a key's 256-bit AES material, sealed by the
// Sealer with materialAAD(account, key, version).
type Material struct {
	Version uint32
	Sealed  []byte
	Created time.Time
}

// KeyRecord is what a Store keeps per key: the metadata and every
// material version (oldest first), so ciphertexts of any version decrypt.
type KeyRecord struct {
	Key       Key
	Materials []Material
	// Grants are the key's grants, in creation order.
	Grants []Grant `json:",omitempty"`
}

// Clone returns a deep copy; Stores use it so callers never share memory
// with stored records.
func (r *KeyRecord) Clone() *KeyRecord {
	c := &KeyRecord{Key: *r.Key.clone(), Materials: make([]Material, len(r.Materials)), Grants: cloneGrants(r.Grants)}
	for i, m := range r.Materials {
		m.Sealed = append([]byte(nil), m.Sealed...)
		c.Materials[i] = m
	}
	return c
}

// Alias is a friendly name for a key in the same account.
type Alias struct {
	Name            string // alias/NAME
	ARN             string // arn:aws:kms:REGION:ACCOUNT:alias/NAME
	TargetKeyID     string
	CreationDate    time.Time
	LastUpdatedDate time.Time
}

// RotationStatus is GetKeyRotationStatus's answer.
type RotationStatus struct {
	KeyID                string // key ARN
	RotationEnabled      bool
	RotationPeriodInDays int // 0 when disabled, as AWS omits it
	NextRotationDate     time.Time
}
