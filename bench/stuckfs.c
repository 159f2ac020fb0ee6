/* stuckfs: a file system that never answers, for the load benchmark. A
 * workdir on a hung network or FUSE mount is what a real host meets; any
 * process that touches it blocks until the mount's server replies, and a
 * daemon that waits for such a process on its only thread stops watching
 * memory meanwhile.
 *
 *   stuckfs DIR
 *
 * Opens /dev/fuse, mounts a FUSE file system on DIR with that descriptor, and
 * then sleeps forever without reading it: the kernel's first request (INIT)
 * is never answered, so every lookup under DIR, and stat of DIR itself,
 * waits. Needs root. Prints "mounted" once DIR is mounted.
 *
 * To undo: kill this process (closing the descriptor aborts the connection:
 * every waiting process gets ENOTCONN; a waiting process also dies on
 * SIGKILL), then umount -l DIR. Look at the mount only through
 * /proc/self/mounts: stat, ls, mountpoint or df on DIR hang. */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

int main(int argc, char** argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: stuckfs DIR\n");
    return 2;
  }
  int fd = open("/dev/fuse", O_RDWR | O_CLOEXEC);
  if (fd < 0) {
    perror("stuckfs: /dev/fuse");
    return 1;
  }
  char options[128];
  snprintf(options, sizeof options, "fd=%d,rootmode=40000,user_id=0,group_id=0", fd);
  if (mount("stuckfs", argv[1], "fuse", MS_NOSUID | MS_NODEV, options) != 0) {
    perror("stuckfs: mount");
    return 1;
  }
  printf("mounted\n");
  fflush(stdout);
  for (;;) pause();
}
