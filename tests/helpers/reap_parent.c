/* A zombie parent in C for the REAP rung's tests: it leaves N zombies, then does one job
 * whose correctness the test checks afterwards.
 *
 *   reap_parent MODE ZOMBIES [ARG]
 *     pause           pause() in a loop; reports each SIGUSR1 (count and sender) when pause returns
 *     read            read() stdin, echo "got <data>"; any EINTR is an error: exit 3
 *     sleep SECONDS   one nanosleep(SECONDS); then reports how long it really slept
 *     spin ITERATIONS a loop with no syscalls; then reports "spun"
 *     multi           like pause, but from a second thread after the main thread has exited
 *     seccomp         like pause, under a seccomp filter that kills the process on wait4
 *     vfork SECONDS   vfork() a child that sleeps SECONDS before it exits (the parent waits in
 *                     uninterruptible sleep meanwhile), then report "vforked" and pause
 *     sigsuspend      SIGUSR1 blocked, sigsuspend() with it unblocked in a loop; reports each
 *                     wake-up and whether SIGUSR1 is blocked again afterwards (it must be)
 *     rseq            spin inside an rseq critical section (glibc's registration; x86_64 and
 *                     aarch64) until SIGUSR1, re-entering it after each abort; then report
 *                     "left-rseq aborts=N" and pause
 *
 * REAP_PARENT_SIGTRAP=blocked|ignored in the environment: the subject blocks or ignores SIGTRAP
 * (on x86_64 that moves the reaper off its single-step path; it must leave both as they were).
 *
 * It runs below a monitor (its own parent, this same program) that reports every stop or
 * continue event and every SIGCHLD it sees of it: a clean REAP produces none.
 * Lines: "ready <pid>" once the zombies are defunct, then the mode's reports.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <stddef.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/rseq.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t usr1_count;
static volatile sig_atomic_t usr1_sender;
static volatile sig_atomic_t chld_count;

static void on_usr1(int signo, siginfo_t *info, void *context)
{
    (void)signo;
    (void)context;
    usr1_count++;
    usr1_sender = info->si_pid;
}

static void on_chld(int signo)
{
    (void)signo;
    chld_count++;
}

static void say(const char *format, long a, long b)
{
    char line[128];
    int length = snprintf(line, sizeof line, format, a, b);
    if (write(STDOUT_FILENO, line, (size_t)length) < 0)
        _exit(4);
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void make_zombies(long count)
{
    for (long i = 0; i < count; i++) {
        pid_t pid = fork();
        if (pid < 0) {
            perror("fork");
            exit(5);
        }
        if (pid == 0) {
            prctl(PR_SET_NAME, "sshd", 0, 0, 0);
            _exit(0);
        }
        siginfo_t info;
        /* WNOWAIT: wait until it is defunct, but leave it a zombie */
        waitid(P_PID, (id_t)pid, &info, WEXITED | WNOWAIT);
    }
}

static void pause_forever(void)
{
    for (;;) {
        pause();
        say("woke usr1=%ld from=%ld\n", usr1_count, usr1_sender);
    }
}

static void kill_on_wait4(void)
{
    struct sock_filter filter[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_wait4, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    struct sock_fprog program = {sizeof filter / sizeof filter[0], filter};
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 || prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &program) != 0) {
        perror("seccomp");
        exit(6);
    }
}

static void *second_thread(void *unused)
{
    (void)unused;
    /* glibc has restored this thread's signal mask before calling us: from here it is final. */
    say("thread ready\n", 0, 0);
    pause_forever();
    return NULL;
}

static void sigsuspend_forever(void)
{
    sigset_t usr1, during, after;
    sigemptyset(&usr1);
    sigaddset(&usr1, SIGUSR1);
    sigprocmask(SIG_BLOCK, &usr1, NULL);
    sigprocmask(SIG_BLOCK, NULL, &during);
    sigdelset(&during, SIGUSR1);
    for (;;) {
        sigsuspend(&during);
        sigprocmask(SIG_BLOCK, NULL, &after);
        say("woke usr1=%ld blocked=%ld\n", usr1_count, sigismember(&after, SIGUSR1));
    }
}

