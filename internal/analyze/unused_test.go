package analyze

import (
	"reflect"
	"testing"
	"time"
)

func TestUnused(t *testing.T) {
	now := time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)
	day := 24 * time.Hour
	old := now.Add(-200 * day)
	recent := now.Add(-5 * day)
	stale := now.Add(-100 * day)
	const acct = "111122223333"
	s3Read := []byte(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:GetObject","s3:PutObject","s3:List*"],"Resource":"*"},
{"Effect":"Allow","Action":"kms:Decrypt","Resource":"*"},{"Effect":"Deny","Action":"iam:*","Resource":"*"}]}`)
	admin := []byte(`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}`)
	ids := []Identity{
		{Kind: "user", Account: acct, Name: "alice", ARN: "arn:aws:iam::111122223333:user/alice", Created: old, Policies: [][]byte{s3Read},
			Keys: []Key{{ID: "AKIAUSED", Active: true, Created: old, LastUsed: recent}, {ID: "AKIASTALE", Active: true, Created: old, LastUsed: stale},
				{ID: "AKIANEVER", Active: true, Created: old}, {ID: "AKIAINACTIVE", Created: old}, {ID: "AKIANEW", Active: true, Created: recent}}},
		{Kind: "user", Account: acct, Name: "newbie", ARN: "arn:aws:iam::111122223333:user/newbie", Created: recent, Policies: [][]byte{admin}},
		{Kind: "role", Account: acct, Name: "idle", ARN: "arn:aws:iam::111122223333:role/idle", Created: old, Policies: [][]byte{admin}},
		{Kind: "role", Account: acct, Name: "worker", ARN: "arn:aws:iam::111122223333:role/svc/worker", Created: old, Policies: [][]byte{admin}},
		{Kind: "role", Account: acct, Name: "oldtimer", ARN: "arn:aws:iam::111122223333:role/oldtimer", Created: old},
	}
	activity := []Activity{
		{Account: acct, Principal: "arn:aws:iam::111122223333:user/alice", Action: "s3:GetObject", Time: recent},
		{Account: acct, Principal: "arn:aws:iam::111122223333:user/alice", Action: "s3:ListBucket", Time: recent},
		{Account: acct, Principal: "arn:aws:iam::111122223333:user/alice", Action: "kms:Decrypt", Time: stale},
		{Account: acct, Principal: "role/worker", Action: "s3:PutObject", Time: recent},
		{Account: acct, Principal: "role/oldtimer", Action: "s3:PutObject", Time: stale},
		// Another account's role of the same name does not count.
		{Account: "999988887777", Principal: "role/idle", Action: "s3:PutObject", Time: recent},
	}
	got := Unused(ids, activity, now, 90*day)
	staleT := stale.UTC()
	recentT := recent.UTC()
	want := []UnusedFinding{
		{Type: UnusedIAMRole, Principal: "arn:aws:iam::111122223333:role/idle"},
		{Type: UnusedIAMRole, Principal: "arn:aws:iam::111122223333:role/oldtimer", LastAccessed: &staleT},
		{Type: UnusedIAMUserAccessKey, Principal: "arn:aws:iam::111122223333:user/alice", AccessKeyID: "AKIANEVER"},
		{Type: UnusedIAMUserAccessKey, Principal: "arn:aws:iam::111122223333:user/alice", AccessKeyID: "AKIASTALE", LastAccessed: &staleT},
		{Type: UnusedPermission, Principal: "arn:aws:iam::111122223333:user/alice", Service: "kms", Actions: []string{"kms:Decrypt"}, LastAccessed: &staleT},
		{Type: UnusedPermission, Principal: "arn:aws:iam::111122223333:user/alice", Service: "s3", Actions: []string{"s3:PutObject"}, LastAccessed: &recentT},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got:")
		for _, f := range got {
			t.Errorf("  %+v last=%v", f, f.LastAccessed)
		}
		t.Errorf("want:")
		for _, f := range want {
			t.Errorf("  %+v last=%v", f, f.LastAccessed)
		}
	}
}
