// Package policy is Coffer's AWS policy engine: it parses IAM and S3
// policy documents exactly as strictly as AWS does, and decides requests
// with AWS's evaluation logic, so that a policy written for AWS grants and
// denies the same things here.
//
// The package is pure: it does not import net/http nor any storage or
// server package. Callers load the policies that bear on a request, build
// a Request (principal, action, resource, condition keys) and ask
// Evaluate; where the policies come from, and caching them, is theirs.
//
// # Parsing
//
// Parse(doc, kind) validates a document for one Kind — an inline identity
// policy, a managed policy, a permissions boundary, a session policy, a
// bucket policy or a role trust policy — and answers AWS's error code and
// message for anything AWS would refuse (*Error: MalformedPolicy for
// bucket policies, MalformedPolicyDocument for IAM/STS). Parsing is
// token-level: a member named twice is an error, not "last one wins".
// Wildcards, CIDR blocks, numbers and dates are compiled at parse time; a
// *Policy is immutable and may be shared between goroutines.
//
// # Matching
//
//   - Action/NotAction: service:name, case-insensitive, * and ? wildcards.
//   - Resource/NotResource: the six ARN fields are globbed separately and
//     case-sensitively; inside the resource part * and ? also match / and
//     :. "*" matches everything, ARN or not.
//   - Principal/NotPrincipal: an account ID and its root ARN are the same
//     principal; a role session is matched by its session ARN (exactly), its
//     role's ARN and its account; NotPrincipal exempts a requester only when
//     it lists all of those; "*" and {"AWS":"*"} include anonymous callers.
//   - Policy variables (2012-10-17 only) in the resource part of ARNs and
//     in String*/Arn* condition values: ${key}, ${key, 'default'}, and the
//     escapes ${*}, ${?}, ${$}. A variable without a value matches nothing.
//
// # Conditions
//
// Operator blocks and keys are ANDed, values ORed (NORed for negated
// operators). A missing key makes positive operators false and negated
// ones true; …IfExists is true on a missing key; ForAnyValue is false and
// ForAllValues true on an empty set. Key names are case-insensitive.
//
// # Evaluation
//
// Evaluate applies §4 of the access-control reference: explicit deny wins;
// in the owning account an identity allow (within boundary and session
// policy) or a resource-policy grant suffices, with AWS's nuances for
// grants naming a user or session (not capped) versus a role (capped) versus
// the account (delegation only); across accounts both sides must allow;
// anonymous and service principals rely on the resource side alone; the
// owning account's root user is allowed on its own resources. Evaluate is
// deterministic and does not allocate on the common paths.
//
// IsPublic implements Block Public Access's "is this bucket policy
// public?" rule and GrantsCrossAccount lists the other accounts a policy
// grants to.
package policy
