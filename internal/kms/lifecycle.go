package kms

import (
	"context"
	"errors"
	"time"
)

// EnableKeyRotation turns on automatic rotation every periodDays days (0:
// the configured default, normally 365; else 90..2560). The next rotation
// is one period from now.
func (s *Service) EnableKeyRotation(ctx context.Context, account, id string, periodDays int) error {
	if periodDays == 0 {
		periodDays = s.cfg.DefaultRotationPeriodDays
	}
	if periodDays < MinRotationPeriodDays || periodDays > MaxRotationPeriodDays {
		return validationErr("1 validation error detected: Value '%d' at 'rotationPeriodInDays' failed to satisfy constraint: Member must have value between %d and %d", periodDays, MinRotationPeriodDays, MaxRotationPeriodDays)
	}
	return s.withKey(ctx, "EnableKeyRotation", account, id, true, false, func(tx Tx, r *KeyRecord) error {
		if r.Key.KeyManager == KeyManagerAWS {
			return errAWSManaged(&r.Key, "EnableKeyRotation")
		}
		if r.Key.State != KeyStateEnabled {
			return errState(&r.Key, CodeDisabled)
		}
		r.Key.RotationEnabled = true
		r.Key.RotationPeriodInDays = periodDays
		r.Key.NextRotation = s.now().Add(time.Duration(periodDays) * day)
		return tx.PutKey(r)
	})
}

// DisableKeyRotation turns off automatic rotation; existing material
// versions are kept.
func (s *Service) DisableKeyRotation(ctx context.Context, account, id string) error {
	return s.withKey(ctx, "DisableKeyRotation", account, id, true, false, func(tx Tx, r *KeyRecord) error {
		if r.Key.KeyManager == KeyManagerAWS {
			return errAWSManaged(&r.Key, "DisableKeyRotation")
		}
		if r.Key.State != KeyStateEnabled {
			return errState(&r.Key, CodeDisabled)
		}
		r.Key.RotationEnabled = false
		r.Key.NextRotation = time.Time{}
		return tx.PutKey(r)
	})
}

// GetKeyRotationStatus reports a key's rotation settings, in any state.
func (s *Service) GetKeyRotationStatus(ctx context.Context, account, id string) (*RotationStatus, error) {
	var out *RotationStatus
	err := s.withKey(ctx, "GetKeyRotationStatus", account, id, false, true, func(_ Tx, r *KeyRecord) error {
		out = &RotationStatus{KeyID: r.Key.ARN, RotationEnabled: r.Key.RotationEnabled}
		if r.Key.RotationEnabled {
			out.RotationPeriodInDays = r.Key.RotationPeriodInDays
			out.NextRotationDate = r.Key.NextRotation
		}
		return nil
	})
	return out, err
}

// RotateKeyOnDemand adds a new current material version now, without
// changing the automatic schedule; AWS allows 10 per key.
func (s *Service) RotateKeyOnDemand(ctx context.Context, account, id string) (*Key, error) {
	var out *Key
	err := s.withKey(ctx, "RotateKeyOnDemand", account, id, true, false, func(tx Tx, r *KeyRecord) error {
		if r.Key.KeyManager == KeyManagerAWS {
			return errAWSManaged(&r.Key, "RotateKeyOnDemand")
		}
		if r.Key.State != KeyStateEnabled {
			return errState(&r.Key, CodeDisabled)
		}
		if r.Key.OnDemandRotations >= MaxOnDemandRotations {
			return newErr(CodeLimitExceeded, "%s has reached the limit of %d on-demand rotations", r.Key.ARN, MaxOnDemandRotations)
		}
		if err := s.addMaterial(account, r, s.now()); err != nil {
			return err
		}
		r.Key.OnDemandRotations++
		out = r.Key.clone()
		return tx.PutKey(r)
	})
	return out, err
}

// RotateDue rotates every Enabled key whose NextRotation is at or before
// now, in every account, and schedules its next rotation one period after
// now. Disabled and pending-deletion keys are skipped, as in AWS, and
// rotate on the first run after they are enabled again. It returns the
// ARNs of the keys rotated; on error, keys already rotated stay rotated.
func (s *Service) RotateDue(ctx context.Context, now time.Time) ([]string, error) {
	now = now.UTC().Truncate(time.Second)
	return s.eachAccount(ctx, func(account string, tx Tx) ([]string, error) {
		recs, err := tx.Keys()
		if err != nil {
			return nil, err
		}
		var done []string
		for _, r := range recs {
			k := &r.Key
			if !k.RotationEnabled || k.State != KeyStateEnabled || k.NextRotation.IsZero() || k.NextRotation.After(now) {
				continue
			}
			if err := s.addMaterial(account, r, now); err != nil {
				return nil, err
			}
			k.NextRotation = now.Add(time.Duration(k.RotationPeriodInDays) * day)
			if err := tx.PutKey(r); err != nil {
				return nil, err
			}
			done = append(done, k.ARN)
		}
		return done, nil
	})
}

