package keychain

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Layout of a record in the OS keychain.
//
// A record that fits the platform's per-entry limit is stored whole, as its
// JSON, in the entry named by its key. A larger one is split: the key's entry
// then holds a small header,
//
//	sesame-chunked:{"slot":"a","n":3,"len":7012,"sum":"<sha-256 hex>"}
//
// and the entries key#a#1 … key#a#3 hold consecutive pieces of the JSON.
// Nothing is ever truncated (requirement 39).
//
// # Crash safety
//
// Each entry is replaced atomically by the store, but a chunked record spans
// several entries, and a process may die between any two writes. Chunks are
// therefore written into one of two slots, "a" and "b", always the slot the
// current header does not use. The header is written last, and only then are
// the old slot's chunks deleted. So at every instant the header names a slot
// whose chunks are complete: before the header write, the old header and its
// untouched slot; after it, the new header and the slot just written. A
// reader that finds a missing chunk or a bad checksum (a concurrent writer
// moved the header and cleaned up) re-reads the header before giving up.
//
// Chunks in a slot are written in ascending order and deleted in descending
// order, so the chunks present in a slot are always #1…#k for some k. That
// lets a sweep find them all by probing upward from a known count, and
// leftovers of an interrupted write are overwritten by the next write into
// that slot and swept after it. Delete removes the header first (the record
// vanishes at once for readers), then sweeps both slots.
const chunkedPrefix = "sesame-chunked:"

// slots are the two chunk generations a chunked record alternates between.
var slots = [2]string{"a", "b"}

// chunkHeader is the value of the key's entry when the record is chunked.
type chunkHeader struct {
	Slot string `json:"slot"`
	N    int    `json:"n"`
	Len  int    `json:"len"`
	Sum  string `json:"sum"`
}

// newChunkHeader describes data stored in n chunks of slot.
func newChunkHeader(slot string, n int, data []byte) chunkHeader {
	sum := sha256.Sum256(data)
	return chunkHeader{Slot: slot, N: n, Len: len(data), Sum: hex.EncodeToString(sum[:])}
}

func (h chunkHeader) String() string {
	b, _ := json.Marshal(h) // cannot fail: strings and ints only
	return chunkedPrefix + string(b)
}

// otherSlot is the slot a new chunked write goes to, given the header found
// in the store (nil when the store held a whole record or nothing).
func otherSlot(old *chunkHeader) string {
	if old != nil && old.Slot == slots[0] {
		return slots[1]
	}
	return slots[0]
}

// parseChunkHeader reads a header value. ok is false when v is not a header
// at all (a whole record); err is set when it claims to be one but is not
// well formed.
func parseChunkHeader(v string) (h chunkHeader, ok bool, err error) {
	rest, ok := strings.CutPrefix(v, chunkedPrefix)
	if !ok {
		return h, false, nil
	}
	if err := json.Unmarshal([]byte(rest), &h); err != nil {
		return h, true, fmt.Errorf("%w: unreadable chunk header", ErrCorrupt)
	}
	sum, err := hex.DecodeString(h.Sum)
	switch {
	case h.Slot != slots[0] && h.Slot != slots[1]:
		return h, true, fmt.Errorf("%w: chunk header names unknown slot", ErrCorrupt)
	case h.N < 1 || h.N > maxChunks:
		return h, true, fmt.Errorf("%w: chunk header claims %d chunks", ErrCorrupt, h.N)
	case h.Len < h.N || err != nil || len(sum) != sha256.Size:
		return h, true, fmt.Errorf("%w: malformed chunk header", ErrCorrupt)
	}
	return h, true, nil
}

// verify checks reassembled data against the header.
func (h chunkHeader) verify(data []byte) error {
	sum := sha256.Sum256(data)
	if len(data) != h.Len || hex.EncodeToString(sum[:]) != h.Sum {
		return fmt.Errorf("%w: chunked record fails its checksum", ErrCorrupt)
	}
	return nil
}

// chunkUser is the entry name of chunk i (from 1) of slot for key.
func chunkUser(key, slot string, i int) string {
	return key + "#" + slot + "#" + strconv.Itoa(i)
}

// splitChunks cuts data into pieces of at most limit bytes, each ending on a
// UTF-8 boundary: go-keyring hands values around as strings, and a backend
// that validates or re-encodes text (the Secret Service's content type is
// text/plain; charset=utf8) must never see half a character. The record's
// JSON is valid UTF-8, so every piece is too.
func splitChunks(data []byte, limit int) []string {
	var parts []string
	for len(data) > 0 {
		n := min(limit, len(data))
		if n < len(data) {
			for back := n; back > n-utf8.UTFMax && back > 0; back-- {
				if utf8.RuneStart(data[back]) {
					n = back
					break
				}
			}
		}
		parts = append(parts, string(data[:n]))
		data = data[n:]
	}
	return parts
}
