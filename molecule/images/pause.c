/* The pod sandbox's process, as Kubernetes' pause does it: hold the pod's namespaces, reap any child
 * (a pod that shares its PID namespace makes this PID 1), exit on SIGINT or SIGTERM.
 * Built static so that its image needs nothing else (molecule/images/pods.sh). */
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

static void stop(int sig) { (void)sig; _exit(0); }

static void reap(int sig)
{
    (void)sig;
    while (waitpid(-1, NULL, WNOHANG) > 0)
        ;
}

int main(void)
{
    struct sigaction act = {0};
    act.sa_handler = stop;
    sigaction(SIGINT, &act, NULL);
    sigaction(SIGTERM, &act, NULL);
    act.sa_handler = reap;
    act.sa_flags = SA_NOCLDSTOP | SA_RESTART;
    sigaction(SIGCHLD, &act, NULL);
    for (;;)
        pause();
    return 0;
}
