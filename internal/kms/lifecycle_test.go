package kms_test

import (
	"testing"
	"time"

	"github.com/coffer-io/coffer/internal/kms"
)

const dayDur = 24 * time.Hour

func TestKeyRotationSettings(t *testing.T) {
	f := newFixture(t)
	k := f.key(t, acct)
	for _, tc := range []struct {
		name       string
		period     int
		code       string
		wantPeriod int
	}{
		{"default period", 0, "", 365},
		{"min", 90, "", 90},
		{"max", 2560, "", 2560},
		{"too short", 89, kms.CodeValidation, 0},
		{"too long", 2561, kms.CodeValidation, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantCode(t, f.svc.EnableKeyRotation(ctx, acct, k.ID, tc.period), tc.code)
			if tc.code != "" {
				return
			}
			st, err := f.svc.GetKeyRotationStatus(ctx, acct, k.ID)
			if err != nil || !st.RotationEnabled || st.RotationPeriodInDays != tc.wantPeriod || st.KeyID != k.ARN ||
				!st.NextRotationDate.Equal(f.clock.Now().Add(time.Duration(tc.wantPeriod)*dayDur)) {
				t.Errorf("status = %+v, %v", st, err)
			}
		})
	}
	wantCode(t, f.svc.DisableKeyRotation(ctx, acct, k.ID), "")
	st, err := f.svc.GetKeyRotationStatus(ctx, acct, k.ID)
	if err != nil || st.RotationEnabled || !st.NextRotationDate.IsZero() || st.RotationPeriodInDays != 0 {
		t.Errorf("status after disable = %+v, %v", st, err)
	}

	// State rules: Disabled -> DisabledException, PendingDeletion ->
	// KMSInvalidStateException; status is readable in any state.
	wantCode(t, f.svc.DisableKey(ctx, acct, k.ID), "")
	wantCode(t, f.svc.EnableKeyRotation(ctx, acct, k.ID, 0), kms.CodeDisabled)
	wantCode(t, f.svc.DisableKeyRotation(ctx, acct, k.ID), kms.CodeDisabled)
	_, err = f.svc.RotateKeyOnDemand(ctx, acct, k.ID)
	wantCode(t, err, kms.CodeDisabled)
	if _, err := f.svc.ScheduleKeyDeletion(ctx, acct, k.ID, 7); err != nil {
		t.Fatal(err)
	}
	wantCode(t, f.svc.EnableKeyRotation(ctx, acct, k.ID, 0), kms.CodeInvalidState)
	_, err = f.svc.RotateKeyOnDemand(ctx, acct, k.ID)
	wantCode(t, err, kms.CodeInvalidState)
	_, err = f.svc.GetKeyRotationStatus(ctx, acct, k.ID)
	wantCode(t, err, "")
	_, err = f.svc.GetKeyRotationStatus(ctx, acct, "alias/none")
	wantCode(t, err, kms.CodeNotFound)
}