static volatile sig_atomic_t leave_rseq;

static void on_usr1_leave(int signo)
{
    (void)signo;
    leave_rseq = 1;
}

/* The section's descriptor (struct rseq_cs at label 3: version, flags, start 1, length to 2, abort 4). */
#define RSEQ_CS_DESCRIPTOR                                                                                 \
    ".pushsection __rseq_cs, \"aw\"\n"                                                                     \
    ".balign 32\n"                                                                                         \
    "3: .long 0, 0\n"                                                                                      \
    "   .quad 1f, 2f - 1f, 4f\n"                                                                           \
    ".popsection\n"

/* Spin in a critical section [1, 2) until leave_rseq; the kernel aborts it (to 4) whenever the
 * thread is preempted or gets a signal, and the abort handler re-arms it and goes back in. */
static long spin_in_rseq_critical_section(void)
{
    long aborts = 0;
    if (__rseq_size == 0)
        return -1; /* glibc did not register rseq */
    struct rseq *area = (struct rseq *)((char *)__builtin_thread_pointer() + __rseq_offset);
#if defined(__x86_64__)
    __asm__ __volatile__(
        RSEQ_CS_DESCRIPTOR
        "   leaq 3b(%%rip), %%rax\n"
        "   movq %%rax, 8(%[area])\n"
        "1: cmpl $0, %[leave]\n"
        "   je 1b\n"
        "2: jmp 5f\n"
        "   .long 0x53053053\n" /* RSEQ_SIG before the abort handler */
        "4: incq %[aborts]\n"
        "   leaq 3b(%%rip), %%rax\n"
        "   movq %%rax, 8(%[area])\n"
        "   jmp 1b\n"
        "5:\n"
        : [aborts] "+m"(aborts)
        : [area] "r"(area), [leave] "m"(leave_rseq)
        : "rax", "memory", "cc");
#elif defined(__aarch64__)
    __asm__ __volatile__(
        RSEQ_CS_DESCRIPTOR
        "   adrp x9, 3b\n"
        "   add x9, x9, :lo12:3b\n"
        "   str x9, [%[area], #8]\n"
        "1: ldr w10, [%[leave]]\n"
        "   cbz w10, 1b\n"
        "2: b 5f\n"
        "   .inst 0xd428bc00\n" /* RSEQ_SIG before the abort handler */
        "4: ldr x11, [%[aborts]]\n"
        "   add x11, x11, #1\n"
        "   str x11, [%[aborts]]\n"
        "   adrp x9, 3b\n"
        "   add x9, x9, :lo12:3b\n"
        "   str x9, [%[area], #8]\n"
        "   b 1b\n"
        "5:\n"
        :
        : [area] "r"(area), [leave] "r"(&leave_rseq), [aborts] "r"(&aborts)
        : "x9", "x10", "x11", "memory", "cc");
#else
    (void)area;
    return -1;
#endif
    return aborts;
}

static void hold_sigtrap(const char *how)
{
    if (how != NULL && strcmp(how, "blocked") == 0) {
        sigset_t trap;
        sigemptyset(&trap);
        sigaddset(&trap, SIGTRAP);
        sigprocmask(SIG_BLOCK, &trap, NULL);
    } else if (how != NULL && strcmp(how, "ignored") == 0) {
        signal(SIGTRAP, SIG_IGN);
    }
}

