package routing

import (
	"hash/maphash"
	"maps"
)

// serviceParts are a group's services by id, split by hash into shards,
// so that an update copies the array of shards and the shard of each
// service it changes (a few kilobytes) rather than a map of every service
// of the group (half a megabyte at 10 000 services, on every publish).
// Once a table holding it is built, it never changes.
type serviceParts struct {
	shards [serviceShards]map[string]*servicePart
	n      int
	// canaries are the ids of the canaries of the services running one,
	// by service id: few, and asked for on every update.
	canaries map[string]string
	// selectors are the selectors of the services routing versions by
	// header or query, by service id: few, and read on every update.
	selectors map[string]*versionSelector
	// names are the ids of the services by project and name (nameKey),
	// sharded by that key: what composite backends call them by
	// (calltargets.go).
	names [serviceShards]map[string]string
}

const serviceShards = 64

// serviceSeed places ids in shards; any seed will do, as long as every
// table of the process uses the same.
var serviceSeed = maphash.MakeSeed()

func serviceShard(id string) int {
	return int(maphash.String(serviceSeed, id) % serviceShards)
}

func (s *serviceParts) get(id string) *servicePart {
	return s.shards[serviceShard(id)][id]
}

// serviceEdit changes a copy of serviceParts, copying each shard it
// changes once.
type serviceEdit struct {
	s               *serviceParts
	copied          uint64 // shards (bit i) this edit made, which it may change
	copiedNames     uint64 // the same of names' shards
	copiedCanaries  bool
	copiedSelectors bool
}

// editServices starts a copy of from (nil: none) to change.
func editServices(from *serviceParts) *serviceEdit {
	s := &serviceParts{}
	if from != nil {
		*s = *from
	}
	return &serviceEdit{s: s}
}

func (e *serviceEdit) shard(id string) map[string]*servicePart {
	i := serviceShard(id)
	if e.copied&(1<<i) == 0 {
		e.s.shards[i] = maps.Clone(e.s.shards[i])
		if e.s.shards[i] == nil {
			e.s.shards[i] = map[string]*servicePart{}
		}
		e.copied |= 1 << i
	}
	return e.s.shards[i]
}

func (e *serviceEdit) set(id string, sp *servicePart) {
	m := e.shard(id)
	old, had := m[id]
	if !had {
		e.s.n++
	}
	m[id] = sp
	e.renamed(id, old, sp)
	if (had && old.selector != nil) || sp.selector != nil {
		if c := e.selectors(); sp.selector == nil {
			delete(c, id)
		} else {
			c[id] = sp.selector
		}
	}
	if (had && old.canaryID != "") || sp.canaryID != "" {
		if c := e.canaries(); sp.canaryID == "" {
			delete(c, id)
		} else {
			c[id] = sp.canaryID
		}
	}
}

func (e *serviceEdit) remove(id string) {
	m := e.shard(id)
	if old, had := m[id]; had {
		e.s.n--
		delete(m, id)
		e.renamed(id, old, nil)
		if old.canaryID != "" {
			delete(e.canaries(), id)
		}
		if old.selector != nil {
			delete(e.selectors(), id)
		}
	}
}

func (e *serviceEdit) canaries() map[string]string {
	if !e.copiedCanaries {
		e.s.canaries = maps.Clone(e.s.canaries)
		if e.s.canaries == nil {
			e.s.canaries = map[string]string{}
		}
		e.copiedCanaries = true
	}
	return e.s.canaries
}

func (e *serviceEdit) selectors() map[string]*versionSelector {
	if !e.copiedSelectors {
		e.s.selectors = maps.Clone(e.s.selectors)
		if e.s.selectors == nil {
			e.s.selectors = map[string]*versionSelector{}
		}
		e.copiedSelectors = true
	}
	return e.s.selectors
}