func TestRotateDue(t *testing.T) {
	f := newFixture(t)
	k := f.key(t, acct)
	noRot := f.key(t, acct)
	dis := f.key(t, other)
	wantCode(t, f.svc.EnableKeyRotation(ctx, acct, k.ID, 90), "")
	wantCode(t, f.svc.EnableKeyRotation(ctx, other, dis.ID, 90), "")
	wantCode(t, f.svc.DisableKey(ctx, other, dis.ID), "")
	ec := map[string]string{"v": "1"}
	old := f.encrypt(t, k.ID, "old data", ec)
	start := f.clock.Now()

	// Not due yet.
	got, err := f.svc.RotateDue(ctx, start.Add(89*dayDur))
	if err != nil || len(got) != 0 {
		t.Fatalf("RotateDue early = %v, %v", got, err)
	}
	// Due: only the enabled key with rotation on.
	due := start.Add(90 * dayDur)
	f.clock.Advance(90 * dayDur)
	got, err = f.svc.RotateDue(ctx, due)
	if err != nil || len(got) != 1 || got[0] != k.ARN {
		t.Fatalf("RotateDue = %v, %v", got, err)
	}
	d, _ := f.svc.DescribeKey(ctx, acct, k.ID)
	if d.CurrentVersion != 2 || !d.NextRotation.Equal(due.Add(90*dayDur)) {
		t.Errorf("after rotation: version %d next %v", d.CurrentVersion, d.NextRotation)
	}
	if d, _ := f.svc.DescribeKey(ctx, acct, noRot.ID); d.CurrentVersion != 1 {
		t.Errorf("key without rotation rotated")
	}
	// Running again at the same instant does nothing.
	if got, _ := f.svc.RotateDue(ctx, due); len(got) != 0 {
		t.Errorf("second RotateDue = %v", got)
	}
	// Old ciphertexts still decrypt (with version 1); new ones use 2.
	dec, err := f.svc.Decrypt(ctx, acct, old, "", ec)
	if err != nil || string(dec.Plaintext) != "old data" || dec.MaterialVersion != 1 {
		t.Fatalf("old blob after rotation = %+v, %v", dec, err)
	}
	fresh := f.encrypt(t, k.ID, "new data", ec)
	dec, err = f.svc.Decrypt(ctx, acct, fresh, "", ec)
	if err != nil || dec.MaterialVersion != 2 {
		t.Fatalf("new blob = %+v, %v", dec, err)
	}
	// ReEncrypt moves old data onto the current material.
	re, err := f.svc.ReEncrypt(ctx, acct, kms.ReEncryptInput{CiphertextBlob: old, SourceEncryptionContext: ec, DestinationKeyID: k.ID, DestinationEncryptionContext: ec})
	if err != nil {
		t.Fatal(err)
	}
	if dec, _ := f.svc.Decrypt(ctx, acct, re.CiphertextBlob, "", ec); dec.MaterialVersion != 2 {
		t.Errorf("re-encrypted blob uses version %d", dec.MaterialVersion)
	}
	// The disabled key rotates once enabled again, since it is overdue.
	wantCode(t, f.svc.EnableKey(ctx, other, dis.ID), "")
	got, err = f.svc.RotateDue(ctx, due.Add(time.Hour))
	if err != nil || len(got) != 1 || got[0] != dis.ARN {
		t.Fatalf("RotateDue after enable = %v, %v", got, err)
	}
	// The aws/s3 key rotates yearly.
	aws, _ := f.svc.DefaultKey(ctx, acct)
	got, _ = f.svc.RotateDue(ctx, f.clock.Now().AddDate(0, 0, 365))
	found := false
	for _, arn := range got {
		found = found || arn == aws.ARN
	}
	if !found {
		t.Errorf("aws/s3 key not rotated after a year: %v", got)
	}
}

func TestRotationPeriodConfig(t *testing.T) {
	f := newFixture(t, func(c *kms.Config) { c.DefaultRotationPeriodDays = 180 })
	k := f.key(t, acct)
	wantCode(t, f.svc.EnableKeyRotation(ctx, acct, k.ID, 0), "")
	st, _ := f.svc.GetKeyRotationStatus(ctx, acct, k.ID)
	if st.RotationPeriodInDays != 180 {
		t.Errorf("period = %d", st.RotationPeriodInDays)
	}
	aws, _ := f.svc.DefaultKey(ctx, acct)
	if aws.RotationPeriodInDays != 180 {
		t.Errorf("aws/s3 period = %d", aws.RotationPeriodInDays)
	}
}

func TestRotateKeyOnDemand(t *testing.T) {
	f := newFixture(t)
	k := f.key(t, acct)
	wantCode(t, f.svc.EnableKeyRotation(ctx, acct, k.ID, 0), "")
	before, _ := f.svc.DescribeKey(ctx, acct, k.ID)
	var blobs [][]byte
	for i := range kms.MaxOnDemandRotations {
		blobs = append(blobs, f.encrypt(t, k.ID, string(rune('a'+i)), nil))
		got, err := f.svc.RotateKeyOnDemand(ctx, acct, k.ARN)
		if err != nil || got.CurrentVersion != uint32(i+2) {
			t.Fatalf("rotation %d: %+v, %v", i, got, err)
		}
		if !got.NextRotation.Equal(before.NextRotation) {
			t.Errorf("on-demand rotation moved the schedule")
		}
	}
	_, err := f.svc.RotateKeyOnDemand(ctx, acct, k.ID)
	wantCode(t, err, kms.CodeLimitExceeded)
	for i, b := range blobs {
		dec, err := f.svc.Decrypt(ctx, acct, b, "", nil)
		if err != nil || string(dec.Plaintext) != string(rune('a'+i)) || dec.MaterialVersion != uint32(i+1) {
			t.Fatalf("blob %d: %+v, %v", i, dec, err)
		}
	}
	_, err = f.svc.RotateKeyOnDemand(ctx, acct, "alias/none")
	wantCode(t, err, kms.CodeNotFound)
}

