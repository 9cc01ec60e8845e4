package keychain

import (
	"context"
	"errors"
	"fmt"
)

// This file reads and writes a record's entries in the layout described in
// chunk.go. Every function runs inside one Keyring operation: ctx carries
// its deadline and the operation token is held.

// readAttempts bounds how often read follows a header that changed under it.
// A writer in another process moves the header at most once per write, so
// needing more than a few attempts means something else is wrong.
const readAttempts = 3

// read returns the stored bytes of the record under key.
func (k *Keyring) read(ctx context.Context, key string) ([]byte, error) {
	head, err := k.get(ctx, key)
	if err != nil {
		return nil, err
	}
	for attempt := 1; ; attempt++ {
		h, chunked, err := parseChunkHeader(head)
		if err != nil {
			return nil, err
		}
		if !chunked {
			return []byte(head), nil
		}
		data, err := k.assemble(ctx, key, h)
		if !errors.Is(err, ErrCorrupt) {
			return data, err
		}
		// A missing chunk or a bad checksum is what a reader sees when a
		// writer in another process replaced the record and swept the old
		// slot between our reads. If the header moved, follow it.
		again, gerr := k.get(ctx, key)
		if gerr != nil {
			return nil, gerr
		}
		if again == head || attempt == readAttempts {
			return nil, err
		}
		head = again
	}
}

// assemble reads and verifies the chunks that h describes.
func (k *Keyring) assemble(ctx context.Context, key string, h chunkHeader) ([]byte, error) {
	data := make([]byte, 0, h.Len)
	for i := 1; i <= h.N; i++ {
		part, err := k.get(ctx, chunkUser(key, h.Slot, i))
		if errors.Is(err, ErrNotFound) {
			return nil, fmt.Errorf("%w: chunk %d of %d is missing", ErrCorrupt, i, h.N)
		}
		if err != nil {
			return nil, err
		}
		if len(data)+len(part) > h.Len {
			return nil, fmt.Errorf("%w: chunked record is longer than its header says", ErrCorrupt)
		}
		data = append(data, part...)
	}
	if err := h.verify(data); err != nil {
		return nil, err
	}
	return data, nil
}

// write stores data under key, replacing what was there so that a failure
// or a crash at any point leaves either the old or the new record readable.
func (k *Keyring) write(ctx context.Context, key, label string, data []byte) error {
	old, err := k.currentChunks(ctx, key)
	if err != nil {
		return err
	}
	if len(data) <= k.limit {
		if err := k.set(ctx, key, label, string(data)); err != nil {
			return err
		}
		k.cleanUp(ctx, key, old, "", 0)
		return nil
	}
	parts := splitChunks(data, k.limit)
	if len(parts) > maxChunks {
		return fmt.Errorf("%w: %d bytes would need %d entries of %d bytes, and at most %d are allowed",
			ErrTooLarge, len(data), len(parts), k.limit, maxChunks)
	}
	slot := otherSlot(old)
	header := newChunkHeader(slot, len(parts), data).String()
	if len(header) > k.limit {
		return fmt.Errorf("%w: an entry of %d bytes cannot hold the chunk header", ErrTooLarge, k.limit)
	}
	// The new slot is not referenced by the current header, so these
	// writes are invisible until the header below names them.
	for i, part := range parts {
		if err := k.set(ctx, chunkUser(key, slot, i+1), chunkLabel(label, i+1, len(parts)), part); err != nil {
			return err
		}
	}
	if err := k.set(ctx, key, label, header); err != nil {
		return err
	}
	k.cleanUp(ctx, key, old, slot, len(parts))
	return nil
}

// currentChunks returns the header now stored under key, or nil when the
// entry is missing or holds a whole record. A header that claims to be one
// but cannot be read is reported as an empty slot "b", so the new chunks go
// to slot "a" and slot "b" is swept afterwards: the record is being replaced
// anyway, and a damaged header must not block that.
func (k *Keyring) currentChunks(ctx context.Context, key string) (*chunkHeader, error) {
	head, err := k.get(ctx, key)
	if errors.Is(err, ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	h, chunked, err := parseChunkHeader(head)
	switch {
	case !chunked:
		return nil, nil
	case err != nil:
		return &chunkHeader{Slot: slots[1]}, nil
	}
	return &h, nil
}

// cleanUp deletes chunks that the header just written no longer references:
// the old slot, and any leftovers in the new slot beyond its n chunks. It is
// best effort: the new record is already stored and readable, so a failure
// here only leaves unreferenced entries, which a later write into the same
// slot overwrites and Delete removes. Reporting it would make a caller
// believe the save failed (requirement 26).
func (k *Keyring) cleanUp(ctx context.Context, key string, old *chunkHeader, slot string, n int) {
	if slot != "" {
		_ = k.sweep(ctx, key, slot, n+1, 0)
	}
	if old != nil {
		_ = k.sweep(ctx, key, old.Slot, 1, old.N)
	}
}

// sweep deletes chunks from..k of slot, where k is the highest chunk
// present. Chunks up to present are known to exist, so probing starts above
// them. Deleting from the top down keeps the slot's chunks a prefix #1…#j
// even if this is interrupted (see chunk.go).
func (k *Keyring) sweep(ctx context.Context, key, slot string, from, present int) error {
	top := max(present, from-1)
	for top < maxChunks {
		_, err := k.get(ctx, chunkUser(key, slot, top+1))
		if errors.Is(err, ErrNotFound) {
			break
		}
		if err != nil {
			return err
		}
		top++
	}
	for i := top; i >= from; i-- {
		if err := k.del(ctx, chunkUser(key, slot, i)); err != nil && !errors.Is(err, ErrNotFound) {
			return err
		}
	}
	return nil
}
