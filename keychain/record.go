package keychain

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// errUnbound is returned by EncodeRecord for a record that lacks one of the
// binding fields: a grant that cannot be tied to its issuer, client, profile
// and token endpoint must never be stored (requirement 39).
var errUnbound = errors.New("record lacks its issuer, client_id, profile or token_endpoint binding")

// EncodeRecord returns the stored form of r: JSON with "v" set to
// [RecordVersion], whatever r.Version says, because this code can only write
// the schema it knows.
//
// It refuses a record without its binding fields (requirement 39).
// Every Store writes this form, so a record read back from any backend is
// what [DecodeRecord] makes of these bytes: times lose their monotonic
// reading and carry a fixed zone.
func EncodeRecord(r *Record) ([]byte, error) {
	if r == nil {
		return nil, errors.New("nil record")
	}
	if !r.bound() {
		return nil, errUnbound
	}
	c := *r
	c.Version = RecordVersion
	b, err := json.Marshal(&c)
	if err != nil {
		// Only an out-of-range time gets here; say which kind of value
		// failed without quoting any of the record.
		return nil, fmt.Errorf("encoding record: %w", err)
	}
	return b, nil
}

// DecodeRecord parses the stored form of a record. Anything that is not a
// single JSON object of the current version with its binding fields filled
// in gets an error wrapping [ErrCorrupt]: a record written by a newer sesame
// is refused rather than half understood, and a record without its binding
// is refused because it cannot be checked (requirement 39).
//
// Unknown fields in a current-version record are ignored, so a later release
// can add optional fields without bumping the version. Errors never quote the
// input: it holds tokens.
func DecodeRecord(b []byte) (*Record, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	var r Record
	if err := dec.Decode(&r); err != nil {
		return nil, fmt.Errorf("%w: not a JSON record (%s)", ErrCorrupt, jsonErrorKind(err))
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("%w: data after the record", ErrCorrupt)
	}
	switch {
	case r.Version > RecordVersion:
		return nil, fmt.Errorf("%w: record version %d was written by a newer sesame", ErrCorrupt, r.Version)
	case r.Version != RecordVersion:
		return nil, fmt.Errorf("%w: unknown record version %d", ErrCorrupt, r.Version)
	case !r.bound():
		return nil, fmt.Errorf("%w: %w", ErrCorrupt, errUnbound)
	}
	return &r, nil
}

// jsonErrorKind names what went wrong in a JSON decode without the offending
// text: encoding/json's messages can quote parts of the input, and the input
// holds tokens.
func jsonErrorKind(err error) string {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntax):
		return fmt.Sprintf("syntax error at byte %d", syntax.Offset)
	case errors.As(err, &typ):
		return fmt.Sprintf("wrong type for field %q", typ.Field)
	default:
		return "malformed"
	}
}

// bound reports whether every binding field is set.
func (r *Record) bound() bool {
	return r.Issuer != "" && r.ClientID != "" && r.Profile != "" && r.TokenEndpoint != ""
}

// Matches reports whether r was stored for exactly this issuer, client,
// profile and token endpoint. A caller MUST NOT use a record that does not
// match the profile's current configuration: its refresh token belongs to
// another authorization server or endpoint (requirement 39,
// RFC 6749 §10.4). Comparison is exact; URLs are not normalised, so a
// changed spelling of the issuer is treated as a changed issuer.
func (r *Record) Matches(issuer, clientID, profile, tokenEndpoint string) bool {
	return r != nil && r.bound() &&
		r.Issuer == issuer && r.ClientID == clientID &&
		r.Profile == profile && r.TokenEndpoint == tokenEndpoint
}

// keyPrefix names the key scheme. A later scheme gets a new prefix, so keys
// from two schemes can never collide either.
const keyPrefix = "v1:"

// Key returns the keychain entry name for a profile's grant.
//
// The name is a collision-free function of (issuer, clientID, profile)
// (requirement 39): each field is preceded by its length as an
// 8-byte big-endian integer before hashing, so no two distinct tuples share
// an encoding ("a","bc" and "ab","c" differ), and SHA-256 keeps the name
// short and free of characters a credential store might mangle. The result is
// "v1:" followed by 43 characters of unpadded base64url.
//
// The key deliberately carries no readable profile name: it is the binding
// of issuer, client and profile, not a label, and a profile whose issuer
// changes gets a new, empty entry rather than the old grant.
func Key(issuer, clientID, profile string) string {
	return hashKey(issuer, clientID, profile)
}

// RegistrationKey returns the keychain entry name for the dynamic client
// registration of a profile's client (RFC 7591): its management token
// outlives every grant of that client, so it has an entry of its own. The
// fourth field keeps the name apart from every [Key].
func RegistrationKey(issuer, clientID, profile string) string {
	return hashKey(issuer, clientID, profile, "client registration")
}

// ClientSecretKey returns the keychain entry name for the client secret of
// a profile's client: it belongs to the client, not to one grant, so it
// outlives logins and logouts in an entry of its own, apart from every
// [Key] and [RegistrationKey].
func ClientSecretKey(issuer, clientID, profile string) string {
	return hashKey(issuer, clientID, profile, "client secret")
}

func hashKey(fields ...string) string {
	h := sha256.New()
	var n [8]byte
	for _, field := range fields {
		binary.BigEndian.PutUint64(n[:], uint64(len(field)))
		h.Write(n[:])
		h.Write([]byte(field))
	}
	return keyPrefix + base64.RawURLEncoding.EncodeToString(h.Sum(nil))
}
