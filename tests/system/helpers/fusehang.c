/* fusehang: a file system that never answers, for a workdir that hangs.
 *
 *   fusehang MOUNTPOINT
 *   fusehang -u MOUNTPOINT
 *
 * Opens /dev/fuse, mounts a "fuse" file system on MOUNTPOINT with that
 * descriptor and never reads a request from it: every access below
 * MOUNTPOINT (stat, chdir, open) waits for an answer that never comes, until
 * the waiting process gets a fatal signal. Prints "mounted" once the mount
 * is in. On SIGTERM or SIGINT it detaches the mount and exits; its exit (or
 * SIGKILL) closes the descriptor, which aborts the connection, so anything
 * still waiting fails at once. -u only detaches the mount (in this mount
 * namespace) without looking at it, where umount(8) would stat it and hang.
 * Root only. */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

static volatile sig_atomic_t stop;
static void on_signal(int sig) {
  (void)sig;
  stop = 1;
}

int main(int argc, char** argv) {
  if (argc == 3 && strcmp(argv[1], "-u") == 0) {
    if (umount2(argv[2], MNT_DETACH) == 0) return 0;
    perror("fusehang: umount2");
    return 1;
  }
  if (argc != 2) {
    fprintf(stderr, "usage: fusehang MOUNTPOINT | fusehang -u MOUNTPOINT\n");
    return 2;
  }
  int fd = open("/dev/fuse", O_RDWR | O_CLOEXEC);
  if (fd < 0) {
    perror("fusehang: /dev/fuse");
    return 1;
  }
  char options[128];
  snprintf(options, sizeof options, "fd=%d,rootmode=40000,user_id=0,group_id=0", fd);
  if (mount("fusehang", argv[1], "fuse", MS_NOSUID | MS_NODEV, options) != 0) {
    perror("fusehang: mount");
    return 1;
  }
  printf("mounted\n");
  fflush(stdout);
  struct sigaction action;
  memset(&action, 0, sizeof action);
  action.sa_handler = on_signal;
  sigaction(SIGTERM, &action, NULL);
  sigaction(SIGINT, &action, NULL);
  while (!stop) pause();
  umount2(argv[1], MNT_DETACH);
  close(fd);
  return 0;
}
