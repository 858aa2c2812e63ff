package iam

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"
)

// Access keys. userName "" names the account root, whose keys (including
// the one made with the account) are managed the same way, as in IAM when
// the root calls without a UserName.

// CreateAccessKey makes a new active key for a user (or the root) and
// returns it with its secret, which is never returned again.
func (s *Service) CreateAccessKey(ctx context.Context, account, userName string) (*AccessKey, error) {
	if userName != "" {
		if err := checkName("userName", userName, maxUserName); err != nil {
			return nil, err
		}
	}
	id, err := newID(s.rand(), PrefixAccessKey, 16)
	if err != nil {
		return nil, err
	}
	secret, err := newSecret(s.rand())
	if err != nil {
		return nil, err
	}
	now := s.now()
	var out *AccessKey
	err = s.update(ctx, account, func(tx Tx) error {
		out = nil
		owner, err := keyOwner(tx, userName)
		if err != nil {
			return err
		}
		keys, err := tx.AccessKeys(owner)
		if err != nil {
			return err
		}
		if max := s.quota(func(q Quotas) int { return q.AccessKeys }); len(keys) >= max {
			return Errorf(ErrLimitExceeded, "Cannot exceed quota for AccessKeysPerUser: %d", max)
		}
		// PutAccessKey replaces a key of the same id; a fresh random id
		// never collides in practice, but must not overwrite if it does.
		if _, err := tx.AccessKey(id); !errors.Is(err, ErrNotFound) {
			if err == nil {
				err = fmt.Errorf("iam: new access key id %s is taken", id)
			}
			return err
		}
		k := &AccessKey{AccessKeyID: id, SecretAccessKey: secret, UserName: owner, Status: StatusActive, CreateDate: now}
		if err := tx.PutAccessKey(k); err != nil {
			return err
		}
		out = k
		return nil
	})
	return out, err
}

// keyOwner resolves the user whose keys an operation addresses: the name
// as stored, or "" for the root.
func keyOwner(tx Tx, userName string) (string, error) {
	if userName == "" {
		return "", nil
	}
	u, err := getUser(tx, userName)
	if err != nil {
		return "", err
	}
	return u.UserName, nil
}

// ListAccessKeys lists a user's (or the root's) keys, oldest first,
// without their secrets.
func (s *Service) ListAccessKeys(ctx context.Context, account, userName string, opts ListOptions) (Page[*AccessKey], error) {
	if userName != "" {
		if err := checkName("userName", userName, maxUserName); err != nil {
			return Page[*AccessKey]{}, err
		}
	}
	var keys []*AccessKey
	err := s.view(ctx, account, func(tx Tx) error {
		owner, err := keyOwner(tx, userName)
		if err != nil {
			return err
		}
		keys, err = tx.AccessKeys(owner)
		return err
	})
	if err != nil {
		return Page[*AccessKey]{}, err
	}
	for _, k := range keys {
		k.SecretAccessKey = ""
	}
	key := func(k *AccessKey) string { return k.CreateDate.UTC().Format("20060102150405") + k.AccessKeyID }
	sort.Slice(keys, func(i, j int) bool { return key(keys[i]) < key(keys[j]) })
	return page(keys, key, opts)
}

// UpdateAccessKey sets a key's status (Active or Inactive). The key must
// belong to the user named (or the root).
func (s *Service) UpdateAccessKey(ctx context.Context, account, userName, keyID, status string) error {
	if err := checkStatus(status); err != nil {
		return err
	}
	return s.updateKey(ctx, account, userName, keyID, func(tx Tx, k *AccessKey) error {
		if k.Status == status {
			return nil
		}
		k.Status = status
		return tx.PutAccessKey(k)
	})
}

// DeleteAccessKey deletes a key of the user named (or the root).
func (s *Service) DeleteAccessKey(ctx context.Context, account, userName, keyID string) error {
	return s.updateKey(ctx, account, userName, keyID, func(tx Tx, k *AccessKey) error {
		return tx.DeleteAccessKey(k.AccessKeyID)
	})
}

func (s *Service) updateKey(ctx context.Context, account, userName, keyID string, fn func(Tx, *AccessKey) error) error {
	if userName != "" {
		if err := checkName("userName", userName, maxUserName); err != nil {
			return err
		}
	}
	if err := checkAccessKeyID(keyID); err != nil {
		return err
	}
	return s.update(ctx, account, func(tx Tx) error {
		owner, err := keyOwner(tx, userName)
		if err != nil {
			return err
		}
		k, err := tx.AccessKey(keyID)
		if errors.Is(err, ErrNotFound) || (err == nil && !strings.EqualFold(k.UserName, owner)) {
			return noSuchKey(keyID)
		}
		if err != nil {
			return err
		}
		return fn(tx, k)
	})
}

func noSuchKey(id string) error {
	return Errorf(ErrNoSuchEntity, "The Access Key with id %s cannot be found.", id)
}

// GetAccessKeyLastUsed returns a key of the account, without its secret,
// with its owner and last-used record.
func (s *Service) GetAccessKeyLastUsed(ctx context.Context, account, keyID string) (*AccessKey, error) {
	if err := checkAccessKeyID(keyID); err != nil {
		return nil, err
	}
	var k *AccessKey
	err := s.view(ctx, account, func(tx Tx) (err error) {
		k, err = tx.AccessKey(keyID)
		if errors.Is(err, ErrNotFound) {
			return noSuchKey(keyID)
		}
		return err
	})
	if k != nil {
		k.SecretAccessKey = ""
	}
	return k, err
}

// RecordAccessKeyUse notes that a key authenticated a request to service
// (e.g. "s3") in region at time at. To keep authentication from costing a
// write per request, the record is only rewritten when it names another
// service or region or is older than LastUsedResolution. A missing key is
// no error: it may have been deleted since the request was authenticated.
func (s *Service) RecordAccessKeyUse(ctx context.Context, account, keyID, service, region string, at time.Time) error {
	at = at.UTC().Truncate(time.Second)
	res := s.LastUsedResolution
	if res <= 0 {
		res = time.Minute
	}
	fresh := func(k *AccessKey) bool {
		l := k.LastUsed
		return l != nil && l.ServiceName == service && l.Region == region && at.Sub(l.Date) < res
	}
	skip := false
	err := s.view(ctx, account, func(tx Tx) error {
		k, err := tx.AccessKey(keyID)
		if errors.Is(err, ErrNotFound) {
			skip = true
			return nil
		}
		skip = err == nil && fresh(k)
		return err
	})
	if err != nil || skip {
		return err
	}
	return s.update(ctx, account, func(tx Tx) error {
		k, err := tx.AccessKey(keyID)
		if errors.Is(err, ErrNotFound) {
			return nil
		}
		if err != nil || fresh(k) || (k.LastUsed != nil && k.LastUsed.Date.After(at)) {
			return err
		}
		k.LastUsed = &AccessKeyLastUsed{Date: at, ServiceName: service, Region: region}
		return tx.PutAccessKey(k)
	})
}
