package kms

import (
	"context"
	"errors"
	"strings"
)

const reservedAliasPrefix = "alias/aws/"

// validateAliasName applies AWS's rules: "alias/" then 1+ characters of
// [a-zA-Z0-9:/_-], 256 characters in all. The alias/aws/ prefix belongs
// to AWS-managed keys and is refused for every customer operation.
func validateAliasName(name string) error {
	if len(name) < 1 || len(name) > 256 {
		return validationErr("1 validation error detected: Value at 'aliasName' failed to satisfy constraint: Member must have length between 1 and 256")
	}
	rest, ok := strings.CutPrefix(name, "alias/")
	if !ok || rest == "" {
		return newErr(CodeInvalidAliasName, "Alias must start with the prefix \"alias/\" followed by a name")
	}
	for _, c := range name {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune(":/_-", c)) {
			return validationErr("1 validation error detected: Value '%s' at 'aliasName' failed to satisfy constraint: Member must satisfy regular expression pattern: ^[a-zA-Z0-9:/_-]+$", name)
		}
	}
	if strings.HasPrefix(name, reservedAliasPrefix) {
		return newErr(CodeInvalidAliasName, "Alias names starting with %s are reserved for AWS managed keys", reservedAliasPrefix)
	}
	return nil
}

// aliasTarget resolves and checks the key an alias is to point at: a
// customer managed key of the caller's account that is not pending
// deletion.
func (s *Service) aliasTarget(ctx context.Context, tx Tx, op, account, target string) (*KeyRecord, error) {
	ref, err := s.parseKeyID(account, target)
	if err != nil {
		return nil, err
	}
	if ref.alias != "" {
		return nil, validationErr("TargetKeyId must be a key ID or key ARN, not an alias: %s", target)
	}
	if ref.account != account {
		return nil, newErr(CodeNotFound, "Key '%s' does not exist", target)
	}
	r, err := s.resolve(tx, ref)
	if err != nil {
		return nil, err
	}
	if err := s.authorize(ctx, op, account, r); err != nil {
		return nil, err
	}
	if r.Key.KeyManager == KeyManagerAWS {
		return nil, errAWSManaged(&r.Key, op)
	}
	if r.Key.State == KeyStatePendingDeletion {
		return nil, errState(&r.Key, "")
	}
	return r, nil
}

// CreateAlias creates name for targetKeyID (a key ID or key ARN of the
// account).
func (s *Service) CreateAlias(ctx context.Context, account, name, targetKeyID string) error {
	if err := validateAliasName(name); err != nil {
		return err
	}
	return storeErr(s.cfg.Store.Update(ctx, account, func(tx Tx) error {
		_, err := tx.Alias(name)
		if err == nil {
			return newErr(CodeAlreadyExists, "An alias with the name %s already exists", s.aliasARN(account, name))
		}
		if !errors.Is(err, ErrNotFound) {
			return err
		}
		r, err := s.aliasTarget(ctx, tx, "CreateAlias", account, targetKeyID)
		if err != nil {
			return err
		}
		now := s.now()
		return tx.PutAlias(&Alias{Name: name, ARN: s.aliasARN(account, name), TargetKeyID: r.Key.ID, CreationDate: now, LastUpdatedDate: now})
	}))
}

// UpdateAlias points an existing alias at another key.
func (s *Service) UpdateAlias(ctx context.Context, account, name, targetKeyID string) error {
	if err := validateAliasName(name); err != nil {
		return err
	}
	return storeErr(s.cfg.Store.Update(ctx, account, func(tx Tx) error {
		a, err := tx.Alias(name)
		if errors.Is(err, ErrNotFound) {
			return newErr(CodeNotFound, "Alias %s is not found.", s.aliasARN(account, name))
		}
		if err != nil {
			return err
		}
		// AWS needs kms:UpdateAlias on the key the alias leaves as well
		// as on the one it is to name.
		if old, err := tx.Key(a.TargetKeyID); err == nil {
			if err := s.authorize(ctx, "UpdateAlias", account, old); err != nil {
				return err
			}
		} else if !errors.Is(err, ErrNotFound) {
			return err
		}
		r, err := s.aliasTarget(ctx, tx, "UpdateAlias", account, targetKeyID)
		if err != nil {
			return err
		}
		a.TargetKeyID = r.Key.ID
		a.LastUpdatedDate = s.now()
		return tx.PutAlias(a)
	}))
}

// DeleteAlias deletes an alias; the key is unaffected.
func (s *Service) DeleteAlias(ctx context.Context, account, name string) error {
	if err := validateAliasName(name); err != nil {
		return err
	}
	return storeErr(s.cfg.Store.Update(ctx, account, func(tx Tx) error {
		a, err := tx.Alias(name)
		if errors.Is(err, ErrNotFound) {
			return newErr(CodeNotFound, "Alias %s is not found.", s.aliasARN(account, name))
		}
		if err != nil {
			return err
		}
		// AWS needs kms:DeleteAlias on the alias's key too.
		if r, err := tx.Key(a.TargetKeyID); err == nil {
			if err := s.authorize(ctx, "DeleteAlias", account, r); err != nil {
				return err
			}
		} else if !errors.Is(err, ErrNotFound) {
			return err
		}
		err = tx.DeleteAlias(name)
		if errors.Is(err, ErrNotFound) {
			return newErr(CodeNotFound, "Alias %s is not found.", s.aliasARN(account, name))
		}
		return err
	}))
}
