/* Process exits at a fixed rate, for the watch-mode benchmarks (a Python generator tops out near 800/s here).
 *
 *   exits wait RATE SECONDS   fork children that exit at once, each waited for (a parent that reaps: the common
 *                             case); prints the number made
 *   exits leak RATE SECONDS   the same, never waited for (a leaking parent): before it exits, each child writes
 *                             its pid and its death time (CLOCK_MONOTONIC, ns) as two int64 to stdout, one
 *                             record per write (atomic on a pipe); then the parent pauses; SIGTERM makes
 *                             it reap them all and exit (so a benchmark can lower pid_max again after)
 *
 * Pacing is by absolute deadlines, so a late fork is caught up rather than lost.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t stopping;

static void stop(int signum)
{
    (void)signum;
    stopping = 1;
}

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int main(int argc, char **argv)
{
    if (argc != 4 || (strcmp(argv[1], "wait") && strcmp(argv[1], "leak"))) {
        fprintf(stderr, "usage: exits wait|leak RATE SECONDS\n");
        return 2;
    }
    int leak = !strcmp(argv[1], "leak");
    double rate = atof(argv[2]), seconds = atof(argv[3]);
    if (rate <= 0 || seconds <= 0) {
        fprintf(stderr, "exits: RATE and SECONDS must be positive\n");
        return 2;
    }
    int64_t start = now_ns(), step = (int64_t)(1e9 / rate), end = start + (int64_t)(seconds * 1e9);
    long made = 0;
    signal(SIGTERM, stop);
    for (int64_t due = start; due < end && !stopping; due += step) {
        struct timespec at = {due / 1000000000, due % 1000000000};
        clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &at, NULL);
        pid_t pid = fork();
        if (pid < 0) {
            perror("exits: fork");
            return 1;
        }
        if (pid == 0) {
            if (leak) {
                int64_t record[2] = {getpid(), now_ns()};
                if (write(STDOUT_FILENO, record, sizeof record) != sizeof record)
                    _exit(1);
            }
            _exit(0);
        }
        if (!leak)
            waitpid(pid, NULL, 0);
        made++;
    }
    if (leak) {
        close(STDOUT_FILENO);
        while (!stopping)
            pause();
        while (wait(NULL) > 0)
            ;
        return 0;
    }
    printf("%ld\n", made);
    return 0;
}
