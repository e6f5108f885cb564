/* A synthetic process table for the benchmarks, meant to run as PID 1 of a private PID
 * namespace (`unshare --pid --fork --mount-proc fleet ...`), so nothing else can be touched.
 *
 *   fleet SLEEPERS ZOMBIES PARENTS
 *
 * Forks SLEEPERS processes that pause(), and PARENTS non-reaping parents that share ZOMBIES
 * zombie children between them; every 50th process gets a hostile name (spaces, ')', a
 * newline). Prints "ready <processes> <zombies>" once every zombie is defunct. As PID 1 it
 * reaps what it adopts (the zombies of a parent that is killed) and prints "cleared" once it
 * has collected all of them. Closing its stdin ends it, and with it the whole namespace.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *HOSTILE[] = {"evil) Z (x", "with space", "new\nline", ") )", "Z"};

static void name_self(long index, const char *plain)
{
    const char *name = index % 50 == 7 ? HOSTILE[(index / 50) % 5] : plain;
    prctl(PR_SET_NAME, name, 0, 0, 0);
}

static pid_t fork_or_die(void)
{
    pid_t pid = fork();
    if (pid < 0) {
        perror("fork");
        exit(5);
    }
    return pid;
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: %s SLEEPERS ZOMBIES PARENTS\n", argv[0]);
        return 2;
    }
    long sleepers = atol(argv[1]), zombies = atol(argv[2]), parents = atol(argv[3]);
    if (zombies > 0 && parents < 1) {
        fprintf(stderr, "zombies need at least one parent\n");
        return 2;
    }
    setvbuf(stdout, NULL, _IONBF, 0);
    for (long i = 0; i < sleepers; i++) {
        if (fork_or_die() == 0) {
            name_self(i, "sleeper");
            for (;;)
                pause();
        }
    }
    int ready_pipe[2];
    if (pipe(ready_pipe) != 0)
        return 5;
    for (long p = 0; p < parents; p++) {
        long mine = zombies / parents + (p < zombies % parents ? 1 : 0);
        if (fork_or_die() == 0) {
            name_self(p, "leaky-parent");
            close(ready_pipe[0]);
            for (long z = 0; z < mine; z++) {
                pid_t child = fork_or_die();
                if (child == 0) {
                    name_self(z, "sshd");
                    _exit(0);
                }
                siginfo_t info;
                waitid(P_PID, (id_t)child, &info, WEXITED | WNOWAIT); /* defunct, and left so */
            }
            char done = 1;
            if (write(ready_pipe[1], &done, 1) != 1)
                _exit(5);
            close(ready_pipe[1]);
            for (;;)
                pause();
        }
    }
    close(ready_pipe[1]);
    for (long p = 0; p < parents; p++) {
        char done;
        if (read(ready_pipe[0], &done, 1) != 1)
            return 5;
    }
    printf("ready %ld %ld\n", sleepers + parents + zombies + 1, zombies);
    /* Reap what we adopt; end when stdin closes. */
    long reaped = 0;
    int cleared = zombies == 0;
    for (;;) {
        struct pollfd in = {STDIN_FILENO, POLLIN, 0};
        int ready = poll(&in, 1, 20);
        if (ready > 0) {
            char buffer[64];
            if (read(STDIN_FILENO, buffer, sizeof buffer) <= 0)
                return 0;
        }
        while (waitpid(-1, NULL, WNOHANG) > 0)
            reaped++;
        if (!cleared && reaped >= zombies) {
            cleared = 1;
            printf("cleared %ld\n", reaped);
        }
    }
}
