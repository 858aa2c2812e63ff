package accesslog

import (
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite golden files")

func TestLineGolden(t *testing.T) {
	at := time.Date(2026, 2, 6, 0, 0, 38, 123e6, time.UTC)
	owner := "79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be"
	cases := []struct {
		name string
		e    Entry
	}{
		{"allowed PUT over TLS by an IAM user", Entry{
			BucketOwner: owner, Bucket: "awsexamplebucket1", Time: at, RemoteIP: "192.0.2.3",
			Requester: "arn:aws:iam::123456789012:user/alice", RequestID: "3E57427F3EXAMPLE",
			Operation: "REST.PUT.OBJECT", Key: "photos/2019/08/puppy.jpg",
			Method: "PUT", RequestURI: "/awsexamplebucket1/photos/2019/08/puppy.jpg", Proto: "HTTP/1.1",
			Status: 200, BytesSent: 0, ObjectSize: 2662992, TotalTime: 70 * time.Millisecond, TurnAroundTime: 10 * time.Millisecond,
			UserAgent: "aws-cli/2.9 Python/3.11", VersionID: "3HL4kqtJvjVBH40Nrjfkd", HostID: "a1b2c3d4e5f60718",
			SignatureVersion: "SigV4", CipherSuite: "ECDHE-RSA-AES128-GCM-SHA256", AuthType: "AuthHeader",
			HostHeader: "awsexamplebucket1.s3.us-west-1.amazonaws.com", TLSVersion: "TLSv1.2", SourceRegion: "us-west-1",
		}},
		{"denied anonymous GET with nothing optional", Entry{
			BucketOwner: owner, Bucket: "b", Time: at, RemoteIP: "127.0.0.1", RequestID: "0000000000000002",
			Operation: "REST.GET.OBJECT", Key: "secret.txt", Method: "GET", RequestURI: "/b/secret.txt", Proto: "HTTP/1.1",
			Status: 403, ErrorCode: "AccessDenied", BytesSent: 243, ObjectSize: -1, TotalTime: 0, TurnAroundTime: -1,
		}},
		{"quoting, escaping and encoded key", Entry{
			BucketOwner: owner, Bucket: "b", Time: at.In(time.FixedZone("X", 3600)), RemoteIP: "::1",
			Requester: owner, RequestID: "0000000000000003", Operation: "REST.GET.ACL",
			Key: "a b/ü\"x?.txt", Method: "GET", RequestURI: "/b/a%20b/%C3%BC%22x%3F.txt?acl=", Proto: "HTTP/2.0",
			Status: 404, ErrorCode: "NoSuchKey", BytesSent: 310, ObjectSize: 0, TotalTime: 1500 * time.Microsecond, TurnAroundTime: 0,
			Referer: `https://example.com/"quoted"`, UserAgent: "evil\nagent\\x", SignatureVersion: "SigV4",
			CipherSuite: "TLS_AES_128_GCM_SHA256", AuthType: "QueryString", HostHeader: "127.0.0.1:9000", TLSVersion: "TLSv1.3",
			AccessPointARN: "arn:aws:s3:us-east-1:123456789012:accesspoint/ap", ACLRequired: true,
		}},
	}
	var out []byte
	for _, c := range cases {
		out = append(out, "# "+c.name+"\n"...)
		out = c.e.AppendLine(out)
	}
	path := filepath.Join("testdata", "lines.golden")
	if *update {
		if err := os.WriteFile(path, out, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(out) != string(want) {
		t.Errorf("got\n%s\nwant\n%s", out, want)
	}
}

func TestOperationField(t *testing.T) {
	for _, c := range []struct{ op, method, want string }{
		{"PutObject", "PUT", "REST.PUT.OBJECT"},
		{"GetBucketVersioning", "GET", "REST.GET.VERSIONING"},
		{"CopyObject", "PUT", "REST.COPY.OBJECT"},
		{"UploadPartCopy", "PUT", "REST.COPY.PART"},
		{"ListObjectsV2", "GET", "REST.GET.BUCKET"},
		{"DeleteObjects", "POST", "REST.POST.MULTI_OBJECT_DELETE"},
		{"NotImplemented", "GET", "REST.GET.UNKNOWN"},
		{"PutBucketLogging", "PUT", "REST.PUT.LOGGING_STATUS"},
	} {
		if got := OperationField(c.op, c.method); got != c.want {
			t.Errorf("%s %s: %s, want %s", c.method, c.op, got, c.want)
		}
	}
}

func TestObjectKey(t *testing.T) {
	deliv := time.Date(2026, 11, 27, 13, 14, 15, 0, time.UTC)
	first := time.Date(2026, 11, 26, 23, 59, 0, 0, time.UTC)
	for _, c := range []struct {
		t    Target
		want string
	}{
		{Target{Bucket: "logs", Prefix: "src/"}, "src/2026-11-27-13-14-15-ABCDEF0123456789"},
		{Target{Bucket: "logs", Prefix: "p/", Partitioned: true, DateSource: EventTime}, "p/123456789012/us-east-1/src/2026/11/26/2026-11-26-00-00-00-ABCDEF0123456789"},
		{Target{Bucket: "logs", Prefix: "", Partitioned: true, DateSource: DeliveryTime}, "123456789012/us-east-1/src/2026/11/27/2026-11-27-13-14-15-ABCDEF0123456789"},
	} {
		if got := c.t.ObjectKey("123456789012", "us-east-1", "src", deliv, first, "ABCDEF0123456789"); got != c.want {
			t.Errorf("%+v: %s, want %s", c.t, got, c.want)
		}
	}
}
