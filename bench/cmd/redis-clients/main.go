// Command redis-clients measures the two Redis client libraries the Redis
// broker could use, github.com/redis/rueidis and github.com/redis/go-redis/v9,
// on the broker's own operations: the publish script (XADD to the topic's
// stream plus SPUBLISH, one EVALSHA) from many goroutines at once, and one
// goroutine's round trip. It prints one line per library and operation.
//
//	redis-clients -addr 127.0.0.1:6379 -ops 200000 -workers 64
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/redis/rueidis"
)

// script is the shape of the broker's publish: bump the offset, append to
// the stream, publish to the shard channel.
const script = `
local o = redis.call('hincrby', KEYS[1], 'o', 1)
redis.call('xadd', KEYS[2], 'MAXLEN', '~', 256, '0-' .. o, 'd', ARGV[1])
redis.call('spublish', KEYS[3], ARGV[1])
return o`

func main() {
	addr := flag.String("addr", "127.0.0.1:6379", "Redis address")
	ops := flag.Int("ops", 200000, "operations per library and test")
	workers := flag.Int("workers", 64, "concurrent goroutines")
	flag.Parse()
	ctx := context.Background()
	payload := make([]byte, 100)

	rue, err := rueidis.NewClient(rueidis.ClientOption{InitAddress: []string{*addr}, DisableCache: true})
	if err != nil {
		log.Fatal(err)
	}
	defer rue.Close()
	gor := redis.NewClient(&redis.Options{Addr: *addr, PoolSize: *workers})
	defer func() { _ = gor.Close() }()
	lua := rueidis.NewLuaScript(script)
	gs := redis.NewScript(script)

	for round := range 2 { // interleave to share the machine's noise
		for _, lib := range []string{"rueidis", "go-redis"} {
			keys := func(i int) []string {
				t := "bench" + strconv.Itoa(i%16) + "-" + strconv.Itoa(round)
				return []string{"{" + t + "}:m", "{" + t + "}:s", "{" + t + "}"}
			}
			do := func(i int) error {
				if lib == "rueidis" {
					return lua.Exec(ctx, rue, keys(i), []string{string(payload)}).Error()
				}
				return gs.Run(ctx, gor, keys(i), payload).Err()
			}
			rate := parallel(*ops, *workers, do)
			lat := serial(*ops/20, do)
			fmt.Printf("round %d %-9s publish-script %8.0f ops/s with %d goroutines; one goroutine p50 %6.1f µs p99 %6.1f µs\n",
				round, lib, rate, *workers, lat[0], lat[1])
		}
	}
}

// parallel runs n calls of do over workers goroutines and returns calls/s.
func parallel(n, workers int, do func(int) error) float64 {
	var next atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for range workers {
		wg.Go(func() {
			for {
				i := int(next.Add(1))
				if i > n {
					return
				}
				if err := do(i); err != nil {
					log.Fatal(err)
				}
			}
		})
	}
	wg.Wait()
	return float64(n) / time.Since(start).Seconds()
}

// serial runs n calls of do one after another and returns p50 and p99 in µs.
func serial(n int, do func(int) error) [2]float64 {
	d := make([]float64, n)
	for i := range n {
		t := time.Now()
		if err := do(i); err != nil {
			log.Fatal(err)
		}
		d[i] = float64(time.Since(t).Nanoseconds()) / 1e3
	}
	slices.Sort(d)
	return [2]float64{d[n/2], d[n*99/100]}
}
