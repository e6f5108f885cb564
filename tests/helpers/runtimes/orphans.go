// A Go PID 1 that adopts orphans and never reaps them (os/exec waits only for its own children).
// Prints "tick N" every 100 ms: the job that must go on across a REAP.
package main

import (
	"fmt"
	"os/exec"
	"time"
)

func main() {
	_ = exec.Command("sh", "-c", "sleep 0.3 & sleep 0.3 & sleep 0.3 & exit 0").Run()
	for tick := 1; ; tick++ {
		time.Sleep(100 * time.Millisecond)
		fmt.Printf("tick %d\n", tick)
	}
}
