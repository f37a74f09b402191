package openapi

import (
	"runtime"
	"sync"
	"sync/atomic"
)

// parallel calls f(0) … f(n-1) over GOMAXPROCS goroutines (the calls must
// be independent) and answers the error of the lowest i that failed. Once
// one fails no new call starts. A panic in a call is raised again in the
// caller's goroutine, where Import recovers it as it would without the
// goroutines.
func parallel(n int, f func(i int) error) error {
	workers := min(runtime.GOMAXPROCS(0), n)
	if workers <= 1 {
		for i := range n {
			if err := f(i); err != nil {
				return err
			}
		}
		return nil
	}
	var (
		next     atomic.Int64
		stop     atomic.Bool
		wg       sync.WaitGroup
		mu       sync.Mutex
		first    = n
		firstErr error
		panicked any
	)
	for range workers {
		wg.Go(func() {
			defer func() {
				if v := recover(); v != nil {
					stop.Store(true)
					mu.Lock()
					if panicked == nil {
						panicked = v
					}
					mu.Unlock()
				}
			}()
			for !stop.Load() {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				if err := f(i); err != nil {
					stop.Store(true)
					mu.Lock()
					if i < first {
						first, firstErr = i, err
					}
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	if panicked != nil {
		panic(panicked)
	}
	return firstErr
}