// eachAccount runs fn in one Update transaction per account and collects
// its results.
func (s *Service) eachAccount(ctx context.Context, fn func(account string, tx Tx) ([]string, error)) ([]string, error) {
	accounts, err := s.cfg.Store.Accounts(ctx)
	if err != nil {
		return nil, storeErr(err)
	}
	var all []string
	for _, account := range accounts {
		var got []string
		err := s.cfg.Store.Update(ctx, account, func(tx Tx) error {
			var err error
			got, err = fn(account, tx)
			return err
		})
		if err != nil {
			return all, storeErr(err)
		}
		all = append(all, got...)
	}
	return all, nil
}

// ScheduleKeyDeletion puts a key in PendingDeletion for pendingDays days
// (0: 30; else 7..30). The key cannot be used meanwhile; Purge deletes it
// after the deletion date; CancelKeyDeletion brings it back Disabled.
func (s *Service) ScheduleKeyDeletion(ctx context.Context, account, id string, pendingDays int) (*Key, error) {
	if pendingDays == 0 {
		pendingDays = DefaultPendingWindowDays
	}
	if pendingDays < MinPendingWindowDays || pendingDays > MaxPendingWindowDays {
		return nil, validationErr("1 validation error detected: Value '%d' at 'pendingWindowInDays' failed to satisfy constraint: Member must have value between %d and %d", pendingDays, MinPendingWindowDays, MaxPendingWindowDays)
	}
	var out *Key
	err := s.withKey(ctx, "ScheduleKeyDeletion", account, id, true, false, func(tx Tx, r *KeyRecord) error {
		if r.Key.KeyManager == KeyManagerAWS {
			return errAWSManaged(&r.Key, "ScheduleKeyDeletion")
		}
		if r.Key.State == KeyStatePendingDeletion {
			return errState(&r.Key, "")
		}
		r.Key.State = KeyStatePendingDeletion
		r.Key.PendingWindowInDays = pendingDays
		r.Key.DeletionDate = s.now().Add(time.Duration(pendingDays) * day)
		out = r.Key.clone()
		return tx.PutKey(r)
	})
	return out, err
}

// CancelKeyDeletion cancels a scheduled deletion; the key becomes
// Disabled (not Enabled), as in AWS.
func (s *Service) CancelKeyDeletion(ctx context.Context, account, id string) (*Key, error) {
	var out *Key
	err := s.withKey(ctx, "CancelKeyDeletion", account, id, true, false, func(tx Tx, r *KeyRecord) error {
		if r.Key.State != KeyStatePendingDeletion {
			return newErr(CodeInvalidState, "%s is not pending deletion.", r.Key.ARN)
		}
		r.Key.State = KeyStateDisabled
		r.Key.DeletionDate = time.Time{}
		r.Key.PendingWindowInDays = 0
		out = r.Key.clone()
		return tx.PutKey(r)
	})
	return out, err
}

// Purge deletes, in every account, the keys pending deletion whose
// deletion date is at or before now, with their material and aliases.
// Data encrypted under them can no longer be decrypted. It returns the
// ARNs of the deleted keys.
func (s *Service) Purge(ctx context.Context, now time.Time) ([]string, error) {
	return s.eachAccount(ctx, func(_ string, tx Tx) ([]string, error) {
		recs, err := tx.Keys()
		if err != nil {
			return nil, err
		}
		gone := map[string]bool{}
		var done []string
		for _, r := range recs {
			if r.Key.State != KeyStatePendingDeletion || r.Key.DeletionDate.After(now) {
				continue
			}
			if err := tx.DeleteKey(r.Key.ID); err != nil && !errors.Is(err, ErrNotFound) {
				return nil, err
			}
			gone[r.Key.ID] = true
			done = append(done, r.Key.ARN)
		}
		if len(gone) == 0 {
			return nil, nil
		}
		aliases, err := tx.Aliases()
		if err != nil {
			return nil, err
		}
		for _, a := range aliases {
			if gone[a.TargetKeyID] {
				if err := tx.DeleteAlias(a.Name); err != nil && !errors.Is(err, ErrNotFound) {
					return nil, err
				}
			}
		}
		return done, nil
	})
}