static int subject(const char *mode, long zombies, const char *arg)
{
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_sigaction = on_usr1;
    action.sa_flags = SA_SIGINFO; /* no SA_RESTART: a delivered signal interrupts read() */
    sigaction(SIGUSR1, &action, NULL);
    hold_sigtrap(getenv("REAP_PARENT_SIGTRAP"));
    make_zombies(zombies);
    say("ready %ld\n", (long)getpid(), 0);
    if (strcmp(mode, "pause") == 0) {
        pause_forever();
    } else if (strcmp(mode, "rseq") == 0) {
        signal(SIGUSR1, on_usr1_leave);
        long aborts = spin_in_rseq_critical_section();
        if (aborts < 0) {
            say("no-rseq\n", 0, 0);
            return 2;
        }
        say("left-rseq aborts=%ld\n", aborts, 0);
        pause_forever();
    } else if (strcmp(mode, "sigsuspend") == 0) {
        sigsuspend_forever();
    } else if (strcmp(mode, "seccomp") == 0) {
        kill_on_wait4();
        pause_forever();
    } else if (strcmp(mode, "read") == 0) {
        char buffer[256];
        for (;;) {
            ssize_t got = read(STDIN_FILENO, buffer, sizeof buffer - 1);
            if (got < 0) {
                say("EINTR in read errno=%ld\n", errno, 0);
                return 3;
            }
            if (got == 0)
                return 0;
            buffer[got] = 0;
            if (write(STDOUT_FILENO, "got ", 4) < 0 || write(STDOUT_FILENO, buffer, (size_t)got) < 0)
                return 4;
        }
    } else if (strcmp(mode, "sleep") == 0) {
        double seconds = atof(arg);
        struct timespec request = {(time_t)seconds, (long)((seconds - (time_t)seconds) * 1e9)};
        double start = now();
        int rc = nanosleep(&request, NULL);
        say("slept ms=%ld rc=%ld\n", (long)((now() - start) * 1000), rc == 0 ? 0 : errno);
        pause_forever();
    } else if (strcmp(mode, "spin") == 0) {
        volatile unsigned long counter = 0;
        unsigned long iterations = strtoul(arg, NULL, 10);
        while (counter < iterations)
            counter++;
        say("spun %ld\n", (long)counter, 0);
        pause_forever();
    } else if (strcmp(mode, "vfork") == 0) {
        pid_t child = vfork();
        if (child == 0) {
            struct timespec nap = {(time_t)atof(arg), 0};
            nanosleep(&nap, NULL);
            _exit(0);
        }
        say("vforked %ld\n", (long)child, 0);
        pause_forever();
    } else if (strcmp(mode, "multi") == 0) {
        pthread_t thread;
        pthread_create(&thread, NULL, second_thread, NULL);
        pthread_exit(NULL); /* the leader exits; the process lives on in the second thread */
    }
    return 2;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: %s pause|read|sleep S|spin N|multi|seccomp|vfork S|sigsuspend|rseq ZOMBIES [ARG]\n",
                argv[0]);
        return 2;
    }
    setvbuf(stdout, NULL, _IONBF, 0);
    signal(SIGCHLD, on_chld);
    pid_t child = fork();
    if (child == 0) {
        signal(SIGCHLD, SIG_DFL);
        return subject(argv[1], atol(argv[2]), argc > 3 ? argv[3] : "");
    }
    /* The monitor: the subject's own parent. Any stop or continue it sees is a defect. */
    prctl(PR_SET_NAME, "reap-monitor", 0, 0, 0);
    for (;;) {
        int status;
        pid_t got = waitpid(child, &status, WUNTRACED | WCONTINUED);
        if (got < 0 && errno == EINTR) {
            continue;
        }
        if (got < 0)
            return 0;
        if (WIFSTOPPED(status))
            say("monitor-event stopped sig=%ld chld=%ld\n", WSTOPSIG(status), chld_count);
        else if (WIFCONTINUED(status))
            say("monitor-event continued chld=%ld\n", chld_count, 0);
        else {
            say("monitor-event exited status=%ld chld=%ld\n", status, chld_count);
            return 0;
        }
    }
}
