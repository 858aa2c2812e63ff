package protect

// Path is one place in Coffer's code that calls a primitive able to remove
// or replace an object version or delete stored data.
// TestRemovalPathsAreListed fails when such a call appears that is not
// listed here, and when a listed one disappears, so every new way of
// removing data is a conscious decision about how it is guarded.
type Path struct {
	Caller string // package directory and function, e.g. "internal/s3api.deleteObject"
	Call   string // the primitive called
	Guard  string // why this cannot remove a protected version
}

// How the paths are guarded, in one word each.
const (
	// inStore: the metadata store asks CheckRemoval (removals) or
	// CheckChange (updates) inside the transaction.
	inStore = "meta store: protect.CheckRemoval / CheckChange inside the transaction"
	// unreferenced: only blobs no version or part refers to, so never a
	// protected version's data.
	unreferenced = "blob store: only blobs no version or part references"
	// freed: blobs the store returned as freed, after it removed their
	// (guarded) record.
	freed = "blob store: only blobs the meta store freed after a guarded removal"
	// empty: the bucket must hold no version, marker or upload.
	empty = "meta store: refuses a bucket with any version (BucketNotEmpty)"
)

// Paths lists every removal path.
var Paths = []Path{
	// S3 requests.
	{"internal/s3api.deleteObject", "DeleteObject", inStore},
	{"internal/s3api.deleteObjects", "DeleteObject", inStore},
	{"internal/s3api.deleteBucket", "DeleteBucket", empty},
	{"internal/s3api.completeMultipartUpload", "CompleteUpload", inStore + " (a replaced null version goes through remove)"},
	{"internal/s3api.putAcl", "UpdateObject", inStore},
	{"internal/s3api.setObjectTags", "UpdateObject", inStore},
	{"internal/s3api.putObjectRetention", "UpdateObject", inStore},
	{"internal/s3api.putObjectLegalHold", "UpdateObject", inStore},
	// Lifecycle expiration deletes through the object service.
	{"internal/lifecycle.expire", "DeleteObject", inStore},
	// The object service.
	{"internal/objects.DeleteObject", "DeleteObject", inStore},
	{"internal/objects.PutVersion", "PutObject", inStore + " (a replaced null version goes through remove)"},
	{"internal/objects.Free", "Delete", freed},
	// Background collection and fsck --repair.
	{"internal/server.collectGarbage", "Delete", unreferenced},
	{"internal/server.collectGarbage", "RemoveTemp", "blob store: uncommitted temporary files only"},
	{"internal/server.Fsck", "Delete", unreferenced},
	{"internal/server.Fsck", "RemoveTemp", "blob store: uncommitted temporary files only"},
	// The metadata store itself: every version removal funnels into
	// objBucket.remove, which asks CheckRemoval first.
	{"internal/storage/meta/bolt.DeleteObject", "remove", inStore},
	{"internal/storage/meta/bolt.DeleteObject", "removeNull", inStore},
	{"internal/storage/meta/bolt.put", "removeNull", inStore},
	{"internal/storage/meta/bolt.removeNull", "remove", inStore},
	{"internal/storage/meta/bolt.DeleteBucket", "DeleteBucket", empty},
	{"internal/storage/meta/bolt.del", "Delete", "bbolt key deletion; on version indexes only from remove (checked by TestVersionIndexDeletes)"},
	// Deletions of other records, which hold no object versions or data.
	{"internal/cloudtrailapi.serve", "Delete", "DeleteTrail: removes a trail's configuration; delivered log files are objects and stay guarded"},
	{"internal/configrec/boltstore.DeleteDoc", "Delete", "configuration-history database (config.db): holds no object versions or data"},
	{"internal/macie.serve", "Delete", "Macie records (custom identifiers, allow lists) in discovery.db: no object versions or data"},
	{"internal/macie.disable", "Delete", "DisableMacie clears the account's Macie records in discovery.db: no object versions or data"},
	{"internal/macie/boltstore.Delete", "Delete", "discovery.db record deletion: no object versions or data"},
	// Fault injection wraps a blob store for tests; it deletes what its
	// caller asks.
	{"internal/storage/blob/faultfs.Delete", "Delete", "delegates to the wrapped blob store"},
	{"internal/storage/blob/faultfs.RemoveTemp", "RemoveTemp", "delegates to the wrapped blob store"},
}