func TestKeyDeletion(t *testing.T) {
	f := newFixture(t)
	k := f.key(t, acct)
	for _, tc := range []struct {
		name string
		days int
		code string
		want int
	}{
		{"too short", 6, kms.CodeValidation, 0},
		{"too long", 31, kms.CodeValidation, 0},
		{"negative", -1, kms.CodeValidation, 0},
		{"default", 0, "", 30},
		{"again", 7, kms.CodeInvalidState, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := f.svc.ScheduleKeyDeletion(ctx, acct, k.ID, tc.days)
			wantCode(t, err, tc.code)
			if err != nil {
				return
			}
			if got.State != kms.KeyStatePendingDeletion || got.PendingWindowInDays != tc.want ||
				!got.DeletionDate.Equal(f.clock.Now().Add(time.Duration(tc.want)*dayDur)) {
				t.Errorf("scheduled = %+v", got)
			}
		})
	}
	// Unusable while pending: KMSInvalidStateException.
	_, err := f.svc.Encrypt(ctx, acct, k.ID, []byte("x"), nil)
	wantCode(t, err, kms.CodeInvalidState)
	_, err = f.svc.GenerateDataKey(ctx, acct, k.ID, kms.DataKeyInput{KeySpec: "AES_256"}, nil)
	wantCode(t, err, kms.CodeInvalidState)

	// Cancel: back to Disabled, not Enabled.
	got, err := f.svc.CancelKeyDeletion(ctx, acct, k.ARN)
	if err != nil || got.State != kms.KeyStateDisabled || !got.DeletionDate.IsZero() || got.PendingWindowInDays != 0 {
		t.Fatalf("cancel = %+v, %v", got, err)
	}
	_, err = f.svc.CancelKeyDeletion(ctx, acct, k.ID)
	wantCode(t, err, kms.CodeInvalidState)
	_, err = f.svc.CancelKeyDeletion(ctx, acct, "alias/none")
	wantCode(t, err, kms.CodeNotFound)
	// Scheduling works from Disabled too.
	if _, err := f.svc.ScheduleKeyDeletion(ctx, acct, k.ID, 7); err != nil {
		t.Fatal(err)
	}
}

func TestPurge(t *testing.T) {
	f := newFixture(t)
	doomed := f.key(t, acct)
	later := f.key(t, acct)
	keep := f.key(t, other)
	wantCode(t, f.svc.CreateAlias(ctx, acct, "alias/doomed", doomed.ID), "")
	wantCode(t, f.svc.CreateAlias(ctx, acct, "alias/later", later.ID), "")
	ec := map[string]string{"x": "y"}
	blob := f.encrypt(t, doomed.ID, "gone soon", ec)
	cancelled := f.key(t, other)
	for _, step := range []func() (*kms.Key, error){
		func() (*kms.Key, error) { return f.svc.ScheduleKeyDeletion(ctx, acct, doomed.ID, 7) },
		func() (*kms.Key, error) { return f.svc.ScheduleKeyDeletion(ctx, acct, later.ID, 30) },
		// Cancelled keys are never purged.
		func() (*kms.Key, error) { return f.svc.ScheduleKeyDeletion(ctx, other, cancelled.ID, 7) },
		func() (*kms.Key, error) { return f.svc.CancelKeyDeletion(ctx, other, cancelled.ID) },
	} {
		if _, err := step(); err != nil {
			t.Fatal(err)
		}
	}
	start := f.clock.Now()

	got, err := f.svc.Purge(ctx, start.Add(7*dayDur-time.Second))
	if err != nil || len(got) != 0 {
		t.Fatalf("early purge = %v, %v", got, err)
	}
	got, err = f.svc.Purge(ctx, start.Add(7*dayDur))
	if err != nil || len(got) != 1 || got[0] != doomed.ARN {
		t.Fatalf("purge = %v, %v", got, err)
	}
	_, err = f.svc.DescribeKey(ctx, acct, doomed.ID)
	wantCode(t, err, kms.CodeNotFound)
	_, err = f.svc.DescribeKey(ctx, acct, "alias/doomed")
	wantCode(t, err, kms.CodeNotFound)
	_, err = f.svc.Decrypt(ctx, acct, blob, "", ec)
	wantCode(t, err, kms.CodeInvalidCiphertext)
	if _, err := f.svc.DescribeKey(ctx, acct, "alias/later"); err != nil {
		t.Errorf("alias of a key still pending was removed: %v", err)
	}
	got, _ = f.svc.Purge(ctx, start.Add(365*dayDur))
	if len(got) != 1 || got[0] != later.ARN {
		t.Errorf("second purge = %v", got)
	}
	for _, id := range []string{keep.ARN, cancelled.ARN} {
		if _, err := f.svc.DescribeKey(ctx, other, id); err != nil {
			t.Errorf("%s purged: %v", id, err)
		}
	}
	if as, _, _ := f.svc.ListAliases(ctx, acct, "", kms.Page{}); len(as) != 0 {
		t.Errorf("aliases left: %v", as)
	}
}
