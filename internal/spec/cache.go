package spec

import "time"

// CachePurges are the purges of a service's proxy-cache in one gateway
// group, carried by its deployment in the group's snapshot: a purge is a
// revision like any other change, so every gateway of the group, embedded
// or stand-alone, learns of it from its configuration.
type CachePurges struct {
	// Epoch is part of every cache key of the service; purging the whole
	// service sets a new one, so nothing stored before is found again.
	Epoch string `json:"epoch,omitempty"`
	// Keys are the latest purges of single keys (at most
	// MaxPurgedCacheKeys, the oldest dropped first): each gateway deletes
	// each of them once.
	Keys []PurgedCacheKey `json:"keys,omitempty"`
}

// PurgedCacheKey is one key purged at a time.
type PurgedCacheKey struct {
	Key string    `json:"key"` // as X-Cache-Key shows it: 32 hex digits
	At  time.Time `json:"at"`
}

// MaxPurgedCacheKeys bounds the purged keys a service's deployment
// carries; a gateway that missed more purges than that while
// disconnected still drops every key the current list names.
const MaxPurgedCacheKeys = 100

// ValidCacheKey reports whether s is a cache key as X-Cache-Key shows
// it: 32 lower-case hex digits.
func ValidCacheKey(s string) bool {
	if len(s) != 32 {
		return false
	}
	for i := range len(s) {
		if c := s[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}
