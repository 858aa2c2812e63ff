package trail

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/coffer-io/coffer/test/harness"
)

// TestCrashDuringDelivery kills the server (SIGKILL) repeatedly while
// requests stream in and the trail delivers every 100ms, restarts it, and
// compares the delivered records with the requests made: every
// acknowledged request is delivered exactly once, and no request at all
// is delivered twice.
func TestCrashDuringDelivery(t *testing.T) {
	srv := harness.Start(t, harness.WithArgs("--trail-delivery-interval", "100ms"))
	ctx := t.Context()
	acct := accountOf(t, srv)
	s3c := s3Client(srv, srv.AccessKey, srv.SecretKey, "")
	for _, b := range []string{"trail-logs", "data-bucket"} {
		mustDo(t, "CreateBucket "+b, func() error {
			_, err := s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(b)})
			return err
		})
	}
	mustDo(t, "PutBucketPolicy", func() error {
		_, err := s3c.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String("trail-logs"), Policy: aws.String(strings.ReplaceAll(trailPolicy, "ACCT", acct))})
		return err
	})
	aws1 := awsV1(t)
	ct := func(args ...string) string {
		t.Helper()
		return srv.Run(ctx, aws1, append([]string{"--endpoint-url", srv.Endpoint, "--output", "json", "cloudtrail"}, args...)...)
	}
	ct("create-trail", "--name", "main", "--s3-bucket-name", "trail-logs", "--s3-key-prefix", "pfx")
	ct("put-event-selectors", "--trail-name", "main", "--event-selectors",
		`[{"ReadWriteType":"WriteOnly","IncludeManagementEvents":false,"DataResources":[{"Type":"AWS::S3::Object","Values":["arn:aws:s3:::data-bucket/"]}]}]`)
	ct("start-logging", "--name", "main")

	var mu sync.Mutex
	acked := map[string]bool{}
	attempted := map[string]bool{}
	for round := range 5 {
		c := s3Client(srv, srv.AccessKey, srv.SecretKey, "")
		stop := make(chan struct{})
		var wg sync.WaitGroup
		for w := range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; ; i++ {
					select {
					case <-stop:
						return
					default:
					}
					key := fmt.Sprintf("r%d-w%d-%d", round, w, i)
					mu.Lock()
					attempted[key] = true
					mu.Unlock()
					_, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("data-bucket"), Key: aws.String(key), Body: strings.NewReader("x")})
					if err != nil {
						return // the server is gone
					}
					mu.Lock()
					acked[key] = true
					mu.Unlock()
				}
			}()
		}
		time.Sleep(time.Duration(300+rand.IntN(900)) * time.Millisecond)
		srv.Kill()
		close(stop)
		wg.Wait()
		srv.Restart()
	}
	// Let the restarted server catch up, then stop the trail (a final
	// delivery).
	time.Sleep(time.Second)
	ct("stop-logging", "--name", "main")

	s3c = s3Client(srv, srv.AccessKey, srv.SecretKey, "")
	delivered := map[string]int{}
	for _, k := range listKeys(t, s3c, "trail-logs", "pfx/AWSLogs/"+acct+"/CloudTrail/") {
		for _, r := range readLog(t, s3c, k) {
			if r["eventName"] != "PutObject" {
				t.Errorf("unselected record %v delivered", r["eventName"])
				continue
			}
			key, _ := get(r, "requestParameters", "key").(string)
			delivered[key]++
		}
	}
	if len(acked) < 20 {
		t.Fatalf("only %d requests acknowledged; the test did not exercise delivery", len(acked))
	}
	for k := range acked {
		if delivered[k] != 1 {
			t.Errorf("acknowledged %s delivered %d times", k, delivered[k])
		}
	}
	for k, n := range delivered {
		if n != 1 {
			t.Errorf("%s delivered %d times", k, n)
		}
		if !attempted[k] {
			t.Errorf("record of a request never made: %s", k)
		}
	}
	t.Logf("%d requests attempted, %d acknowledged, %d delivered", len(attempted), len(acked), len(delivered))
}
