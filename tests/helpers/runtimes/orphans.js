// A Node.js PID 1 that adopts orphans and never reaps them (libuv waits only for its own children).
// Prints "tick N" every 100 ms: the job that must go on across a REAP.
const { spawnSync } = require("child_process");
spawnSync("sh", ["-c", "sleep 0.3 & sleep 0.3 & sleep 0.3 & exit 0"]);
let tick = 0;
setInterval(() => { tick += 1; process.stdout.write(`tick ${tick}\n`); }, 100);
