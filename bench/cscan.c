/* The practical floor: readdir(/proc), then openat + read + close of each stat, -O2.
 * Prints "<ppid> <zombies>" for every parent of zombies, sorted by ppid, like the other tools
 * the benchmark compares. With -c it prints only the number of zombies. */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int by_ppid(const void *a, const void *b)
{
    return *(const int *)a - *(const int *)b;
}

int main(int argc, char **argv)
{
    int count_only = argc > 1 && strcmp(argv[1], "-c") == 0;
    DIR *proc = opendir("/proc");
    if (!proc)
        return 4;
    int dir = dirfd(proc);
    size_t capacity = 1024, used = 0;
    int *ppids = malloc(capacity * sizeof *ppids);
    char path[300], buffer[1024];
    struct dirent *entry;
    while ((entry = readdir(proc)) != NULL) {
        if (entry->d_name[0] < '1' || entry->d_name[0] > '9')
            continue;
        snprintf(path, sizeof path, "%s/stat", entry->d_name);
        int fd = openat(dir, path, O_RDONLY);
        if (fd < 0)
            continue;
        ssize_t got = read(fd, buffer, sizeof buffer - 1);
        close(fd);
        if (got <= 0)
            continue;
        buffer[got] = 0;
        char *end = strrchr(buffer, ')');
        if (!end || end[1] != ' ' || end[2] != 'Z')
            continue;
        if (used == capacity)
            ppids = realloc(ppids, (capacity *= 2) * sizeof *ppids);
        ppids[used++] = atoi(end + 4);
    }
    closedir(proc);
    if (count_only) {
        printf("%zu\n", used);
        return 0;
    }
    qsort(ppids, used, sizeof *ppids, by_ppid);
    for (size_t i = 0; i < used;) {
        size_t j = i;
        while (j < used && ppids[j] == ppids[i])
            j++;
        printf("%d %zu\n", ppids[i], j - i);
        i = j;
    }
    return 0;
}
